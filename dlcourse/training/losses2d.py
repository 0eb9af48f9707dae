"""Small loss surfaces in two (or a few) dimensions, and the paths gradient descent takes on them. Notes §2.1.

A quadratic $\\mathcal{L}(w) = \\tfrac12 (w - w^*)^T H (w - w^*)$ is the local picture of every smooth loss near a
minimum: the eigenvalues of $H$ decide which learning rates converge (all $\\mu < 2/\\lambda_{max}$) and how slowly
(the ratio $\\lambda_{max}/\\lambda_{min}$, the condition number).
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from .._utils import check_nonnegative_int, check_tensor
from .optim import gd_step, momentum_step, nesterov_step

__all__ = ["ill_conditioned_hessian", "quadratic_loss", "quadratic_grad", "rosenbrock", "descent_path"]


def ill_conditioned_hessian(lam_min: float = 1.0, lam_max: float = 20.0, angle: float = math.pi / 6,
                            dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """A symmetric 2×2 Hessian with eigenvalues ``lam_min`` and ``lam_max``, its eigenvectors rotated by ``angle``.

    Returns a (2, 2) tensor $H = R\\,\\mathrm{diag}(\\lambda_{min}, \\lambda_{max})\\,R^T$.
    """
    for name, value in (("lam_min", lam_min), ("lam_max", lam_max)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not 0 < lam_min <= lam_max:
        raise ValueError(f"expected 0 < lam_min <= lam_max, got lam_min={lam_min}, lam_max={lam_max}")
    c, s = math.cos(angle), math.sin(angle)
    R = torch.tensor([[c, -s], [s, c]], dtype=dtype, device=device)
    return R @ torch.diag(torch.tensor([lam_min, lam_max], dtype=dtype, device=device)) @ R.T


def _check_quadratic(w, H, w_star):
    check_tensor(w, "w", floating=True)
    check_tensor(H, "H", ndim=2, floating=True)
    d = w.shape[-1] if w.dim() > 0 else None
    if H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be square, got shape {tuple(H.shape)}")
    if d != H.shape[0]:
        raise ValueError(f"w must have last dimension {H.shape[0]} to match H, got shape {tuple(w.shape)}")
    if w_star is not None:
        check_tensor(w_star, "w_star", ndim=1, floating=True)
        if w_star.shape[0] != d:
            raise ValueError(f"w_star must have shape ({d},), got {tuple(w_star.shape)}")


def quadratic_loss(w: torch.Tensor, H: torch.Tensor, w_star: torch.Tensor | None = None) -> torch.Tensor:
    """$\\mathcal{L}(w) = \\tfrac12 (w - w^*)^T H (w - w^*)$ for a batch of points.

    Args:
        w: points of shape (..., d).
        H: symmetric (d, d) Hessian.
        w_star: the minimiser (d,); zeros when omitted.

    Returns:
        The loss at each point, shape (...).
    """
    _check_quadratic(w, H, w_star)
    e = w if w_star is None else w - w_star
    return 0.5 * torch.einsum("...i,ij,...j->...", e, H.to(e.dtype), e)


def quadratic_grad(w: torch.Tensor, H: torch.Tensor, w_star: torch.Tensor | None = None) -> torch.Tensor:
    """The gradient $H (w - w^*)$ of :func:`quadratic_loss` (for symmetric ``H``), shape (..., d) like ``w``."""
    _check_quadratic(w, H, w_star)
    e = w if w_star is None else w - w_star
    return e @ H.to(e.dtype).T


def rosenbrock(w: torch.Tensor, a: float = 1.0, b: float = 100.0) -> torch.Tensor:
    """Rosenbrock's banana valley $(a - w_1)^2 + b (w_2 - w_1^2)^2$, minimum 0 at $(a, a^2)$.

    ``w`` (..., 2) -> (...).
    """
    check_tensor(w, "w", floating=True)
    if w.dim() == 0 or w.shape[-1] != 2:
        raise ValueError(f"w must have shape (..., 2), got {tuple(w.shape)}")
    return (a - w[..., 0]) ** 2 + b * (w[..., 1] - w[..., 0] ** 2) ** 2


def descent_path(grad_fn: Callable[[torch.Tensor], torch.Tensor], w0: torch.Tensor, lr: float, steps: int,
                 alpha: float = 0.0, nesterov: bool = False) -> torch.Tensor:
    """Run ``steps`` updates from ``w0`` and return every iterate (Notes §2.1).

    Plain gradient descent when ``alpha == 0`` (:func:`gd_step`), momentum (:func:`momentum_step`) otherwise, or
    Nesterov momentum (:func:`nesterov_step`) when ``nesterov=True``.

    Args:
        grad_fn: maps weights of the shape of ``w0`` to the gradient there.
        w0: starting point, any shape (...).
        lr, alpha: learning rate and momentum coefficient, both ``>= 0``.
        steps: number of updates ``>= 0``.

    Returns:
        A tensor (steps + 1, ...) whose first entry is ``w0``. A divergent run is returned as it is (it may hold
        ``inf`` or ``nan``).
    """
    check_tensor(w0, "w0", floating=True)
    steps = check_nonnegative_int(steps, "steps")
    if not callable(grad_fn):
        raise TypeError(f"grad_fn must be callable, got {type(grad_fn).__name__}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr < 0:
        raise ValueError(f"lr must be a non-negative number, got {lr!r}")
    w, v = w0.clone(), torch.zeros_like(w0)
    path = [w]
    for _ in range(steps):
        if nesterov:
            w, v = nesterov_step(w, v, grad_fn, lr, alpha)
        elif alpha > 0:
            w, v = momentum_step(w, v, grad_fn(w), lr, alpha)
        else:
            w = gd_step(w, grad_fn(w), lr)
        path.append(w)
    return torch.stack(path)
