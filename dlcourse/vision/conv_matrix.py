"""A convolution written as a dense matrix: the view of Notes §3.2 that makes its backpropagation a dense layer's."""
from __future__ import annotations

import torch

from .._utils import check_tensor

__all__ = ["conv_matrix"]


def conv_matrix(kernel: torch.Tensor, input_hw: tuple[int, int]) -> torch.Tensor:
    """The dense matrix $M$ of a single-channel convolution with stride 1 and no padding (Notes §3.2).

    Args:
        kernel: (k_h, k_w) weights.
        input_hw: ``(in_h, in_w)``, the size of the input image.

    Returns:
        $M$ of shape (out_h·out_w, in_h·in_w), with ``out = in - k + 1`` along each axis, such that
        ``M @ x.flatten() == F.conv2d(x[None, None], kernel[None, None]).flatten()`` (cross-correlation, row-major
        flattening). Row ``r·out_w + c`` holds the kernel at the columns of the input pixels under output pixel
        ``(r, c)``; every other entry is 0. ``M.T`` is the transposed convolution. The notes print the transpose
        $M^T$ (16 × 4) for a 4×4 image and a 3×3 kernel.

    The matrix is built with ``index_put`` from ``kernel``, so it is differentiable: a gradient on $M$ flows back to
    each kernel weight as the **sum** over all the places where that weight appears.
    """
    check_tensor(kernel, "kernel", ndim=2, floating=True)
    if not (isinstance(input_hw, (tuple, list)) and len(input_hw) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in input_hw)):
        raise TypeError(f"input_hw must be a pair of ints (in_h, in_w), got {input_hw!r}")
    in_h, in_w = input_hw
    k_h, k_w = kernel.shape
    if in_h < k_h or in_w < k_w:
        raise ValueError(f"the kernel {(k_h, k_w)} does not fit into an input of size {(in_h, in_w)}")
    out_h, out_w = in_h - k_h + 1, in_w - k_w + 1
    dev = kernel.device
    r = torch.arange(out_h, device=dev).view(-1, 1, 1, 1)
    c = torch.arange(out_w, device=dev).view(1, -1, 1, 1)
    u = torch.arange(k_h, device=dev).view(1, 1, -1, 1)
    v = torch.arange(k_w, device=dev).view(1, 1, 1, -1)
    shape = (out_h, out_w, k_h, k_w)
    rows = (r * out_w + c).expand(shape)              # which output pixel
    cols = ((r + u) * in_w + (c + v)).expand(shape)   # which input pixel the kernel entry (u, v) multiplies
    vals = kernel.expand(shape)
    m = kernel.new_zeros(out_h * out_w, in_h * in_w)
    return m.index_put((rows.reshape(-1), cols.reshape(-1)), vals.reshape(-1))
