"""Transposed and dilated convolution (Notes §3.7).

A transposed convolution with stride ``s`` is an ordinary convolution over the input with ``s − 1`` zeros inserted
between neighbouring pixels (a "convolution with stride 1/s"), padded by ``dilation·(k − 1) − padding`` on each side
and applied with the kernel flipped and its in/out channel axes swapped (Dumoulin & Visin, 2016). That is how
:func:`conv_transpose2d` computes it; the result equals ``F.conv_transpose2d``.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .._utils import check_nonnegative_int, check_pair, check_positive_int, check_tensor

__all__ = ["conv_transpose2d", "conv_transpose_output_size", "dilated_receptive_field"]


def conv_transpose_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0,
                               dilation: int = 1) -> int:
    """Output length of a transposed convolution along one axis (Notes §3.7).

    ``(size − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1``, the inverse of the convolution's
    ``⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1``; ``output_padding`` (< stride or < dilation)
    picks one of the input sizes that a strided convolution maps to the same output size.
    """
    size, kernel, stride = (check_positive_int(v, n) for v, n in ((size, "size"), (kernel, "kernel"),
                                                                   (stride, "stride")))
    padding = check_nonnegative_int(padding, "padding")
    output_padding = check_nonnegative_int(output_padding, "output_padding")
    dilation = check_positive_int(dilation, "dilation")
    if output_padding >= max(stride, dilation):
        raise ValueError(f"output_padding must be smaller than stride or dilation, got output_padding={output_padding}"
                         f" with stride={stride}, dilation={dilation}")
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out <= 0:
        raise ValueError(f"padding={padding} is too large: the output size would be {out}")
    return out


def conv_transpose2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                     stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                     output_padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1) -> torch.Tensor:
    """Transposed 2-D convolution from scratch, by zero insertion and an ordinary convolution (Notes §3.7).

    Args:
        x: input (N, C_in, H, W).
        weight: (C_in, C_out, k_h, k_w), the layout of ``nn.ConvTranspose2d`` (in and out swapped w.r.t. ``Conv2d``).
        bias: (C_out,) or ``None``.
        stride, padding, output_padding, dilation: ints or (h, w) pairs, as in ``F.conv_transpose2d``.

    Returns:
        (N, C_out, H_out, W_out) with sizes from :func:`conv_transpose_output_size`; equal to
        ``F.conv_transpose2d(x, weight, bias, stride, padding, output_padding, 1, dilation)``.

    Steps: (1) put ``stride − 1`` zeros between input pixels; (2) pad each side with
    ``dilation·(k − 1) − padding`` zeros (crop if negative) and add ``output_padding`` extra rows/columns at the end;
    (3) convolve, stride 1, with the kernel rotated by 180° and its channel axes swapped.
    """
    check_tensor(x, "x", ndim=4, floating=True)
    check_tensor(weight, "weight", ndim=4, floating=True)
    if weight.shape[0] != x.shape[1]:
        raise ValueError(f"weight must have shape (C_in={x.shape[1]}, C_out, k_h, k_w) to match x of shape "
                         f"{tuple(x.shape)}, got {tuple(weight.shape)}")
    if bias is not None:
        check_tensor(bias, "bias", ndim=1)
        if bias.shape[0] != weight.shape[1]:
            raise ValueError(f"bias must have shape ({weight.shape[1]},), got {tuple(bias.shape)}")
    sh, sw = check_pair(stride, "stride")
    ph, pw = check_pair(padding, "padding", check_nonnegative_int)
    oph, opw = check_pair(output_padding, "output_padding", check_nonnegative_int)
    dh, dw = check_pair(dilation, "dilation")
    n, c_in, h, w = x.shape
    kh, kw = weight.shape[2:]
    out_h = conv_transpose_output_size(h, kh, sh, ph, oph, dh)
    out_w = conv_transpose_output_size(w, kw, sw, pw, opw, dw)

    # (1) zero insertion: the "fractionally strided" input of size (h − 1)·s + 1
    up = x.new_zeros(n, c_in, (h - 1) * sh + 1, (w - 1) * sw + 1)
    up[:, :, ::sh, ::sw] = x
    # (2) full padding dilation·(k − 1) minus the transposed conv's padding; negative values crop
    eh, ew = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    up = F.pad(up, (ew, ew + opw, eh, eh + oph))
    # (3) ordinary convolution with the flipped kernel, channels swapped to (C_out, C_in, k_h, k_w)
    kernel = weight.flip(2, 3).transpose(0, 1)
    out = F.conv2d(up, kernel, bias, stride=1, dilation=(dh, dw))
    assert out.shape[2:] == (out_h, out_w)
    return out


def dilated_receptive_field(kernel: int, dilations: Sequence[int]) -> int:
    """Receptive field (in pixels, along one axis) of a stack of stride-1 convolutions (Notes §3.7).

    Each layer with kernel ``k`` and dilation ``d`` widens the field by ``d·(k − 1)``:
    ``1 + Σ d_l·(k − 1)``. With 3×3 kernels and dilations 1, 2, 4, 8 this is 31, against 9 for four plain layers.
    """
    kernel = check_positive_int(kernel, "kernel")
    dilations = [check_positive_int(d, "dilation") for d in dilations]
    return 1 + sum(d * (kernel - 1) for d in dilations)
