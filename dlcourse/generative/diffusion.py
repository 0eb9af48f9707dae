"""Diffusion models (Notes §4.4): the forward process that noises an image, the loss that trains a denoiser to
predict the noise, and the reverse steps that turn noise into an image.

Notation: ᾱ is the notes' signal ratio α_t (DDPM writes ᾱ_t = ∏_{s≤t}(1 − β_s)); ε ~ N(0, I).

- forward (§4.4.1):  x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε                                   :func:`q_sample`
- one-shot denoise:  x̂_0 = (x_t − √(1 − ᾱ_t) · ε̂) / √ᾱ_t                               :func:`predict_x0`
- reverse (§4.4.2):  x_{t−1} = √ᾱ_{t−1} · x̂_0 + √(1 − ᾱ_{t−1}) · ε                       :func:`reverse_step`
- DDIM with η:       x_{t−1} = √ᾱ_{t−1} · x̂_0 + √(1 − ᾱ_{t−1} − σ²) · ε̂ + σ · z          :func:`ddim_step`

Every ᾱ argument is a float, a 0-d tensor or a (B,) tensor (one value per image), broadcast over the other
dimensions of the (B, …) images.
"""
from __future__ import annotations

from typing import Callable, Iterator

import torch
import torch.nn.functional as F

from .._utils import check_positive_int, check_tensor
from .schedules import make_schedule, sampling_timesteps

__all__ = ["q_sample", "predict_x0", "reverse_step", "ddim_step", "diffusion_loss", "sample", "sampling_frames",
           "normalize", "denormalize"]


def _alpha(alpha_bar, x: torch.Tensor, name: str, low_open: bool = False) -> torch.Tensor:
    """ᾱ as a tensor on x's device and dtype, shaped to broadcast over a (B, …) batch."""
    if isinstance(alpha_bar, bool) or not isinstance(alpha_bar, (int, float, torch.Tensor)):
        raise TypeError(f"{name} must be a float, a 0-d tensor or a (B,) tensor, got {type(alpha_bar).__name__}")
    a = torch.as_tensor(alpha_bar, dtype=x.dtype, device=x.device)
    if a.dim() == 1:
        if x.dim() == 0 or a.shape[0] != x.shape[0]:
            raise ValueError(f"{name} of shape {tuple(a.shape)} must have one value per image of the batch "
                             f"(x has shape {tuple(x.shape)})")
        a = a.reshape(-1, *([1] * (x.dim() - 1)))
    elif a.dim() != 0:
        raise ValueError(f"{name} must be a float, a 0-d tensor or a (B,) tensor, got shape {tuple(a.shape)}")
    bad = (a <= 0) if low_open else (a < 0)
    if bool((bad | (a > 1) | torch.isnan(a)).any()):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} is a signal ratio and must lie in {interval}, got values "
                         f"{a.min().item():.4g} … {a.max().item():.4g}")
    return a


def _same_shape(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_b} must have the shape of {name_a} {tuple(a.shape)}, got {tuple(b.shape)}")


def normalize(x: torch.Tensor) -> torch.Tensor:
    """Step 1 of Notes §4.4.1: images in [0, 1] → [−1, 1], the range of the noise's bulk."""
    return 2 * x - 1


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """[−1, 1] → [0, 1], clipped (for display and for the judge)."""
    return ((x + 1) / 2).clamp(0, 1)


def q_sample(x0: torch.Tensor, alpha_bar, noise: torch.Tensor) -> torch.Tensor:
    """The forward process (Notes §4.4.1): x_t = √ᾱ · x_0 + √(1 − ᾱ) · ε.

    Args:
        x0: clean (normalised) images, shape (B, …).
        alpha_bar: the signal ratio ᾱ_t in [0, 1]: a float, a 0-d tensor or a (B,) tensor (one per image).
        noise: ε, the shape of ``x0``.

    Returns:
        x_t, the shape of ``x0``.
    """
    check_tensor(x0, "x0", floating=True)
    check_tensor(noise, "noise", floating=True)
    _same_shape(x0, noise, "x0", "noise")
    a = _alpha(alpha_bar, x0, "alpha_bar")
    return a.sqrt() * x0 + (1 - a).sqrt() * noise  # x_t = √ᾱ x0 + √(1−ᾱ) ε


def predict_x0(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar) -> torch.Tensor:
    """The denoised image a noise estimate implies (Notes §4.4.2 b): x̂_0 = (x_t − √(1 − ᾱ) · ε̂) / √ᾱ.

    Args:
        x_t: noisy images, shape (B, …).
        eps: the noise estimate ε̂ = G(x_t, ᾱ), the shape of ``x_t``.
        alpha_bar: ᾱ_t in (0, 1] (float, 0-d or (B,) tensor).

    Returns:
        x̂_0, the shape of ``x_t``; the inverse of :func:`q_sample` when ``eps`` is the true noise.
    """
    check_tensor(x_t, "x_t", floating=True)
    check_tensor(eps, "eps", floating=True)
    _same_shape(x_t, eps, "x_t", "eps")
    a = _alpha(alpha_bar, x_t, "alpha_bar", low_open=True)
    return (x_t - (1 - a).sqrt() * eps) / a.sqrt()  # x̂0 = (x_t − √(1−ᾱ) ε̂) / √ᾱ


