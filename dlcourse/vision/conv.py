"""2-D convolution from scratch (im2col + one matrix product), output sizes, receptive fields, parameter and FLOP
counts. Notes §3.1 and §3.1.1.

A convolution here is what PyTorch computes: a *cross-correlation* (the kernel is not flipped),

    y[n, o, r, c] = b[o] + sum_{i, u, v} w[o, i, u, v] * x_pad[n, g(o) * C_in/G + i, r*s_h + u*d_h, c*s_w + v*d_w]

with stride ``s``, dilation ``d``, zero padding and ``G`` groups.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .._utils import check_nonnegative_int, check_pair, check_positive_int, check_tensor

__all__ = [
    "conv2d",
    "im2col",
    "conv_output_size",
    "same_padding",
    "receptive_field",
    "conv_params",
    "conv_flops",
]


_pair = check_pair


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Length of a convolution's output along one axis (Notes §3.1).

    ``padding`` is the number of zeros added on *each* side, as in ``nn.Conv2d``, so the notes' total padding is
    $P = 2 \\cdot$ ``padding``. With dilation $d$ the kernel spans $d(K-1)+1$ pixels, and

    $$O = \\left\\lfloor \\frac{W + 2p - d(K - 1) - 1}{S} \\right\\rfloor + 1,$$

    which is the notes' $(W + P - K)/S + 1$ for $d = 1$ when the division is exact.

    Raises ``ValueError`` when the (dilated) kernel does not fit into the padded input.
    """
    size = check_positive_int(size, "size")
    kernel = check_positive_int(kernel, "kernel")
    stride = check_positive_int(stride, "stride")
    padding = check_nonnegative_int(padding, "padding")
    dilation = check_positive_int(dilation, "dilation")
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(
            f"the kernel spans {span} pixels (kernel={kernel}, dilation={dilation}) but the padded input has only "
            f"{size + 2 * padding} (size={size}, padding={padding} per side)"
        )
    return (size + 2 * padding - span) // stride + 1


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """Zeros to add ``(before, after)`` along one axis so that a stride-1 convolution keeps the size ("same").

    The dilated kernel spans $d(K-1)+1$ pixels, so $d(K-1)$ zeros are needed in total; with an even total the two
    sides get the same, otherwise the extra zero goes after (PyTorch's ``padding='same'`` convention).
    """
    kernel = check_positive_int(kernel, "kernel")
    dilation = check_positive_int(dilation, "dilation")
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def receptive_field(layers: Sequence[tuple[int, ...]]) -> int:
    """Receptive field (in input pixels, along one axis) of one output pixel after a stack of layers (Notes §3.1).

    ``layers`` lists ``(kernel, stride)`` or ``(kernel, stride, dilation)`` per layer, first layer first (pooling
    layers count as layers too). Each layer widens the field by $d(K-1)$ times the product of the strides of the
    layers before it (the *jump* between neighbouring pixels of its input, measured in input pixels):

    $$r_L = 1 + \\sum_{l=1}^{L} d_l (K_l - 1) \\prod_{m<l} S_m.$$
    """
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise TypeError(
            f"layers must be a sequence of (kernel, stride[, dilation]) tuples, got {type(layers).__name__}"
        )
    field, jump = 1, 1
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise ValueError(f"layer {i} must be (kernel, stride) or (kernel, stride, dilation), got {layer!r}")
        kernel = check_positive_int(layer[0], f"layers[{i}] kernel")
        stride = check_positive_int(layer[1], f"layers[{i}] stride")
        dilation = check_positive_int(layer[2], f"layers[{i}] dilation") if len(layer) == 3 else 1
        field += dilation * (kernel - 1) * jump
        jump *= stride
    return field


