"""Training a diffusion denoiser on the course's digits (Notes §4.4.1), and the two trained models the pages use:
:func:`diffusion16` (trained live, cached) and :func:`diffusion28` (the shipped checkpoint of a longer run).
"""
from __future__ import annotations

import copy
import time

import torch
import torch.nn.functional as F
from torch import nn

from .._utils import check_positive_int
from ..loop import fused_adam
from .diffusion import diffusion_loss, normalize
from .registry import register_trained
from .schedules import make_schedule
from .unet import DiffusionUNet

__all__ = ["digit_images", "train_diffusion", "DIFFUSION16_CONFIG", "DIFFUSION28_CONFIG", "diffusion16", "diffusion28",
           "build_diffusion_unet"]

# The 16 px model the 4.4 page trains live: 3,600 steps of batches of 32.
DIFFUSION16_CONFIG = {"image_size": 16, "width": 16, "patch": 1, "batch_size": 32, "lr": 4e-3, "steps": 3600,
                      "ema": 0.995, "schedule": "cosine", "T": 1000, "seed": 0, "split": "train"}
# The 28 px model that scripts/train_diffusion28.py trains and saves as dlcourse/checkpoints/diffusion28.pt: the
# same U-Net working on 2×2 patches (28 px padded to 32), so a step costs what a 16 px step does.
DIFFUSION28_CONFIG = {"image_size": 28, "width": 16, "patch": 2, "batch_size": 32, "lr": 4e-3, "steps": 12000,
                      "ema": 0.995, "schedule": "cosine", "T": 1000, "seed": 0, "split": "train"}


def digit_images(image_size: int = 16, split: str = "train") -> torch.Tensor:
    """The MNIST-5k digits of ``split`` resized (area averaging) to ``image_size``², in [0, 1], shape (N, 1, s, s)."""
    from ..data import load_mnist5k

    image_size = check_positive_int(image_size, "image_size")
    X, _ = load_mnist5k(split)
    X = X.float()
    return X if image_size == 28 else F.interpolate(X, size=(image_size, image_size), mode="area")


def build_diffusion_unet(config: dict) -> DiffusionUNet:
    """A fresh U-Net for ``config`` (seeded by ``config["seed"]`` so the initial weights are reproducible)."""
    torch.manual_seed(config["seed"])
    return DiffusionUNet(width=config["width"], patch=config["patch"])


def train_diffusion(model: nn.Module, X: torch.Tensor, steps: int, batch_size: int = 32, lr: float = 4e-3,
                    ema: float = 0.995, schedule: str = "cosine", T: int = 1000, seed: int = 0,
                    log_every: int = 50, progress: bool = True) -> dict:
    """Train ``model`` to predict the noise (Notes §4.4.1) and leave the EMA of its weights in it.

    Each step: a batch of x_0 (normalised to [−1, 1]), a t ~ U{1…T} and an ε ~ N(0, I) per image,
    x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε, loss ‖ε − G(x_t, ᾱ_t)‖² (mean), AdamW with a cosine-decayed learning rate. The
    weights returned are the exponential moving average (decay ``ema``) of the iterates, a smoother denoiser.

    Args:
        model: ``model(x_t, alpha_bar) -> eps`` on the device of the training.
        X: images in [0, 1], shape (N, 1, H, W).

    Returns:
        a summary: ``losses`` (the mean loss of every ``log_every`` steps), ``log_every``, ``steps``, ``seconds``.
    """
    from tqdm.auto import tqdm

    steps = check_positive_int(steps, "steps")
    if steps < 3:
        raise ValueError(f"steps must be at least 3 (a warm-up and a decay of the learning rate), got {steps}")
    dev = next(model.parameters()).device
    # channels-last tensors make the CPU's (oneDNN) convolutions about 10 % faster; the numbers are the same maths
    model.to(memory_format=torch.channels_last)
    data = normalize(X.to(dev)).contiguous(memory_format=torch.channels_last)
    table = make_schedule(schedule, T).to(torch.float32)
    gen = torch.Generator().manual_seed(seed)
    opt = fused_adam(model.parameters(), lr, decoupled=True)   # no weight decay
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=max(0.05, 2 / steps))
    averaged = copy.deepcopy(model).eval()
    ema_params, live_params = list(averaged.parameters()), list(model.parameters())
    for p in ema_params:
        p.requires_grad_(False)
    losses, running = [], 0.0
    start = time.perf_counter()
    model.train()
    for step in tqdm(range(steps), desc="training the denoiser", disable=not progress, mininterval=2):
        idx = torch.randint(0, len(data), (batch_size,), generator=gen).to(dev)
        loss = diffusion_loss(model, data[idx], table, generator=gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            decay = min(ema, (1 + step) / (10 + step))  # a short warm-up of the average
            torch._foreach_lerp_(ema_params, live_params, 1 - decay)  # θ_ema ← decay·θ_ema + (1 − decay)·θ
        running += loss.item()
        if (step + 1) % log_every == 0:
            losses.append(running / log_every)
            running = 0.0
    model.load_state_dict(averaged.state_dict())
    model.to(memory_format=torch.contiguous_format).eval()
    return {"losses": losses, "log_every": log_every, "steps": steps, "seconds": time.perf_counter() - start}


def _train_from_config(model: nn.Module, config: dict, progress: bool = True) -> dict:
    X = digit_images(config["image_size"], config["split"])
    return train_diffusion(model, X, config["steps"], config["batch_size"], config["lr"], config["ema"],
                           config["schedule"], config["T"], config["seed"], progress=progress)


@register_trained("diffusion")
def diffusion16(device: torch.device | str | None = None, **overrides) -> DiffusionUNet:
    """The 16 px digit denoiser, trained once in about a minute on a CPU and cached (Notes §4.4).

    ``overrides`` change entries of :data:`DIFFUSION16_CONFIG` (another seed, fewer steps); each config is its own
    cached model. The model has ``cache_info["summary"]`` with the training's loss curve.
    """
    from ..cache import cached_model

    config = {**DIFFUSION16_CONFIG, **overrides}
    unknown = set(config) - set(DIFFUSION16_CONFIG)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(DIFFUSION16_CONFIG)}")
    model = cached_model("diffusion16", lambda: build_diffusion_unet(config),
                         lambda m: _train_from_config(m, config), config, device=device)
    model.config = config
    return model


def diffusion28(device: torch.device | str | None = None) -> DiffusionUNet:
    """The 28 px digit denoiser shipped with the package (``scripts/train_diffusion28.py``, sha256-checked)."""
    from .._utils import device as default_device
    from ..cache import shipped_checkpoint

    ckpt = shipped_checkpoint("diffusion28")
    config = dict(ckpt["config"])
    model = DiffusionUNet(width=config["width"], patch=config["patch"])
    model.load_state_dict(ckpt["state_dict"])
    model.config = config
    model.summary = ckpt.get("summary", {})
    return model.to(torch.device(device) if device is not None else default_device()).eval()
