"""Questions of Part 4.4, diffusion models: the forward process, the one-shot denoised image and a reverse step.

The signal ratio ᾱ comes as a float, a 0-d tensor or a (B,) tensor (one per image). The references and the wrong
answers share the small helper :func:`_a`, which shapes it to broadcast over a (B, …) batch.
"""
from __future__ import annotations

import torch

from ..registry import Case, Mistake, Question, register


def _a(alpha_bar, x: torch.Tensor) -> torch.Tensor:
    a = torch.as_tensor(alpha_bar, dtype=x.dtype)
    return a.reshape(-1, *([1] * (x.dim() - 1))) if a.dim() == 1 else a


def _q_sample(x0, alpha_bar, noise):
    a = _a(alpha_bar, x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def _predict_x0(x_t, eps, alpha_bar):
    a = _a(alpha_bar, x_t)
    return (x_t - (1 - a).sqrt() * eps) / a.sqrt()


def _reverse_step(x_t, eps, alpha_bar_t, alpha_bar_prev, noise=None):
    x0_hat = _predict_x0(x_t, eps, alpha_bar_t)
    a = _a(alpha_bar_prev, x_t)
    return a.sqrt() * x0_hat + (1 - a).sqrt() * (eps if noise is None else noise)


def _pair(gen: torch.Generator, B: int, H: int = 4, W: int = 3):
    return torch.randn(B, 1, H, W, generator=gen), torch.randn(B, 1, H, W, generator=gen)


def _alpha(gen: torch.Generator, B: int, low: float = 0.02, high: float = 0.98):
    return low + (high - low) * torch.rand(B, generator=gen)


# ---------------------------------------------------------------------------------------------------------------------
# generative.q_sample(x0, alpha_bar, noise) -> x_t


def _q_case(gen: torch.Generator) -> Case:
    B = int(torch.randint(1, 5, (), generator=gen))
    x0, noise = _pair(gen, B)
    kind = int(torch.randint(0, 3, (), generator=gen))
    a = _alpha(gen, B)
    alpha_bar = a if kind == 0 else a[0] if kind == 1 else float(a[0])
    return Case(x0, alpha_bar, noise)


_g = torch.Generator().manual_seed(40)
_x0, _eps = _pair(_g, 3)
register(Question(
    qid="generative.q_sample",
    reference=_q_sample,
    cases=[Case(_x0, 0.5, _eps, label="alpha_bar = 0.5 as a Python float"),
           Case(_x0, torch.tensor(0.9), _eps, label="alpha_bar = 0.9 as a 0-d tensor (mostly signal)"),
           Case(_x0, torch.tensor([0.99, 0.5, 0.05]), _eps, label="one alpha_bar per image, shape (3,)"),
           Case(_x0, 1.0, _eps, label="edge: alpha_bar = 1, the clean image"),
           Case(_x0, 0.0, _eps, label="edge: alpha_bar = 0, pure noise")],
    random_case=_q_case,
    mistakes=[
        Mistake("no square roots", lambda x0, alpha_bar, noise:
                _a(alpha_bar, x0) * x0 + (1 - _a(alpha_bar, x0)) * noise,
                "The coefficients are the square roots √ᾱ and √(1 − ᾱ): x_t must keep unit variance, "
                "(√ᾱ)² + (√(1 − ᾱ))² = 1."),
        Mistake("swapped", lambda x0, alpha_bar, noise:
                (1 - _a(alpha_bar, x0)).sqrt() * x0 + _a(alpha_bar, x0).sqrt() * noise,
                "ᾱ is the SIGNAL ratio: √ᾱ multiplies the image x0, √(1 − ᾱ) the noise."),
        Mistake("noise variance not rooted", lambda x0, alpha_bar, noise:
                _a(alpha_bar, x0).sqrt() * x0 + (1 - _a(alpha_bar, x0)) * noise,
                "The noise is scaled by its standard deviation √(1 − ᾱ), not by the variance 1 − ᾱ."),
        Mistake("image not scaled", lambda x0, alpha_bar, noise:
                x0 + (1 - _a(alpha_bar, x0)).sqrt() * noise,
                "Scale the image down too (by √ᾱ), or x_t never becomes pure noise as ᾱ goes to 0."),
        Mistake("alpha_bar not per image", lambda x0, alpha_bar, noise:
                torch.as_tensor(alpha_bar, dtype=x0.dtype).mean().sqrt() * x0
                + (1 - torch.as_tensor(alpha_bar, dtype=x0.dtype).mean()).sqrt() * noise,
                "A (B,) alpha_bar holds one value per image: reshape it to (B, 1, 1, 1) so image b uses alpha_bar[b]."),
    ],
    forbid=("dlcourse.generative.q_sample", "dlcourse.generative.diffusion.q_sample"),
    rtol=1e-5, atol=1e-6,
))

# ---------------------------------------------------------------------------------------------------------------------
# generative.predict_x0(x_t, eps, alpha_bar) -> x0_hat


def _x0_case(gen: torch.Generator) -> Case:
    case = _q_case(gen)
    x0, alpha_bar, noise = case.args  # ᾱ in [0.02, 0.98]: x̂0 stays finite
    return Case(_q_sample(x0, alpha_bar, noise), noise, alpha_bar)


register(Question(
    qid="generative.predict_x0",
    reference=_predict_x0,
    cases=[Case(_q_sample(_x0, 0.5, _eps), _eps, 0.5, label="x_t made with alpha_bar = 0.5 and the true noise"),
           Case(_x0, _eps, torch.tensor(0.2), label="alpha_bar = 0.2 as a 0-d tensor"),
           Case(_x0, _eps, torch.tensor([0.9, 0.3, 0.01]), label="one alpha_bar per image, shape (3,)"),
           Case(_x0, _eps, 1.0, label="edge: alpha_bar = 1 (x_t is already clean)")],
    random_case=_x0_case,
    mistakes=[
        Mistake("no division", lambda x_t, eps, alpha_bar: x_t - (1 - _a(alpha_bar, x_t)).sqrt() * eps,
                "After removing the noise, divide by √ᾱ: x_t holds √ᾱ · x0, not x0."),
        Mistake("no square roots", lambda x_t, eps, alpha_bar:
                (x_t - (1 - _a(alpha_bar, x_t)) * eps) / _a(alpha_bar, x_t),
                "Invert x_t = √ᾱ x0 + √(1 − ᾱ) ε: the coefficients are square roots."),
        Mistake("adds the noise", lambda x_t, eps, alpha_bar:
                (x_t + (1 - _a(alpha_bar, x_t)).sqrt() * eps) / _a(alpha_bar, x_t).sqrt(),
                "Subtract the estimated noise √(1 − ᾱ) ε̂ from x_t; do not add it."),
        Mistake("swapped", lambda x_t, eps, alpha_bar:
                (x_t - _a(alpha_bar, x_t).sqrt() * eps) / (1 - _a(alpha_bar, x_t)).sqrt().clamp_min(1e-3),
                "√(1 − ᾱ) multiplies the noise and √ᾱ the image: x̂0 = (x_t − √(1 − ᾱ) ε̂) / √ᾱ."),
    ],
    forbid=("dlcourse.generative.predict_x0", "dlcourse.generative.diffusion.predict_x0"),
    rtol=1e-5, atol=1e-5,
))

# ---------------------------------------------------------------------------------------------------------------------
# generative.reverse_step(x_t, eps, alpha_bar_t, alpha_bar_prev, noise=None) -> x_{t-1}


def _step_case(gen: torch.Generator) -> Case:
    B = int(torch.randint(1, 5, (), generator=gen))
    x_t, eps = _pair(gen, B)
    a_t = _alpha(gen, B, 0.02, 0.9)
    a_prev = a_t + (1 - a_t) * torch.rand(B, generator=gen)  # ᾱ_{t−1} > ᾱ_t
    fresh = bool(torch.randint(0, 2, (), generator=gen))
    noise = torch.randn(x_t.shape, generator=gen) if fresh else None
    if bool(torch.randint(0, 2, (), generator=gen)):
        return Case(x_t, eps, float(a_t[0]), float(a_prev[0]), noise)
    return Case(x_t, eps, a_t, a_prev, noise)


_z = torch.randn(_x0.shape, generator=_g)
register(Question(
    qid="generative.reverse_step",
    reference=_reverse_step,
    cases=[Case(_x0, _eps, 0.3, 0.5, label="floats, noise=None: re-inject the predicted noise (deterministic)"),
           Case(_x0, _eps, 0.3, 0.5, _z, label="floats, with fresh noise"),
           Case(_x0, _eps, torch.tensor([0.1, 0.4, 0.8]), torch.tensor([0.2, 0.6, 0.9]), label="one ᾱ per image"),
           Case(_x0, _eps, torch.tensor(0.6), torch.tensor(1.0), _z,
                label="edge: the last step, alpha_bar_prev = 1 returns x̂0 (the noise gets weight 0)")],
    random_case=_step_case,
    mistakes=[
        Mistake("re-noised with alpha_bar_t", lambda x_t, eps, alpha_bar_t, alpha_bar_prev, noise=None:
                _q_sample(_predict_x0(x_t, eps, alpha_bar_t), alpha_bar_t, eps if noise is None else noise),
                "Re-noise x̂0 to the NEXT level, ᾱ_{t−1} (alpha_bar_prev), not back to ᾱ_t: each step removes "
                "some noise."),
        Mistake("t and t-1 swapped", lambda x_t, eps, alpha_bar_t, alpha_bar_prev, noise=None:
                _q_sample(_predict_x0(x_t, eps, alpha_bar_prev), alpha_bar_t, eps if noise is None else noise),
                "x̂0 comes from x_t, which has signal ratio ᾱ_t: use alpha_bar_t to denoise, alpha_bar_prev to "
                "re-noise."),
        Mistake("ignores the noise argument", lambda x_t, eps, alpha_bar_t, alpha_bar_prev, noise=None:
                _q_sample(_predict_x0(x_t, eps, alpha_bar_t), alpha_bar_prev, eps),
                "When `noise` is given, re-inject it instead of the predicted ε̂ (that is the stochastic sampler)."),
        Mistake("no noise when None", lambda x_t, eps, alpha_bar_t, alpha_bar_prev, noise=None:
                _a(alpha_bar_prev, x_t).sqrt() * _predict_x0(x_t, eps, alpha_bar_t)
                + ((1 - _a(alpha_bar_prev, x_t)).sqrt() * noise if noise is not None else 0),
                "With noise=None, re-inject the predicted ε̂: x_{t−1} = √ᾱ_{t−1} x̂0 + √(1 − ᾱ_{t−1}) ε̂ (DDIM, η = 0)."),
        Mistake("no square roots", lambda x_t, eps, alpha_bar_t, alpha_bar_prev, noise=None:
                _a(alpha_bar_prev, x_t) * _predict_x0(x_t, eps, alpha_bar_t)
                + (1 - _a(alpha_bar_prev, x_t)) * (eps if noise is None else noise),
                "Re-noising is the forward process at ᾱ_{t−1}: the coefficients are √ᾱ_{t−1} and √(1 − ᾱ_{t−1})."),
    ],
    forbid=("dlcourse.generative.reverse_step", "dlcourse.generative.diffusion.reverse_step",
            "dlcourse.generative.q_sample", "dlcourse.generative.predict_x0",
            "dlcourse.generative.diffusion.q_sample", "dlcourse.generative.diffusion.predict_x0"),
    rtol=1e-5, atol=1e-5,
))
