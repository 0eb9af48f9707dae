"""Input checks shared by the pretrained networks."""
from __future__ import annotations

import torch

from .._utils import check_tensor


def check_rgb_batch(x, name: str = "x") -> torch.Tensor:
    """Raise a clear error unless ``x`` is a float tensor of shape (B, 3, H, W); return it.

    Values are expected in [0, 1] (RGB); they are not checked, because gradient ascent and attacks legitimately
    step slightly outside that range between projections.
    """
    check_tensor(x, name, ndim=4)
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point RGB tensor in [0, 1], got dtype {x.dtype}")
    if x.shape[1] != 3:
        hint = " (repeat a gray channel with x.expand(-1, 3, -1, -1))" if x.shape[1] == 1 else ""
        raise ValueError(f"{name} must have 3 RGB channels in dimension 1, shape (B, 3, H, W); "
                         f"got shape {tuple(x.shape)}{hint}")
    if x.shape[2] < 1 or x.shape[3] < 1:
        raise ValueError(f"{name} must have a positive height and width, got shape {tuple(x.shape)}")
    return x
