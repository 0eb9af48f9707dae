"""The generative adversarial network (Notes §4.2): DCGAN-style generator and discriminator, the losses of the value
function V(D, G), small MLP versions for 2-D data and the alternating training loop.

The discriminator outputs a logit l with D(x) = σ(l). Written with logits the losses are softplus terms, which is
how they are computed stably: −log σ(l) = softplus(−l) and log(1 − σ(l)) = −softplus(l).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._utils import check_positive_int, check_tensor

__all__ = ["Generator", "Discriminator", "ToyGenerator", "ToyDiscriminator", "discriminator_loss", "generator_loss",
           "train_gan"]


class _LatentGenerator(nn.Module):
    """What every generator here shares: ``net`` maps a code z (N, latent_dim) to a sample, and ``sample(n)`` draws
    z ~ N(0, I) (``generator`` on the CPU) and maps it."""

    latent_dim: int
    net: nn.Module

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_tensor(z, "z", ndim=2, floating=True)
        if z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n samples from z ~ N(0, I): images (n, C, 28, 28) in [0, 1], or points (n, dim) for the toy one."""
        n = check_positive_int(n, "n")
        dev = next(self.parameters()).device
        return self(torch.randn(n, self.latent_dim, generator=generator).to(dev))


class Generator(_LatentGenerator):
    """A DCGAN-style generator for 28×28 images: z (N, latent_dim) → Linear → (2·width, 7, 7) → transposed
    convolution to (width, 14, 14) → transposed convolution to (channels, 28, 28), sigmoid (Notes §4.2).

    Batch normalization and ReLU between the layers, as in DCGAN. ``sample(n, generator=None)`` returns
    (n, channels, 28, 28) in [0, 1].
    """

    def __init__(self, latent_dim: int = 32, width: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        width = check_positive_int(width, "width")
        channels = check_positive_int(channels, "channels")
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * 7 * 7), nn.Unflatten(1, (2 * width, 7, 7)),
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(),  # 7 → 14
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1), nn.Sigmoid(),                      # 14 → 28
        )


class Discriminator(nn.Module):
    """A DCGAN-style discriminator for 28×28 images: two stride-2 convolutions with LeakyReLU(0.2)
    (28 → 14 → 7), flatten, Linear → one logit per image (Notes §4.2). D(x) = σ(logit).

    Shape: input (N, channels, 28, 28), output (N,) logits.
    """

    def __init__(self, width: int = 32, channels: int = 1) -> None:
        super().__init__()
        width = check_positive_int(width, "width")
        self.channels = check_positive_int(channels, "channels")
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),              # 28 → 14
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),             # 14 → 7
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", ndim=4, floating=True)
        if tuple(x.shape[1:]) != (self.channels, 28, 28):
            raise ValueError(f"x must have shape (N, {self.channels}, 28, 28), got {tuple(x.shape)}")
        return self.net(x).squeeze(1)


class ToyGenerator(_LatentGenerator):
    """An MLP generator for points in the plane (or any ``dim``): z (N, latent_dim) → (N, dim)."""

    def __init__(self, latent_dim: int = 2, dim: int = 2, hidden: int = 64) -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        self.dim = check_positive_int(dim, "dim")
        hidden = check_positive_int(hidden, "hidden")
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, dim))


class ToyDiscriminator(nn.Module):
    """An MLP discriminator for points: (N, dim) → (N,) logits."""

    def __init__(self, dim: int = 2, hidden: int = 64) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        hidden = check_positive_int(hidden, "hidden")
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", ndim=2, floating=True)
        if x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (N, {self.dim}), got {tuple(x.shape)}")
        return self.net(x).squeeze(1)


