"""Max and average pooling from scratch (Notes §3.3): a sliding window that applies a fixed function."""
from __future__ import annotations

import torch

from .._utils import check_tensor

__all__ = ["max_pool2d", "avg_pool2d"]


def _windows(x: torch.Tensor, kernel_size, stride, name: str) -> tuple[torch.Tensor, bool]:
    """All pooling windows of ``x`` as a view (N, C, O_h, O_w, k_h·k_w); also whether ``x`` came unbatched."""
    check_tensor(x, "x", ndim=(3, 4), floating=True)
    from .conv import _pair

    k_h, k_w = _pair(kernel_size, "kernel_size")
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride, "stride")
    unbatched = x.dim() == 3
    if unbatched:
        x = x.unsqueeze(0)
    h, w = x.shape[-2:]
    if h < k_h or w < k_w:
        raise ValueError(f"{name}: the window {(k_h, k_w)} does not fit into an input of size {(h, w)}")
    # Tensor.unfold(dim, size, step) slides a window along one axis: (N, C, O_h, O_w, k_h, k_w), no copy
    win = x.unfold(2, k_h, s_h).unfold(3, k_w, s_w)
    return win.reshape(*win.shape[:4], k_h * k_w), unbatched


def max_pool2d(x: torch.Tensor, kernel_size, stride=None) -> torch.Tensor:
    """Max pooling (Notes §3.3), equal to ``F.max_pool2d(x, kernel_size, stride)`` (no padding, floor mode).

    Args:
        x: (N, C, H, W) or (C, H, W).
        kernel_size: int or (k_h, k_w).
        stride: int or pair; defaults to ``kernel_size`` (non-overlapping windows).

    Returns:
        (N, C, O_h, O_w) with $O = \\lfloor (H - k)/s \\rfloor + 1$, each entry the largest value in its window.
        Its gradient flows only to the arg-max of each window (the first one on ties, like PyTorch).
    """
    win, unbatched = _windows(x, kernel_size, stride, "max_pool2d")
    out = win.max(dim=-1).values
    return out[0] if unbatched else out


def avg_pool2d(x: torch.Tensor, kernel_size, stride=None) -> torch.Tensor:
    """Average (mean) pooling (Notes §3.3), equal to ``F.avg_pool2d(x, kernel_size, stride)`` (no padding).

    Same shapes as :func:`max_pool2d`; each entry is the mean of its window, so its gradient is spread evenly,
    $1/(k_h k_w)$ to every pixel of the window.
    """
    win, unbatched = _windows(x, kernel_size, stride, "avg_pool2d")
    out = win.mean(dim=-1)
    return out[0] if unbatched else out
