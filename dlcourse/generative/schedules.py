"""Noise schedules of a diffusion model: the signal ratio ᾱ_t for t = 0 … T (Notes §4.4.1, "fixed by a scheduler").

The notes' signal ratio α_t is DDPM's cumulative ᾱ_t = ∏_{s ≤ t} (1 − β_s), where β_t is the variance one forward
step adds. Every function here returns ᾱ_0 … ᾱ_T as a tensor of T + 1 values with ᾱ_0 = 1 (the clean image).
"""
from __future__ import annotations

import math

import torch

from .._utils import check_positive_int

__all__ = ["linear_schedule", "cosine_schedule", "make_schedule", "SCHEDULES", "betas_from_alpha_bar", "snr",
           "sampling_timesteps"]


def linear_schedule(T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """DDPM's linear schedule: β_t rises linearly from ``beta_start`` to ``beta_end``; ᾱ_t = ∏_{s≤t} (1 − β_s).

    Returns ᾱ_0 … ᾱ_T, shape (T + 1,), float64, ᾱ_0 = 1. Notes §4.4.1.
    """
    T = check_positive_int(T, "T")
    if not 0.0 < beta_start <= beta_end < 1.0:
        raise ValueError(f"need 0 < beta_start <= beta_end < 1, got beta_start={beta_start}, beta_end={beta_end}")
    betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    return torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1.0 - betas, 0)])


def cosine_schedule(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Nichol & Dhariwal's cosine schedule: ᾱ_t = f(t) / f(0), f(t) = cos²(π/2 · (t/T + s) / (1 + s)).

    β_t = 1 − ᾱ_t / ᾱ_{t−1} is clipped at ``max_beta`` (the formula gives ᾱ_T = 0 exactly). Returns ᾱ_0 … ᾱ_T,
    shape (T + 1,), float64. Notes §4.4.1.
    """
    T = check_positive_int(T, "T")
    if s < 0:
        raise ValueError(f"s must be non-negative, got {s}")
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)
    return torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1.0 - betas, 0)])


SCHEDULES = {"linear": linear_schedule, "cosine": cosine_schedule}


def make_schedule(name: str, T: int = 1000) -> torch.Tensor:
    """ᾱ_0 … ᾱ_T of the schedule ``name`` (``"linear"`` or ``"cosine"``)."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {name!r}")
    return SCHEDULES[name](T)


def betas_from_alpha_bar(alpha_bar: torch.Tensor) -> torch.Tensor:
    """The per-step variances β_t = 1 − ᾱ_t / ᾱ_{t−1}, t = 1 … T, from ᾱ_0 … ᾱ_T (shape (T + 1,) → (T,))."""
    if not isinstance(alpha_bar, torch.Tensor) or alpha_bar.dim() != 1 or len(alpha_bar) < 2:
        raise ValueError("alpha_bar must be a 1-d tensor ᾱ_0 … ᾱ_T with at least two values")
    return 1 - alpha_bar[1:] / alpha_bar[:-1]


def snr(alpha_bar):
    """Signal-to-noise ratio of x_t: SNR = ᾱ / (1 − ᾱ) (infinite at ᾱ = 1, zero at ᾱ = 0)."""
    alpha_bar = torch.as_tensor(alpha_bar, dtype=torch.float64)
    return alpha_bar / (1 - alpha_bar)


def sampling_timesteps(T: int, steps: int) -> torch.Tensor:
    """The ``steps + 1`` timesteps T = τ_S > … > τ_0 = 0 a sampler of ``steps`` steps visits (evenly spaced).

    Step k goes from τ_k to τ_{k−1}; the last one lands on t = 0, where ᾱ_0 = 1 and x_0 is the denoised estimate.
    """
    T = check_positive_int(T, "T")
    steps = check_positive_int(steps, "steps")
    if steps > T:
        raise ValueError(f"steps must be at most T = {T}, got {steps}")
    return torch.linspace(T, 0, steps + 1, dtype=torch.float64).round().long()
