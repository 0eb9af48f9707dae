"""Shared helpers: device choice, seeding and argument checks used across the package."""
from __future__ import annotations

import os
import random
from typing import Sequence

import numpy as np
import torch

__all__ = ["device", "resolve_device", "seed_everything", "size_scale", "check_tensor", "check_positive_int",
           "check_nonnegative_int", "check_pair"]


def device() -> torch.device:
    """Return the best available device: CUDA, then Apple MPS, then the CPU.

    The environment variable ``DLCOURSE_DEVICE`` (for example ``cpu`` or ``cuda:1``) overrides the choice, so a
    GPU machine can still run a page on the CPU and the other way round.
    """
    forced = os.environ.get("DLCOURSE_DEVICE", "").strip()
    if forced:
        try:
            dev = torch.device(forced)
        except RuntimeError as err:
            raise ValueError(
                f"DLCOURSE_DEVICE must name a torch device such as 'cpu' or 'cuda', got {forced!r}"
            ) from err
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"DLCOURSE_DEVICE={forced!r} but CUDA is not available on this machine")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(dev: torch.device | str | None) -> torch.device:
    """``dev`` as a ``torch.device``; ``None`` means :func:`device` (the package's convention everywhere)."""
    return device() if dev is None else torch.device(dev)


def size_scale(dev: torch.device | str | None = None) -> int:
    """How much bigger a page may make its experiments on ``dev``: 1 on a CPU, 4 on an accelerator.

    Pages multiply data-set sizes, epochs or image sizes by this one number, so a GPU runs the same code path with
    larger settings.
    """
    dev = torch.device(dev) if dev is not None else device()
    return 1 if dev.type == "cpu" else 4


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and CUDA) and return a seeded CPU generator."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


def check_tensor(x, name: str, ndim: int | Sequence[int] | None = None, floating: bool = False) -> torch.Tensor:
    """Raise a clear ``TypeError``/``ValueError`` unless ``x`` is a tensor with the expected rank; return it."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.dim() not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(x.shape)} ({x.dim()} dimensions)")
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def check_positive_int(value, name: str) -> int:
    """Raise unless ``value`` is an int greater than 0; return it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return int(value)


def check_nonnegative_int(value, name: str) -> int:
    """Raise unless ``value`` is an int greater than or equal to 0; return it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    return int(value)


def check_pair(value, name: str, check=check_positive_int) -> tuple[int, int]:
    """An int or a pair of ints (a size, stride, padding …) as a ``(height, width)`` pair, each checked by ``check``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return check(value[0], name), check(value[1], name)
    v = check(value, name)
    return v, v