def conv_params(k_w: int, k_h: int, d_in: int, d_out: int, bias: bool = True, groups: int = 1) -> int:
    """Learnable parameters of a convolutional layer (Notes §3.1.1).

    $(K_w K_h) \\cdot D_{in} \\cdot D_{out} + D_{out}$: every one of the $D_{out}$ kernels sees all $D_{in}$ input
    channels, plus one bias per kernel. With ``groups`` each kernel sees only $D_{in}/G$ channels. Equal to the
    parameter count of ``nn.Conv2d(d_in, d_out, (k_h, k_w), bias=bias, groups=groups)``.
    """
    k_w, k_h = check_positive_int(k_w, "k_w"), check_positive_int(k_h, "k_h")
    d_in, d_out = check_positive_int(d_in, "d_in"), check_positive_int(d_out, "d_out")
    groups = check_positive_int(groups, "groups")
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    if d_in % groups or d_out % groups:
        raise ValueError(f"d_in={d_in} and d_out={d_out} must both be divisible by groups={groups}")
    return k_w * k_h * (d_in // groups) * d_out + (d_out if bias else 0)


def conv_flops(k_w: int, k_h: int, d_in: int, d_out: int, out_w: int, out_h: int, batch_size: int = 1,
               groups: int = 1) -> int:
    """Floating-point operations of a convolution's forward pass (Notes §3.1.1).

    Each of the $O_w O_h D_{out}$ outputs is a dot product of length $K_w K_h D_{in}$ (of $D_{in}/G$ with groups):
    one multiplication and one addition per term, so

    $$\\text{FLOPs} = 2 \\cdot (K_w K_h) \\cdot D_{in} \\cdot D_{out} \\cdot (O_w O_h)$$

    per image: the notes' order-of-magnitude count times 2 (a multiply-add is two FLOPs). This is the convention of
    ``torch.utils.flop_counter.FlopCounterMode``; the bias additions are not counted.
    """
    k_w, k_h = check_positive_int(k_w, "k_w"), check_positive_int(k_h, "k_h")
    d_in, d_out = check_positive_int(d_in, "d_in"), check_positive_int(d_out, "d_out")
    out_w, out_h = check_positive_int(out_w, "out_w"), check_positive_int(out_h, "out_h")
    batch_size = check_positive_int(batch_size, "batch_size")
    groups = check_positive_int(groups, "groups")
    if d_in % groups or d_out % groups:
        raise ValueError(f"d_in={d_in} and d_out={d_out} must both be divisible by groups={groups}")
    return 2 * k_w * k_h * (d_in // groups) * d_out * out_w * out_h * batch_size


def im2col(x: torch.Tensor, kernel_size, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """Every receptive field of ``x`` as a column: (N, C, H, W) -> (N, C·k_h·k_w, O_h·O_w) (Notes §3.1).

    The same matrix as ``F.unfold(x, kernel_size, dilation, padding, stride)``, built from strided *views*
    (``Tensor.unfold`` slides a window along one axis without copying; ``[..., ::d]`` keeps every ``d``-th tap of a
    dilated window), so that only the final ``reshape`` copies. Rows are ordered channel-major, then kernel row,
    then kernel column, like ``weight.reshape(C_out, -1)``; columns are output positions in row-major order.
    """
    check_tensor(x, "x", ndim=4)
    k_h, k_w = _pair(kernel_size, "kernel_size")
    s_h, s_w = _pair(stride, "stride")
    p_h, p_w = _pair(padding, "padding", check_nonnegative_int)
    d_h, d_w = _pair(dilation, "dilation")
    n, c, h, w = x.shape
    o_h = conv_output_size(h, k_h, s_h, p_h, d_h)
    o_w = conv_output_size(w, k_w, s_w, p_w, d_w)
    if p_h or p_w:
        x = F.pad(x, (p_w, p_w, p_h, p_h))
    span_h, span_w = d_h * (k_h - 1) + 1, d_w * (k_w - 1) + 1
    win = x.unfold(2, span_h, s_h)[..., ::d_h]          # (N, C, O_h, W_pad, k_h)
    win = win.unfold(3, span_w, s_w)[..., ::d_w]        # (N, C, O_h, O_w, k_h, k_w)
    return win.permute(0, 1, 4, 5, 2, 3).reshape(n, c * k_h * k_w, o_h * o_w)


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> torch.Tensor:
    """2-D convolution (cross-correlation, as ``F.conv2d``) by im2col and one batched matrix product. Notes §3.1.

    Args:
        x: input (N, C_in, H, W) or (C_in, H, W).
        weight: kernels (C_out, C_in / groups, k_h, k_w).
        bias: optional (C_out,).
        stride, dilation: int or (h, w) pair, positive.
        padding: int or (h, w) pair of zeros added on each side, or ``"valid"`` (none) or ``"same"`` (output as
            large as the input; stride 1 only).
        groups: split the channels into ``groups`` independent convolutions (``groups = C_in`` is depth-wise).

    Returns:
        (N, C_out, O_h, O_w), or (C_out, O_h, O_w) for an unbatched input, with $O$ from :func:`conv_output_size`.

    How: :func:`im2col` copies every receptive field into a column (N, C_in·k_h·k_w, O_h·O_w) — the same matrix
    as ``F.unfold`` — and the convolution becomes ``weight.view(C_out, -1) @ columns``: one matrix product per group,
    done for all groups and images at once. The backward pass is written out too (Notes §3.2): the kernel's gradient
    is ``grad_out @ columnsᵀ`` summed over the images (a shared weight sums its gradients over every position), and
    the input's gradient is ``weightᵀ @ grad_out`` scattered back onto the pixels with ``F.fold`` (col2im, the
    transpose of im2col: a pixel that sits in several receptive fields sums their contributions).
    """
    check_tensor(x, "x", ndim=(3, 4), floating=True)
    check_tensor(weight, "weight", ndim=4, floating=True)
    unbatched = x.dim() == 3
    if unbatched:
        x = x.unsqueeze(0)
    groups = check_positive_int(groups, "groups")
    n, c_in, h, w = x.shape
    c_out, c_per_group, k_h, k_w = weight.shape
    if c_in % groups or c_out % groups:
        raise ValueError(f"in channels ({c_in}) and out channels ({c_out}) must be divisible by groups={groups}")
    if c_per_group * groups != c_in:
        raise ValueError(
            f"weight of shape {tuple(weight.shape)} expects {c_per_group * groups} input channels "
            f"({c_per_group} per group × {groups} groups), but x has {c_in}"
        )
    if bias is not None:
        check_tensor(bias, "bias", ndim=1)
        if bias.shape[0] != c_out:
            raise ValueError(f"bias must have shape ({c_out},), got {tuple(bias.shape)}")
    s_h, s_w = _pair(stride, "stride")
    d_h, d_w = _pair(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if (s_h, s_w) != (1, 1):
                raise ValueError(f"padding='same' needs stride 1, got stride {(s_h, s_w)}")
            top, bottom = same_padding(k_h, d_h)
            left, right = same_padding(k_w, d_w)
            if (top, left) != (bottom, right):  # asymmetric: pad explicitly, extra zero after
                x = F.pad(x, (left, right, top, bottom))
                padding = (0, 0)
            else:
                padding = (top, left)
        else:
            raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    p_h, p_w = _pair(padding, "padding", check_nonnegative_int)
    h, w = x.shape[-2:]
    o_h = conv_output_size(h, k_h, s_h, p_h, d_h)
    o_w = conv_output_size(w, k_w, s_w, p_w, d_w)

    out = _Im2colConv.apply(x, weight, (k_h, k_w), (s_h, s_w), (p_h, p_w), (d_h, d_w), groups)
    if bias is not None:
        out = out + bias.view(1, c_out, 1)
    out = out.view(n, c_out, o_h, o_w)
    return out[0] if unbatched else out


class _Im2colConv(torch.autograd.Function):
    """The convolution as im2col + matrix product, with its backward pass written out (Notes §3.1, §3.2).

    Shapes: x (N, C_in, H, W) already unbatched-checked, weight (C_out, C_in/G, k_h, k_w); output (N, C_out, O_h·O_w).
    """

    @staticmethod
    def forward(ctx, x, weight, kernel, stride, padding, dilation, groups):
        n, c_in, h, w = x.shape
        c_out = weight.shape[0]
        cols = im2col(x, kernel, stride, padding, dilation)  # (N, C_in·k_h·k_w, L)
        length = cols.shape[-1]
        w_mat = weight.reshape(groups, c_out // groups, -1)  # (G, C_out/G, K)
        out = w_mat @ cols.view(n, groups, -1, length)  # (G, C_out/G, K) @ (N, G, K, L) -> (N, G, C_out/G, L)
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (x.shape, kernel, stride, padding, dilation, groups)
        return out.reshape(n, c_out, length)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        cols, weight = ctx.saved_tensors
        x_shape, kernel, stride, padding, dilation, groups = ctx.geometry
        n, c_out, length = grad_out.shape
        g = grad_out.reshape(n, groups, c_out // groups, length)  # (N, G, C_out/G, L)
        cols = cols.view(n, groups, -1, length)  # (N, G, K, L)
        grad_weight = grad_x = None
        if ctx.needs_input_grad[1]:
            # dL/dW = Σ_n Σ_positions grad_out · column: the sum over every place the kernel was applied.
            if groups == 1:  # one batched product per image, then the sum over images (the fast path)
                grad_weight = torch.bmm(g[:, 0], cols[:, 0].transpose(1, 2)).sum(0)
            else:
                grad_weight = torch.einsum("ngol,ngkl->gok", g, cols)
            grad_weight = grad_weight.reshape(weight.shape)
        if ctx.needs_input_grad[0]:
            w_mat = weight.reshape(groups, c_out // groups, -1)
            grad_cols = w_mat.transpose(1, 2) @ g  # (G, K, C_out/G) @ (N, G, C_out/G, L) -> (N, G, K, L)
            grad_x = F.fold(grad_cols.reshape(n, -1, length), x_shape[-2:], kernel, dilation=dilation,
                            padding=padding, stride=stride)
        return grad_x, grad_weight, None, None, None, None, None

