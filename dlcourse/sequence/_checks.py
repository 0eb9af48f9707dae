"""Argument checks shared by the sequence modules."""
from __future__ import annotations

import torch

from .._utils import check_tensor


def check_last_dim(x: torch.Tensor, size: int, name: str, what: str) -> None:
    if x.shape[-1] != size:
        raise ValueError(f"{name} must have {size} features in its last dimension ({what}), got shape {tuple(x.shape)}")


def check_shape(x, shape: tuple, name: str) -> torch.Tensor:
    check_tensor(x, name, floating=True)
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(x.shape)}")
    return x
