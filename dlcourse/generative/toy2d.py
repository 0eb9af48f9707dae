"""2-D toy distributions for the flow and GAN pages (generated deterministically, no download).

Each function returns points (n, 2) drawn with the given ``torch.Generator`` (or a fresh one seeded by ``seed``).
"""
from __future__ import annotations

import math

import torch

from .._utils import check_positive_int

__all__ = ["two_moons", "rings", "ring_of_gaussians", "ring_modes"]


def _gen(generator: torch.Generator | None, seed: int) -> torch.Generator:
    if generator is None:
        return torch.Generator().manual_seed(seed)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return generator


def two_moons(n: int, noise: float = 0.05, generator: torch.Generator | None = None, seed: int = 0) -> torch.Tensor:
    """Two interleaved half circles (as scikit-learn's ``make_moons``), centred and scaled to about [-2, 2]."""
    n = check_positive_int(n, "n")
    g = _gen(generator, seed)
    upper = torch.rand(n, generator=g) < 0.5
    angle = torch.rand(n, generator=g) * math.pi
    x = torch.where(upper, torch.cos(angle), 1.0 - torch.cos(angle))
    y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
    pts = torch.stack([x, y], dim=1) + noise * torch.randn(n, 2, generator=g)
    return (pts - torch.tensor([0.5, 0.25])) * 1.6


def rings(n: int, radii=(0.8, 2.0), noise: float = 0.08, generator: torch.Generator | None = None,
          seed: int = 0) -> torch.Tensor:
    """Concentric circles of the given radii, each with a share of points proportional to its radius."""
    n = check_positive_int(n, "n")
    radii = torch.as_tensor(radii, dtype=torch.float32)
    if radii.dim() != 1 or len(radii) == 0 or bool((radii <= 0).any()):
        raise ValueError(f"radii must be a non-empty list of positive numbers, got {radii.tolist()}")
    g = _gen(generator, seed)
    which = torch.multinomial(radii / radii.sum(), n, replacement=True, generator=g)
    angle = torch.rand(n, generator=g) * 2 * math.pi
    r = radii[which] + noise * torch.randn(n, generator=g)
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)


def ring_modes(k: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The k centres (k, 2) of :func:`ring_of_gaussians`, evenly spaced on a circle."""
    k = check_positive_int(k, "k")
    angle = torch.arange(k) * 2 * math.pi / k
    return radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


def ring_of_gaussians(n: int, k: int = 8, radius: float = 2.0, std: float = 0.05,
                      generator: torch.Generator | None = None, seed: int = 0) -> torch.Tensor:
    """A mixture of k equal Gaussians (standard deviation ``std``) centred on a circle: the classic test of mode
    collapse (Notes §4.2.2)."""
    n = check_positive_int(n, "n")
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    g = _gen(generator, seed)
    centres = ring_modes(k, radius)
    which = torch.randint(k, (n,), generator=g)
    return centres[which] + std * torch.randn(n, 2, generator=g)
