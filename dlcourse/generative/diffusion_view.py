"""The live view of diffusion sampling (Notes §4.4.2): x_t and the one-shot x̂_0 side by side at every reverse step,
with the sample judge's current guess, for a chosen number of steps, schedule, η, seed and model.
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from .diffusion import denormalize, sampling_frames

__all__ = ["sampling_view", "sampling_run", "judge_guess"]


@torch.no_grad()
def judge_guess(judge_net: nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The judge's guess for images (N, 1, H, W) in [0, 1]: ``(labels, probabilities)``, each (N,); label 10 means
    "not a digit". The images are resized to the judge's 28×28 first."""
    if images.shape[-1] != 28 or images.shape[-2] != 28:
        images = F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False, antialias=True)
    probs = judge_net(images).softmax(dim=1)
    p, labels = probs.max(dim=1)
    return labels, p


def _side_by_side(x_t: torch.Tensor, x0_hat: torch.Tensor | None) -> torch.Tensor:
    """One image (1, H, 2W + 1): x_t, a one-pixel grey gap, x̂0 (black before the first estimate)."""
    left = denormalize(x_t[0])
    right = torch.zeros_like(left) if x0_hat is None else denormalize(x0_hat[0])
    gap = torch.full_like(left[..., :1], 0.5)
    return torch.cat([left, gap, right], dim=-1)


def sampling_run(models: Mapping[str, nn.Module], judge_net: nn.Module, steps: int = 20, schedule: str = "cosine",
                 eta: float = 0.0, seed: int = 0, model: str | None = None, device=None):
    """A generator of view frames: one per reverse step of a single sample (see :func:`sampling_view`)."""
    from ..widgets import Frame

    name = model if model is not None else next(iter(models))
    if name not in models:
        raise ValueError(f"model must be one of {list(models)}, got {name!r}")
    net = models[name]
    size = int(getattr(net, "config", {}).get("image_size", 16))
    dev = device if device is not None else next(net.parameters()).device
    eta = eta if eta == "fresh" else float(eta)
    for item in sampling_frames(net, (1, 1, size, size), steps=int(steps), schedule=schedule, eta=eta,
                                seed=int(seed), device=dev):
        k, x0_hat = item["k"], item["x0_hat"]
        if x0_hat is None:
            caption = f"step 0/{steps}: x_T ~ N(0, I) (seed {seed}); left x_t, right x̂0"
            yield Frame(_side_by_side(item["x_t"], None), caption, {"ᾱ_t": item["alpha_bar"]})
            continue
        label, p = judge_guess(judge_net, denormalize(x0_hat))
        guess = "not a digit" if int(label) == 10 else f"a {int(label)}"
        caption = (f"step {k}/{steps}: t = {item['t']} → {item['t_prev']}, ᾱ_t = {item['alpha_bar']:.3f}; "
                   f"judge on x̂0: {guess} ({float(p):.0%})")
        yield Frame(_side_by_side(item["x_t"], x0_hat), caption,
                    {"ᾱ_t": item["alpha_bar"], "judge confidence": float(p)})


def sampling_view(models: Mapping[str, nn.Module] | nn.Module, judge_net: nn.Module | None = None,
                  device=None, steps: int = 50, presets: list[dict] | None = None, scale: int = 8,
                  max_frames: int = 101):
    """A :class:`~dlcourse.widgets.LiveView` of the reverse process for one sample (Notes §4.4.2).

    Each frame shows x_t (left) and the one-shot x̂_0 (right) at one step, with ᾱ_t and the judge's guess on x̂_0
    in the caption; the curve tracks the judge's confidence. Controls: number of steps, schedule, the re-injected
    noise (fresh noise as in the notes, DDPM, DDIM with η = 0.5, or the predicted noise: deterministic DDIM; see
    :func:`~dlcourse.generative.ddim_step`), seed and model.

    Args:
        models: ``{name: denoiser}`` (e.g. ``{"16 px (trained live)": net}``) or one denoiser; each has
            ``config["image_size"]``.
        judge_net: the classifier that names digits (11 logits, the last "not a digit"); ``None`` means
            :func:`dlcourse.generative.judge`.
        presets: settings precomputed for the static page; by default seeds 0–2 × 20, 50 and 100 steps of the first
            model and, for every further model, seeds 0–2 at 50 steps and seed 0 at 100 steps.
        scale: on-screen enlargement of the 1× frames (they are stored at 1×, so the page stays small).
        max_frames: frames kept per run (spread evenly, the last always kept); 101 keeps every step of 100.
    """
    import ipywidgets as W

    from ..widgets import LiveView

    if isinstance(models, nn.Module):
        models = {f"{models.config.get('image_size', 16)} px": models}
    models = dict(models)
    if not models:
        raise ValueError("sampling_view needs at least one model")
    if judge_net is None:
        from . import judge

        judge_net = judge(device)
    judge_net.eval()
    names = list(models)
    controls = {
        "steps": W.IntSlider(value=steps, min=2, max=100, step=1, description="steps"),
        "schedule": W.Dropdown(options=["cosine", "linear"], value="cosine", description="schedule"),
        "eta": W.Dropdown(options=[("fresh ε (the notes)", "fresh"), ("DDPM (η = 1)", 1.0), ("DDIM η = 0.5", 0.5),
                                   ("predicted ε (DDIM η = 0)", 0.0)], value="fresh", description="noise"),
        "seed": W.IntSlider(value=0, min=0, max=99, description="seed"),
        "model": W.Dropdown(options=names, value=names[0], description="model"),
    }
    if presets is None:
        presets = [{"seed": s, "steps": n} for s in (0, 1, 2) for n in (20, 50, 100)]
        for name in names[1:]:
            presets += [{"model": name, "seed": s, "steps": 50} for s in (0, 1, 2)]
            presets.append({"model": name, "seed": 0, "steps": 100})
    run: Callable = lambda **params: sampling_run(models, judge_net, device=device, **params)  # noqa: E731
    return LiveView(run, controls, title="Reverse diffusion: x_t (left) and x̂0 (right) at every step",
                    max_frames=max_frames, scale=scale, presets=presets, fps=6.0)
