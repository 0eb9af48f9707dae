"""Gradient ascent on the input image: activation maximisation, inversion and deep dream (Notes §3.9.1–3.9.2).

The network's weights are fixed and the *image* is the variable. Every routine here is a Python generator that
yields a :class:`~dlcourse.widgets.Frame` (image, caption, scalars, step) as it goes, so a page can keep the last frame,
plot the recorded scalars, or hand the generator to a live view:

* :func:`maximize_activation`: start from noise and climb the mean activation of one channel (or one class logit),
  with the regularisers that keep the picture natural: random jitter, periodic Gaussian blur, an L2 penalty and
  total variation (Simonyan et al. 2014; Olah et al. 2017).
* :func:`invert_representation`: the "generative approach" of the notes: find an image whose features at layer
  ``l`` match those of a photo, ``argmin_x ‖Θ_l(x) − Θ_l(x̂)‖² / ‖Θ_l(x̂)‖² + λ R(x)`` (Mahendran & Vedaldi 2015).
* :func:`deep_dream`: climb ``½‖Θ_l(x)‖²`` (a whole layer, "content enhancing") or one channel's mean, starting
  from a photo, over several octaves (scales) with jitter (Mordvintsev et al. 2015).

A feature function ``features_fn(x, layers) -> {name: tensor}`` gives the activations of a batch ``x`` (B, 3, H, W)
in [0, 1]: ``dlcourse.pretrained.efficientnet_lite0().features`` and ``dlcourse.pretrained.vgg16_features()`` are
both of this form (:func:`layer_fn` adapts any module).
"""
from __future__ import annotations

import math
from typing import Callable, Iterator, Mapping, Sequence

import torch
import torch.nn.functional as F

from .._utils import check_nonnegative_int, check_positive_int, check_tensor, resolve_device
from ..widgets.frames import Frame

__all__ = ["jitter", "gaussian_blur", "total_variation", "l2_penalty", "layer_fn", "maximize_activation",
           "invert_representation", "deep_dream"]
FeaturesFn = Callable[[torch.Tensor, Sequence[str]], Mapping[str, torch.Tensor]]