def reverse_step(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar_t, alpha_bar_prev,
                 noise: torch.Tensor | None = None, clip_x0: bool = False) -> torch.Tensor:
    """One step of the reverse process (Notes §4.4.2 b–c): x_{t−1} = √ᾱ_{t−1} · x̂_0 + √(1 − ᾱ_{t−1}) · ε.

    The notes leave open which ε is re-injected. With ``noise=None`` it is the predicted ε̂ itself: the step is
    deterministic (DDIM with η = 0). With ``noise`` a fresh N(0, I) sample, all of the previous noise is replaced by
    new noise: the most stochastic choice.

    Args:
        x_t: noisy images at step t, shape (B, …).
        eps: the denoiser's estimate ε̂ = G(x_t, ᾱ_t), the shape of ``x_t``.
        alpha_bar_t: ᾱ_t in (0, 1] (float, 0-d or (B,) tensor).
        alpha_bar_prev: ᾱ_{t−1} in [0, 1], larger than ᾱ_t on a real schedule (1 on the last step).
        noise: the noise to re-inject, the shape of ``x_t``; ``None`` re-injects ``eps``.
        clip_x0: clamp x̂_0 to [−1, 1] before re-noising (off by default, as in the notes).

    Returns:
        x_{t−1}, the shape of ``x_t``.
    """
    x0_hat = predict_x0(x_t, eps, alpha_bar_t)
    if clip_x0:
        x0_hat = x0_hat.clamp(-1, 1)
    if noise is not None:
        check_tensor(noise, "noise", floating=True)
        _same_shape(x_t, noise, "x_t", "noise")
    a_prev = _alpha(alpha_bar_prev, x_t, "alpha_bar_prev")
    injected = eps if noise is None else noise
    return a_prev.sqrt() * x0_hat + (1 - a_prev).sqrt() * injected  # √ᾱ_{t−1} x̂0 + √(1−ᾱ_{t−1}) ε


def ddim_step(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar_t, alpha_bar_prev, eta: float = 0.0,
              noise: torch.Tensor | None = None, clip_x0: bool = False) -> torch.Tensor:
    """One DDIM step (Song et al., 2021) between the two extremes of :func:`reverse_step`.

    x_{t−1} = √ᾱ_{t−1} · x̂_0 + √(1 − ᾱ_{t−1} − σ²) · ε̂ + σ · z, with
    σ = η · √((1 − ᾱ_{t−1}) / (1 − ᾱ_t)) · √(1 − ᾱ_t / ᾱ_{t−1}).

    η = 0 is :func:`reverse_step` with ``noise=None``; η = 1 is the DDPM sampler (its posterior variance). ``noise``
    is z (drawn with ``torch.randn_like`` when ``None`` and η > 0). Shapes and ᾱ as in :func:`reverse_step`.
    """
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or eta < 0:
        raise ValueError(f"eta must be a non-negative number, got {eta!r}")
    x0_hat = predict_x0(x_t, eps, alpha_bar_t)
    if clip_x0:
        x0_hat = x0_hat.clamp(-1, 1)
    a_t = _alpha(alpha_bar_t, x_t, "alpha_bar_t", low_open=True)
    a_prev = _alpha(alpha_bar_prev, x_t, "alpha_bar_prev")
    sigma = (eta * ((1 - a_prev) / (1 - a_t).clamp_min(1e-12)).sqrt()
             * (1 - a_t / a_prev.clamp_min(1e-12)).clamp_min(0).sqrt())
    sigma = torch.minimum(sigma, (1 - a_prev).sqrt())
    out = a_prev.sqrt() * x0_hat + (1 - a_prev - sigma ** 2).clamp_min(0).sqrt() * eps
    if eta > 0:
        if noise is None:
            noise = torch.randn_like(x_t)
        _same_shape(x_t, noise, "x_t", "noise")
        out = out + sigma * noise
    return out


