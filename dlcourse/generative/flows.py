r"""Normalizing flows with affine coupling layers (Notes §4.3; Dinh et al., RealNVP).

A flow is a chain of invertible maps f = f_K ∘ … ∘ f_1 from the data x to a code z = f(x) with a standard normal
density. By the change of variables the data's density is exact:

.. math:: \log p(x) = \log \mathcal N\big(f(x); 0, I\big) + \sum_k \log\big|\det \partial f_k / \partial h_{k-1}\big|

An affine coupling layer keeps the coordinates picked by a binary ``mask`` and transforms the others with a scale and
shift computed from the kept ones, so its Jacobian is triangular and its log-determinant is the sum of the log-scales.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor

__all__ = ["affine_coupling", "AffineCoupling", "CouplingFlow"]


def affine_coupling(x: torch.Tensor, mask: torch.Tensor, s: torch.Tensor, t: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The affine coupling map (Notes §4.3) given the log-scale ``s`` and shift ``t`` that the layer's networks
    computed from the kept part :math:`m \odot x`:

    .. math:: y = m \odot x + (1 - m) \odot (x \odot e^{s} + t), \qquad \log|\det J| = \sum_j (1 - m_j) s_j

    Shape: ``x``, ``s``, ``t`` (N, D), ``mask`` (D,) of 0/1 (1 = kept); returns ``(y, log_det)``, (N, D) and (N,).
    """
    check_tensor(x, "x", ndim=2, floating=True)
    for name, v in (("s", s), ("t", t)):
        check_tensor(v, name, ndim=2, floating=True)
        if v.shape != x.shape:
            raise ValueError(f"{name} must have the shape of x {tuple(x.shape)}, got {tuple(v.shape)}")
    check_tensor(mask, "mask", ndim=1)
    if mask.shape[0] != x.shape[1]:
        raise ValueError(f"mask must have {x.shape[1]} entries (one per coordinate of x), got {mask.shape[0]}")
    free = 1.0 - mask
    y = mask * x + free * (x * torch.exp(s) + t)    # y = m⊙x + (1−m)⊙(x⊙e^s + t)
    return y, (free * s).sum(dim=1)                 # log|det J| = Σ (1−m)⊙s


class AffineCoupling(nn.Module):
    r"""One affine coupling layer (Notes §4.3) on vectors of ``dim`` coordinates.

    With :math:`m` the binary ``mask`` (1 = kept), :math:`s, t` small MLPs of the kept part :math:`m \odot x`:

    .. math::
        y = m \odot x + (1 - m) \odot \big(x \odot e^{s(m\odot x)} + t(m \odot x)\big), \qquad
        \log|\det J| = \sum_j (1 - m_j)\, s_j(m \odot x)

    The log-scale is bounded, :math:`s = \text{scale}\cdot\tanh(\cdot)`, which keeps early training stable.

    Shape: ``forward(x)`` with x (N, dim) returns ``(y, log_det)`` with y (N, dim), log_det (N,);
    ``inverse(y)`` returns x (N, dim).
    """

    def __init__(self, dim: int, mask: torch.Tensor, hidden: int = 64, max_log_scale: float = 2.0) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        hidden = check_positive_int(hidden, "hidden")
        mask = torch.as_tensor(mask, dtype=torch.float32)
        if mask.shape != (dim,) or not torch.all((mask == 0) | (mask == 1)):
            raise ValueError(f"mask must be a 0/1 vector of length {dim}, got {mask.tolist()}")
        if mask.sum() in (0, dim):
            raise ValueError("mask must keep some coordinates and transform the others (not all 0 or all 1)")
        self.register_buffer("mask", mask)
        self.max_log_scale = float(max_log_scale)
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2 * dim))
        nn.init.zeros_(self.net[-1].weight)  # starts as the identity map
        nn.init.zeros_(self.net[-1].bias)

    def _check(self, x: torch.Tensor, name: str) -> None:
        check_tensor(x, name, ndim=2, floating=True)
        if x.shape[1] != self.dim:
            raise ValueError(f"{name} must have shape (N, {self.dim}), got {tuple(x.shape)}")

    def _scale_shift(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.net(kept).chunk(2, dim=1)
        s = self.max_log_scale * torch.tanh(s / self.max_log_scale)
        free = 1.0 - self.mask
        return s * free, t * free  # the kept coordinates get s = 0, t = 0: they pass unchanged

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(x, "x")
        s, t = self._scale_shift(x * self.mask)                 # computed from the kept coordinates only
        return affine_coupling(x, self.mask, s, t)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        self._check(y, "y")
        kept = y * self.mask                                    # the kept part is unchanged, so s, t are known
        s, t = self._scale_shift(kept)
        return kept + (1.0 - self.mask) * ((y - t) * torch.exp(-s))


class CouplingFlow(nn.Module):
    r"""A normalizing flow: ``n_layers`` affine couplings with alternating masks and a standard-normal base (Notes
    §4.3).

    ``forward(x)`` maps data (N, dim) to codes and returns ``(z, log_det)``; ``inverse(z)`` maps codes back to data;
    ``log_prob(x)`` is the exact log-density (N,) by the change of variables; ``sample(n, generator=None)`` returns
    (n, dim) points (the flows of the course model points in the plane, not images).
    """

    def __init__(self, dim: int = 2, n_layers: int = 6, hidden: int = 64, max_log_scale: float = 2.0) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        if dim < 2:
            raise ValueError(f"a coupling flow needs at least 2 coordinates (it splits them), got dim={dim}")
        n_layers = check_positive_int(n_layers, "n_layers")
        base = (torch.arange(dim) % 2).float()
        self.layers = nn.ModuleList(
            AffineCoupling(dim, base if k % 2 == 0 else 1.0 - base, hidden, max_log_scale) for k in range(n_layers))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_tensor(x, "x", ndim=2, floating=True)
        if x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (N, {self.dim}), got {tuple(x.shape)}")
        log_det = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        check_tensor(z, "z", ndim=2, floating=True)
        if z.shape[1] != self.dim:
            raise ValueError(f"z must have shape (N, {self.dim}), got {tuple(z.shape)}")
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\log p(x) = \log\mathcal N(f(x); 0, I) + \log|\det J_f(x)|`, shape (N,)."""
        z, log_det = self(x)
        log_base = -0.5 * z.pow(2).sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi)
        return log_base + log_det

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n points (n, dim): z ~ N(0, I) pushed through the inverse flow; ``generator`` on the CPU."""
        n = check_positive_int(n, "n")
        dev = next(self.parameters()).device
        return self.inverse(torch.randn(n, self.dim, generator=generator).to(dev))