# --------------------------------------------------------------------------------------------- regularisers
def jitter(x: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift images (B, C, H, W) by a random (dy, dx) in [−max_shift, max_shift]², wrapping around (``torch.roll``).

    Applied before every forward pass, it stops the ascent from exploiting one exact pixel grid (the high-frequency
    patterns that fool a network but look like noise). Differentiable; ``max_shift=0`` returns ``x``.
    """
    check_tensor(x, "x", ndim=4)
    check_nonnegative_int(max_shift, "max_shift")
    if max_shift == 0:
        return x
    dy, dx = (int(v) for v in torch.randint(-max_shift, max_shift + 1, (2,), generator=generator))
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur images (B, C, H, W) with a separable Gaussian of standard deviation ``sigma`` pixels (reflect padding).

    The kernel has radius ⌈3σ⌉ and sums to 1; ``sigma=0`` returns ``x``. Output: same shape and device.
    """
    check_tensor(x, "x", ndim=4, floating=True)
    if sigma < 0:
        raise ValueError(f"sigma must be non-negative, got {sigma}")
    if sigma == 0:
        return x
    radius = max(1, math.ceil(3 * sigma))
    radius = min(radius, x.shape[-1] - 1, x.shape[-2] - 1)
    if radius < 1:
        return x
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    y = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(y, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Total variation of images (B, C, H, W): mean squared difference of vertical plus horizontal neighbours.

    ``mean((x[i+1, j] − x[i, j])²) + mean((x[i, j+1] − x[i, j])²)``: small for smooth images, large for noise.
    """
    check_tensor(x, "x", ndim=4, floating=True)
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()


def l2_penalty(x: torch.Tensor, center: float = 0.5) -> torch.Tensor:
    """Mean squared distance of the pixels from ``center`` (mid-grey): keeps the image's energy bounded."""
    check_tensor(x, "x", floating=True)
    return (x - center).pow(2).mean()


def layer_fn(model: torch.nn.Module) -> FeaturesFn:
    """A feature function ``(x, layers) -> {name: tensor}`` for ``model``.

    Uses ``model.features(x, layers)`` when the model has such a method (EfficientNet-Lite0), else
    ``model(x, layers)`` (VGG16's feature stack).
    """
    if hasattr(model, "features") and callable(model.features):
        return lambda x, layers: model.features(x, list(layers))
    return lambda x, layers: model(x, list(layers))


# --------------------------------------------------------------------------------------------- helpers
def _objective(act: torch.Tensor, channel: int | None) -> torch.Tensor:
    """Mean activation of ``channel`` (feature maps or logits), or the mean squared activation of the whole layer."""
    if channel is None:
        return act.pow(2).mean()
    if not 0 <= channel < act.shape[1]:
        raise ValueError(f"channel must be in [0, {act.shape[1] - 1}] for a layer with {act.shape[1]} channels, "
                         f"got {channel}")
    return act[:, channel].mean()


def _normalized_step(x: torch.Tensor, grad: torch.Tensor, lr: float) -> None:
    """x ← x + lr · g / mean|g| (in place): the step size in pixels does not depend on the layer's scale."""
    x.add_(grad, alpha=lr / (grad.abs().mean().item() + 1e-12))


def _check_image(image: torch.Tensor, name: str) -> torch.Tensor:
    check_tensor(image, name, ndim=(3, 4), floating=True)
    if image.dim() == 3:
        image = image.unsqueeze(0)
    if image.shape[0] != 1 or image.shape[1] != 3:
        raise ValueError(f"{name} must be one RGB image of shape (3, H, W) or (1, 3, H, W), got {tuple(image.shape)}")
    return image


def _check_nonneg(**values: float) -> None:
    for name, v in values.items():
        if not v >= 0:
            raise ValueError(f"{name} must be non-negative, got {v}")


# --------------------------------------------------------------------------------------------- generators
def maximize_activation(features_fn: FeaturesFn, layer: str, channel: int | None = None, size: int = 128,
                        steps: int = 100, lr: float = 0.05, jitter_px: int = 4, blur_sigma: float = 0.5,
                        blur_every: int = 4, l2: float = 0.0, tv_weight: float = 0.0, octaves: int = 1,
                        octave_scale: float = 1.4, init: torch.Tensor | None = None, every: int = 5,
                        device: torch.device | str | None = None,
                        generator: torch.Generator | None = None) -> Iterator[Frame]:
    """Activation maximisation by gradient ascent on the image (Notes §3.9.1); yields frames.

    Starting from faint noise around grey, each step takes ``x ← x + lr · g/mean|g|`` with ``g`` the gradient of

        objective(x) − l2 · mean((x − ½)²) − tv_weight · TV(x),   objective = mean of ``channel`` at ``layer``

    computed on a jittered copy of ``x``; every ``blur_every`` steps the image is blurred with ``blur_sigma`` and
    it is clipped to [0, 1]. ``channel=None`` maximises the mean squared activation of the whole layer; with
    ``layer='logits'`` the channel is a class. ``octaves > 1`` starts at a smaller size and upsamples by
    ``octave_scale`` between stages (coarse structure first), spending ``steps`` in total.

    Args:
        features_fn: ``(x, layers) -> {name: (B, C, ...)}`` (see :func:`layer_fn`).
        layer, channel: what to maximise.
        size: side of the square image at the last octave (ignored when ``init`` is given).
        steps, lr: number of ascent steps and pixel step size (mean absolute change per step).
        jitter_px, blur_sigma, blur_every, l2, tv_weight: regularisers; all 0 gives the plain ascent of the notes.
        init: optional start image (3, H, W) in [0, 1].
        every: yield a frame every ``every`` steps (plus the first and the last).
        device: where to work when ``init`` is not given (``None``: :func:`dlcourse.device`).
        generator: random generator for the start noise and the jitter.

    Yields:
        :class:`~dlcourse.widgets.Frame`: ``image`` (3, H, W) in [0, 1] (detached, upsampled to the final size),
        ``step``, and ``scalars = {"activation": …}``, the objective *before* that step's update.
    """
    check_positive_int(steps, "steps")
    check_positive_int(every, "every")
    check_positive_int(octaves, "octaves")
    check_positive_int(blur_every, "blur_every")
    check_nonnegative_int(jitter_px, "jitter_px")
    _check_nonneg(lr=lr, blur_sigma=blur_sigma, l2=l2, tv_weight=tv_weight)
    if octave_scale <= 1:
        raise ValueError(f"octave_scale must be > 1, got {octave_scale}")
    if init is not None:
        x = _check_image(init, "init").detach().clone()
    else:
        check_positive_int(size, "size")
        small = max(16, round(size / octave_scale ** (octaves - 1)))
        noise = torch.rand((1, 3, small, small), generator=generator)
        x = (0.5 + 0.1 * (noise - 0.5)).to(resolve_device(device))
    final = x.shape[-2:] if init is not None else (size, size)
    per_octave = [steps // octaves + (1 if i < steps % octaves else 0) for i in range(octaves)]
    step = 0
    for o, n in enumerate(per_octave):
        if o > 0:
            side = final if o == octaves - 1 else tuple(max(16, round(s / octave_scale ** (octaves - 1 - o)))
                                                        for s in final)
            x = F.interpolate(x, size=side, mode="bilinear", align_corners=False)
        for _ in range(n):
            x.requires_grad_(True)
            xj = jitter(x, jitter_px, generator)
            act = features_fn(xj, [layer])[layer]
            value = _objective(act, channel)
            total = value
            if l2 > 0:
                total = total - l2 * l2_penalty(x)
            if tv_weight > 0:
                total = total - tv_weight * total_variation(x)
            (grad,) = torch.autograd.grad(total, x)
            x = x.detach()
            if step % every == 0:
                yield _frame(x, final, f"{layer}[{channel}] step {step}: {value.item():.3g}", step,
                             {"activation": value.item()})
            _normalized_step(x, grad, lr)
            if blur_sigma > 0 and (step + 1) % blur_every == 0:
                x = gaussian_blur(x, blur_sigma)
            x.clamp_(0, 1)
            step += 1
    with torch.no_grad():
        value = _objective(features_fn(x, [layer])[layer], channel).item()
    yield _frame(x, final, f"{layer}[{channel}] step {step}: {value:.3g}", step, {"activation": value})


def invert_representation(features_fn: FeaturesFn, layer: str, target: torch.Tensor, steps: int = 200,
                          lr: float = 0.05, tv_weight: float = 1.0, l2: float = 0.0, jitter_px: int = 0,
                          init: torch.Tensor | None = None, every: int = 10,
                          generator: torch.Generator | None = None) -> Iterator[Frame]:
    """Invert a layer's representation of a photo (the notes' generative approach, Notes §3.9.1); yields frames.

    Minimises with Adam over an image ``x`` in [0, 1], started from faint noise,

        ‖Θ_l(x) − Θ_l(x̂)‖² / ‖Θ_l(x̂)‖²  +  tv_weight · TV(x)  +  l2 · mean((x − ½)²)

    where ``Θ_l`` is the activation at ``layer`` and ``x̂ = target``. A shallow layer keeps enough to redraw the
    photo; a deep one keeps *what* is there and loses *where* and the exact colours.

    Args:
        features_fn: ``(x, layers) -> {name: tensor}``.
        layer: the layer whose representation is matched.
        target: the photo x̂ (3, H, W) or (1, 3, H, W) in [0, 1].
        steps, lr: Adam steps and learning rate.
        tv_weight, l2, jitter_px: regularisers.
        init: optional start image (default: uniform noise in [0.45, 0.55]).
        every: yield a frame every ``every`` steps (plus the first and the last).
        generator: random generator for the start noise and the jitter.

    Yields:
        :class:`~dlcourse.widgets.Frame` with ``scalars = {"relative error": …}``: the relative feature error before the
        step's update (at the last frame: of the final image).
    """
    check_positive_int(steps, "steps")
    check_positive_int(every, "every")
    check_nonnegative_int(jitter_px, "jitter_px")
    _check_nonneg(lr=lr, tv_weight=tv_weight, l2=l2)
    target = _check_image(target, "target")
    with torch.no_grad():
        ref = features_fn(target, [layer])[layer].detach()
    scale = ref.pow(2).sum().clamp_min(1e-12)
    if init is None:
        noise = torch.rand(target.shape, generator=generator).to(target.device)
        x = 0.45 + 0.1 * noise
    else:
        x = _check_image(init, "init").detach().clone()
        if x.shape != target.shape:
            raise ValueError(f"init must have the target's shape {tuple(target.shape)}, got {tuple(x.shape)}")
    x.requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    for step in range(steps + 1):
        xj = jitter(x, jitter_px, generator)
        rel = (features_fn(xj, [layer])[layer] - ref).pow(2).sum() / scale
        if step % every == 0 or step == steps:
            yield Frame(x.detach()[0].clamp(0, 1).clone(), f"inverting {layer}, step {step}: error {rel.item():.3f}",
                        {"relative error": rel.item()}, step)
        if step == steps:
            break
        loss = rel
        if tv_weight > 0:
            loss = loss + tv_weight * total_variation(x)
        if l2 > 0:
            loss = loss + l2 * l2_penalty(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)


def deep_dream(features_fn: FeaturesFn, layer: str, image: torch.Tensor, channel: int | None = None,
               octaves: int = 3, octave_scale: float = 1.4, steps_per_octave: int = 10, lr: float = 0.01,
               jitter_px: int = 8, every: int = 1, generator: torch.Generator | None = None) -> Iterator[Frame]:
    """Deep dream with octaves (Notes §3.9.2); yields frames at the photo's size.

    The photo is shrunk ``octaves − 1`` times by ``octave_scale``. From the smallest scale up, the current image
    (the photo at that scale plus the *detail* dreamed so far, upsampled) climbs the objective with jittered,
    normalised gradient steps ``x ← x + lr · g/mean|g|``. The objective is ``mean(Θ_l(x)²)`` over the whole layer
    (content enhancing: whatever the layer detects gets stronger) or the mean of one ``channel``. Small scales
    paint large structures; large scales add fine detail.

    Args:
        features_fn: ``(x, layers) -> {name: tensor}``.
        layer, channel: the layer (and optional channel) to enhance.
        image: the photo (3, H, W) or (1, 3, H, W) in [0, 1].
        octaves, octave_scale: number of scales and the ratio between them.
        steps_per_octave, lr, jitter_px: ascent steps per scale, pixel step size, jitter.
        every: yield a frame every ``every`` steps (plus the first and the last).
        generator: random generator for the jitter.

    Yields:
        :class:`~dlcourse.widgets.Frame` with ``scalars = {"activation": …}`` (the octave is in the caption).
    """
    check_positive_int(octaves, "octaves")
    check_positive_int(steps_per_octave, "steps_per_octave")
    check_positive_int(every, "every")
    check_nonnegative_int(jitter_px, "jitter_px")
    _check_nonneg(lr=lr)
    if octave_scale <= 1:
        raise ValueError(f"octave_scale must be > 1, got {octave_scale}")
    photo = _check_image(image, "image").detach()
    final = photo.shape[-2:]
    sizes = [tuple(max(16, round(s / octave_scale ** (octaves - 1 - o))) for s in final) for o in range(octaves)]
    bases = [F.interpolate(photo, size=s, mode="bilinear", align_corners=False, antialias=True)
             if s != tuple(final) else photo for s in sizes]
    detail = torch.zeros_like(bases[0])
    step = 0
    value = float("nan")
    for o, (side, base) in enumerate(zip(sizes, bases, strict=True)):
        if detail.shape[-2:] != base.shape[-2:]:
            detail = F.interpolate(detail, size=side, mode="bilinear", align_corners=False)
        x = (base + detail).clamp(0, 1)
        for _ in range(steps_per_octave):
            x.requires_grad_(True)
            value_t = _objective(features_fn(jitter(x, jitter_px, generator), [layer])[layer], channel)
            (grad,) = torch.autograd.grad(value_t, x)
            x = x.detach()
            value = value_t.item()
            if step % every == 0:
                yield _frame(x, final, f"dreaming {layer}, octave {o + 1}/{octaves}, step {step}", step,
                             {"activation": value})
            _normalized_step(x, grad, lr)
            x.clamp_(0, 1)
            step += 1
        detail = x - base
    with torch.no_grad():
        value = _objective(features_fn(x, [layer])[layer], channel).item()
    yield _frame(x, final, f"dreaming {layer}, done after {step} steps", step, {"activation": value})


def _frame(x: torch.Tensor, size, caption: str, step: int, scalars: dict) -> Frame:
    img = x.detach()
    if tuple(img.shape[-2:]) != tuple(size):
        img = F.interpolate(img, size=tuple(size), mode="bilinear", align_corners=False)
    return Frame(img[0].clamp(0, 1).clone(), caption, scalars, step)