def diffusion_loss(model: Callable, x0: torch.Tensor, alpha_bar_table: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """The training loss of Notes §4.4.1 on one batch: mean ‖ε − G(x_t, ᾱ_t)‖² over pixels and images.

    Each image gets its own t ~ U{1, …, T} and ε ~ N(0, I). ``alpha_bar_table`` is ᾱ_0 … ᾱ_T (a schedule);
    ``model(x_t, alpha_bar)`` takes the noisy batch and its (B,) signal ratios and returns ε̂, the shape of ``x0``.
    """
    check_tensor(x0, "x0", ndim=4, floating=True)
    T = len(alpha_bar_table) - 1
    dev = x0.device
    t = torch.randint(1, T + 1, (x0.shape[0],), generator=generator, device="cpu").to(dev)
    noise = torch.randn(x0.shape, generator=generator, device="cpu").to(dev, x0.dtype)
    alpha_bar = alpha_bar_table.to(dev, x0.dtype)[t]
    x_t = q_sample(x0, alpha_bar, noise)
    return F.mse_loss(model(x_t, alpha_bar), noise)


@torch.no_grad()
def sampling_frames(model: Callable, shape: tuple, steps: int = 20, schedule: str = "cosine", T: int = 1000,
                    eta: float = 0.0, seed: int = 0, device: torch.device | str | None = None,
                    x_T: torch.Tensor | None = None, clip_x0: bool = True) -> Iterator[dict]:
    """Run the reverse process (Notes §4.4.2) step by step and yield, after each step, a dict with ``k`` (step
    number from 1), ``t`` and ``t_prev`` (timesteps), ``alpha_bar`` (ᾱ_t), ``x_t`` (the batch before the step),
    ``x0_hat`` (the one-shot estimate at this step) and ``x_prev`` (the batch after it), all in the normalised
    range. The first item (k = 0) is the starting noise x_T.

    ``eta`` = 0 re-injects the predicted noise (deterministic, DDIM); η > 0 adds fresh noise (see :func:`ddim_step`);
    ``eta="fresh"`` re-injects only fresh noise, the notes' other reading. ``seed`` fixes x_T and the fresh noise.

    ``clip_x0`` (on by default here, unlike in :func:`reverse_step`) clamps x̂_0 to the data range [−1, 1]: at the
    first steps ᾱ_t is nearly 0 (the cosine schedule's ᾱ_T is ~1e−9, used as 1e−8), and x̂_0 = (x_t − √(1−ᾱ_t) ε̂)/√ᾱ_t
    multiplies the network's small error in ε̂ by up to 1/√ᾱ_t = 10⁴.
    """
    from .._utils import device as default_device

    steps = check_positive_int(steps, "steps")
    dev = torch.device(device) if device is not None else (
        x_T.device if x_T is not None else next(iter(model.parameters())).device if hasattr(model, "parameters")
        else default_device())
    gen = torch.Generator().manual_seed(int(seed))
    if x_T is None:
        x = torch.randn(tuple(shape), generator=gen).to(dev)  # step 1: x_T ~ N(0, I)
    else:
        x = x_T.to(dev)
    table = make_schedule(schedule, T)
    ts = sampling_timesteps(T, steps)
    yield {"k": 0, "t": int(ts[0]), "t_prev": int(ts[0]), "alpha_bar": float(table[ts[0]]), "x_t": x, "x0_hat": None,
           "x_prev": x}
    for k in range(steps):
        t, t_prev = int(ts[k]), int(ts[k + 1])
        a_t = max(float(table[t]), 1e-8)  # the cosine schedule's ᾱ_T is ~0: x̂0 needs √ᾱ_t > 0
        a_prev = float(table[t_prev])
        alpha = torch.full((x.shape[0],), a_t, device=dev, dtype=x.dtype)
        eps = model(x, alpha)  # a) ε̂ = G(x_t, ᾱ_t)
        x0_hat = predict_x0(x, eps, a_t)  # b) one-shot x̂0
        if clip_x0:
            x0_hat = x0_hat.clamp(-1, 1)
        if eta == "fresh":
            z = torch.randn(x.shape, generator=gen).to(dev, x.dtype)
            x_prev = reverse_step(x, eps, a_t, a_prev, noise=z, clip_x0=clip_x0)
        else:
            z = torch.randn(x.shape, generator=gen).to(dev, x.dtype) if eta and eta > 0 else None
            x_prev = ddim_step(x, eps, a_t, a_prev, eta=float(eta), noise=z, clip_x0=clip_x0)
        yield {"k": k + 1, "t": t, "t_prev": t_prev, "alpha_bar": a_t, "x_t": x, "x0_hat": x0_hat, "x_prev": x_prev}
        x = x_prev  # c) the next iteration starts from x_{t−1}


@torch.no_grad()
def sample(model: Callable, n: int, image_size: int, steps: int = 20, schedule: str = "cosine", T: int = 1000,
           eta: float = 0.0, seed: int = 0, device: torch.device | str | None = None,
           x_T: torch.Tensor | None = None, clip_x0: bool = True) -> torch.Tensor:
    """Draw ``n`` images of ``image_size``² pixels with ``steps`` reverse steps; returns (n, 1, H, W) in [0, 1].

    Same arguments as :func:`sampling_frames`; with η = 0 the result is a deterministic function of ``x_T``.
    """
    n = check_positive_int(n, "n")
    image_size = check_positive_int(image_size, "image_size")
    *_, last = sampling_frames(model, (n, 1, image_size, image_size), steps, schedule, T, eta, seed, device, x_T,
                               clip_x0)
    return denormalize(last["x_prev"])
