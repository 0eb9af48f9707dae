"""Depth-wise separable convolution (Notes §3.4, the Inception/Xception hypothesis) and its counts (§3.4.1)."""
from __future__ import annotations

import torch
from torch import nn

from .._utils import check_positive_int

__all__ = ["SeparableConv2d", "separable_params", "separable_flops"]


class SeparableConv2d(nn.Module):
    """A depth-wise $k \\times k$ convolution (one kernel per input channel, ``groups=in_channels``) followed by a
    point-wise $1 \\times 1$ convolution that mixes the channels (Notes §3.4).

    Shapes: (N, C_in, H, W) -> (N, C_out, O_h, O_w), with the spatial size set by the depth-wise step exactly as
    for ``nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation)``.

    Parameters: $K_w K_h D_{in} + D_{in} D_{out}$, plus $D_{in} + D_{out}$ biases when ``bias=True`` (one per
    channel of each step); see :func:`separable_params`.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True):
        super().__init__()
        in_channels = check_positive_int(in_channels, "in_channels")
        out_channels = check_positive_int(out_channels, "out_channels")
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride, padding=padding,
                                   dilation=dilation, groups=in_channels, bias=bias)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def separable_params(k_w: int, k_h: int, d_in: int, d_out: int, bias: bool = False) -> int:
    """Parameters of a depth-wise separable convolution (Notes §3.4.1).

    $(K_w K_h) D_{in} + (1 \\cdot 1 \\cdot D_{in}) D_{out}$ weights, the notes' formula, which is the count with
    ``bias=False``. With ``bias=True`` add $D_{in}$ biases of the depth-wise step and $D_{out}$ of the point-wise
    step: the parameter count of ``SeparableConv2d(d_in, d_out, (k_h, k_w), bias=True)``.
    """
    k_w, k_h = check_positive_int(k_w, "k_w"), check_positive_int(k_h, "k_h")
    d_in, d_out = check_positive_int(d_in, "d_in"), check_positive_int(d_out, "d_out")
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    return k_w * k_h * d_in + d_in * d_out + ((d_in + d_out) if bias else 0)


def separable_flops(k_w: int, k_h: int, d_in: int, d_out: int, out_w: int, out_h: int, batch_size: int = 1) -> int:
    """FLOPs of a depth-wise separable convolution's forward pass (multiply-add = 2, biases not counted).

    Depth-wise: $2 K_w K_h D_{in} O_w O_h$; point-wise: $2 D_{in} D_{out} O_w O_h$. Against a full convolution's
    $2 K_w K_h D_{in} D_{out} O_w O_h$ the ratio is $1/D_{out} + 1/(K_w K_h)$.
    """
    k_w, k_h = check_positive_int(k_w, "k_w"), check_positive_int(k_h, "k_h")
    d_in, d_out = check_positive_int(d_in, "d_in"), check_positive_int(d_out, "d_out")
    out_w, out_h = check_positive_int(out_w, "out_w"), check_positive_int(out_h, "out_h")
    batch_size = check_positive_int(batch_size, "batch_size")
    return 2 * (k_w * k_h * d_in + d_in * d_out) * out_w * out_h * batch_size