def _check_logits(logits, name: str) -> None:
    check_tensor(logits, name, ndim=1, floating=True)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    r"""The discriminator's loss, −V(D, G) estimated on a batch (Notes §4.2.1):

    .. math:: -\tfrac1n\sum \log D(x) - \tfrac1m\sum \log\big(1 - D(G(z))\big)
              = \operatorname{mean}\,\operatorname{softplus}(-l_{real})
              + \operatorname{mean}\,\operatorname{softplus}(l_{fake})

    Shape: ``real_logits`` (n,), ``fake_logits`` (m,); output a scalar. Minimising it maximises V over D.

    ``real_label`` < 1 is one-sided label smoothing (Salimans et al., 2016): the real images' target is
    ``real_label`` instead of 1, i.e. the real term becomes the cross-entropy
    :math:`-a\log D(x) - (1 - a)\log(1 - D(x))`, which keeps D from growing over-confident.
    """
    _check_logits(real_logits, "real_logits")
    _check_logits(fake_logits, "fake_logits")
    a = float(real_label)
    if not 0.5 <= a <= 1.0:
        raise ValueError(f"real_label must be in [0.5, 1], got {real_label}")
    real_term = a * F.softplus(-real_logits) + (1 - a) * F.softplus(real_logits)  # −log σ(l) = softplus(−l)
    return real_term.mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    r"""The generator's loss on a batch of discriminator logits of generated samples (Notes §4.2.1).

    ``saturating=True``: the minimax term itself, :math:`\operatorname{mean}\log(1 - D(G(z))) =
    -\operatorname{mean}\operatorname{softplus}(l)`, whose gradient vanishes when D rejects the samples
    confidently. Default (non-saturating): :math:`-\operatorname{mean}\log D(G(z)) =
    \operatorname{mean}\operatorname{softplus}(-l)`, the same fixed point with a strong gradient early on.

    Shape: ``fake_logits`` (m,); output a scalar.
    """
    _check_logits(fake_logits, "fake_logits")
    if not isinstance(saturating, bool):
        raise TypeError(f"saturating must be True or False, got {saturating!r}")
    if saturating:
        return -F.softplus(fake_logits).mean()  # log(1 − σ(l)) = −softplus(l)
    return F.softplus(-fake_logits).mean()


def train_gan(G: nn.Module, D: nn.Module, X: torch.Tensor, steps: int = 1000, batch_size: int = 64,
              lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999), saturating: bool = False, seed: int = 0,
              real_label: float = 1.0, record_every: int = 0, record=None, progress: bool = True) -> dict:
    """Alternating GAN training (Notes §4.2.1): per step one Adam step on D with G frozen, then one on G with D
    frozen. ``X`` holds the real data (N, …) on any device; G must have ``latent_dim``. ``real_label`` < 1 smooths
    the real images' target in D's loss (one-sided label smoothing, see :func:`discriminator_loss`).

    ``record(step, G, D)`` is called every ``record_every`` steps (and at the end) when given; what it returns is
    collected in ``history["records"]``. Returns a dict with per-step ``d_loss``, ``g_loss`` (the non-saturating
    loss, whichever loss trains G, so that curves compare) and ``records``.
    """
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    if not hasattr(G, "latent_dim"):
        raise TypeError("G must have a latent_dim attribute (a Generator or ToyGenerator)")
    from tqdm.auto import tqdm

    dev = next(G.parameters()).device
    X = X.to(dev)
    gen = torch.Generator().manual_seed(seed)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    history = {"d_loss": [], "g_loss": [], "records": []}
    G.train()
    D.train()
    for step in tqdm(range(1, steps + 1), desc="GAN", disable=not progress, leave=False):
        real = X[torch.randint(len(X), (batch_size,), generator=gen).to(dev)]
        z = torch.randn(batch_size, G.latent_dim, generator=gen).to(dev)
        fake = G(z)
        d_loss = discriminator_loss(D(real), D(fake.detach()), real_label)          # D step: G frozen (fake detached)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        fake_logits = D(fake)                                           # G step: only G's optimiser steps
        g_loss = generator_loss(fake_logits, saturating)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        history["d_loss"].append(d_loss.item())
        history["g_loss"].append(generator_loss(fake_logits.detach()).item())
        if record is not None and record_every and (step % record_every == 0 or step == steps):
            G.eval()
            history["records"].append(record(step, G, D))
            G.train()
    G.eval()
    D.eval()
    return history
