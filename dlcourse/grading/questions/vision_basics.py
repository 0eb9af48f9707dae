"""Questions of Part 3.1-3.8, vision basics: convolutions, their matrix, pooling, separable convolutions, batch norm.

The wrong answers below are written without the forbidden operators (they are graded under the same ban as a
student's answer), with small helpers of this module.
"""
from __future__ import annotations

import torch

from ...vision.batchnorm import batch_norm2d
from ...vision.conv import conv2d as _conv2d
from ...vision.conv import conv_output_size, conv_params
from ...vision.conv_matrix import conv_matrix
from ...vision.pooling import max_pool2d
from ...vision.separable import separable_params
from ..registry import Case, Mistake, Question, register


def _int(gen: torch.Generator, low: int, high: int) -> int:
    """A random int in [low, high]."""
    return int(torch.randint(low, high + 1, (), generator=gen))


# ---------------------------------------------------------------------------------------------------------------------
# vision.conv_output_size(size, kernel, stride=1, padding=0, dilation=1) -> int


def _out_size_case(gen: torch.Generator) -> Case:
    kernel, dilation = _int(gen, 1, 5), _int(gen, 1, 3)
    padding, stride = _int(gen, 0, 3), _int(gen, 1, 4)
    size = _int(gen, max(1, dilation * (kernel - 1) + 1 - 2 * padding), 40)
    return Case(size, kernel, stride, padding, dilation)


register(Question(
    qid="vision.conv_output_size",
    reference=conv_output_size,
    cases=[Case(28, 3, label="28 pixels, a 3x3 kernel, stride 1, no padding ('valid')"),
           Case(28, 5, 1, 2, label="'same' padding: 28 pixels, 5x5 kernel, padding 2 per side"),
           Case(28, 5, 2, 2, label="stride 2 with padding 2"),
           Case(7, 3, 2, 0, label="a stride that does not divide exactly: 7 pixels, kernel 3, stride 2"),
           Case(10, 3, 1, 0, 2, label="dilation 2: the 3x3 kernel spans 5 pixels"),
           Case(8, 3, 3, 1, 2, label="stride 3, padding 1, dilation 2"),
           Case(3, 3, label="edge: the kernel is as large as the image (one output pixel)")],
    random_case=_out_size_case,
    mistakes=[
        Mistake("total padding", lambda size, kernel, stride=1, padding=0, dilation=1:
                (size + padding - dilation * (kernel - 1) - 1) // stride + 1,
                "`padding` counts the zeros on EACH side (as in nn.Conv2d): the padded size is size + 2 * padding."),
        Mistake("no dilation", lambda size, kernel, stride=1, padding=0, dilation=1:
                (size + 2 * padding - kernel) // stride + 1,
                "A kernel of size K dilated by D spans D * (K - 1) + 1 pixels."),
        Mistake("no +1", lambda size, kernel, stride=1, padding=0, dilation=1:
                (size + 2 * padding - dilation * (kernel - 1) - 1) // stride,
                "Count the first window too: floor((W + 2p - D(K-1) - 1) / S) + 1."),
        Mistake("ceil", lambda size, kernel, stride=1, padding=0, dilation=1:
                -(-(size + 2 * padding - dilation * (kernel - 1) - 1) // stride) + 1,
                "Round DOWN: an incomplete last window is dropped (PyTorch's default, ceil_mode=False)."),
    ],
    forbid=("dlcourse.vision.conv_output_size",),
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.conv_params(k_w, k_h, d_in, d_out, bias=True) -> int


def _params_case(gen: torch.Generator) -> Case:
    return Case(_int(gen, 1, 7), _int(gen, 1, 7), _int(gen, 1, 64), _int(gen, 1, 64), bool(_int(gen, 0, 1)))


register(Question(
    qid="vision.conv_params",
    reference=lambda k_w, k_h, d_in, d_out, bias=True: conv_params(k_w, k_h, d_in, d_out, bias),
    cases=[Case(3, 3, 3, 16, label="3x3 kernels, RGB input, 16 filters"),
           Case(3, 3, 3, 16, False, label="the same without bias"),
           Case(5, 3, 8, 4, label="a non-square 5 (wide) x 3 (high) kernel"),
           Case(1, 1, 64, 32, label="edge: a 1x1 convolution (a dense layer at every pixel)"),
           Case(1, 1, 1, 1, False, label="edge: a single weight")],
    random_case=_params_case,
    mistakes=[
        Mistake("no bias", lambda k_w, k_h, d_in, d_out, bias=True: k_w * k_h * d_in * d_out,
                "Each of the D_out filters has one bias when bias=True: add D_out."),
        Mistake("bias per input", lambda k_w, k_h, d_in, d_out, bias=True:
                k_w * k_h * d_in * d_out + (d_in if bias else 0),
                "There is one bias per OUTPUT channel (D_out), not per input channel."),
        Mistake("no input depth", lambda k_w, k_h, d_in, d_out, bias=True: k_w * k_h * d_out + (d_out if bias else 0),
                "A filter has a K_w x K_h kernel for EVERY input channel: multiply by D_in."),
        Mistake("sum of sides", lambda k_w, k_h, d_in, d_out, bias=True:
                (k_w + k_h) * d_in * d_out + (d_out if bias else 0),
                "A K_w x K_h kernel has K_w * K_h weights (a product, not a sum)."),
    ],
    forbid=("dlcourse.vision.conv_params",),
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.conv2d(x, weight, bias=None, stride=1, padding=0) -> (N, C_out, O_h, O_w)


def _conv_ref(x, weight, bias=None, stride=1, padding=0):
    """The student's version: int stride and padding, no dilation or groups."""
    return _conv2d(x, weight, bias, stride, padding)


def _conv_by_windows(x, weight, bias=None, stride=1, padding=0, flip=False):
    """An independent convolution (strided windows and einsum), used to build the wrong answers."""
    if flip:
        weight = weight.flip(-1, -2)
    if padding:
        x = torch.cat([x.new_zeros(*x.shape[:2], padding, x.shape[3]), x,
                       x.new_zeros(*x.shape[:2], padding, x.shape[3])], dim=2)
        x = torch.cat([x.new_zeros(*x.shape[:3], padding), x, x.new_zeros(*x.shape[:3], padding)], dim=3)
    k_h, k_w = weight.shape[-2:]
    win = x.unfold(2, k_h, stride).unfold(3, k_w, stride)  # (N, C, O_h, O_w, k_h, k_w)
    out = torch.einsum("ncrsuv,ocuv->nors", win, weight)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def _conv_case(gen: torch.Generator) -> Case:
    c_in, c_out, k = _int(gen, 1, 3), _int(gen, 1, 4), _int(gen, 1, 4)
    stride, padding = _int(gen, 1, 3), _int(gen, 0, 2)
    h, w = _int(gen, k, 10), _int(gen, k, 10)
    x = torch.randn(_int(gen, 1, 3), c_in, h, w, generator=gen)
    weight = torch.randn(c_out, c_in, k, k, generator=gen)
    return Case(x, weight, torch.randn(c_out, generator=gen), stride, padding)


_g = torch.Generator().manual_seed(3)
_X = torch.randn(2, 3, 6, 7, generator=_g)
_W = torch.randn(4, 3, 3, 3, generator=_g)
_B = torch.randn(4, generator=_g)
register(Question(
    qid="vision.conv2d",
    reference=_conv_ref,
    cases=[Case(torch.arange(16.0).view(1, 1, 4, 4), torch.arange(9.0).view(1, 1, 3, 3),
                label="the notes' 4x4 image and a 3x3 kernel (cross-correlation: no flip)"),
           Case(_X, _W, _B, label="batch of 2, 3 -> 4 channels, with bias"),
           Case(_X, _W, _B, 2, 1, label="stride 2 and padding 1"),
           Case(_X, _W, None, 1, 1, label="'same' padding, no bias"),
           Case(_X, _W[:, :, :1, :1].contiguous(), _B, label="edge: a 1x1 kernel")],
    random_case=_conv_case,
    mistakes=[
        Mistake("flipped kernel", lambda x, weight, bias=None, stride=1, padding=0:
                _conv_by_windows(x, weight, bias, stride, padding, flip=True),
                "PyTorch's convolution is a cross-correlation: do NOT flip the kernel."),
        Mistake("no bias", lambda x, weight, bias=None, stride=1, padding=0:
                _conv_by_windows(x, weight, None, stride, padding),
                "Add bias[o] to every pixel of output channel o (when a bias is given)."),
        Mistake("no padding", lambda x, weight, bias=None, stride=1, padding=0:
                _conv_by_windows(x, weight, bias, stride, 0),
                "Pad the input with `padding` zeros on each side before sliding the kernel."),
        Mistake("no stride", lambda x, weight, bias=None, stride=1, padding=0:
                _conv_by_windows(x, weight, bias, 1, padding),
                "Move the kernel by `stride` pixels between two outputs: O = floor((W + 2p - K) / S) + 1."),
    ],
    forbid=("dlcourse.vision.conv2d", "dlcourse.vision.conv.im2col", "torch.nn.functional.conv2d",
            "torch.nn.functional.unfold"),
    rtol=1e-4, atol=1e-4,
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.conv_matrix(kernel, input_hw) -> (out_h * out_w, in_h * in_w)


def _matrix_by_loops(kernel, input_hw, flip=False, row_len=None, shrink=0):
    """An independent construction with Python loops (fine for the small sizes of the cases)."""
    in_h, in_w = input_hw
    k_h, k_w = kernel.shape
    if flip:
        kernel = kernel.flip(0, 1)
    out_h, out_w = in_h - k_h + 1 - shrink, in_w - k_w + 1 - shrink
    row_len = in_w if row_len is None else row_len
    m = torch.zeros(max(out_h, 0) * max(out_w, 0), in_h * in_w, dtype=kernel.dtype)
    for r in range(max(out_h, 0)):
        for c in range(max(out_w, 0)):
            for u in range(k_h):
                for v in range(k_w):
                    col = (r + u) * row_len + (c + v)
                    if col < in_h * in_w:
                        m[r * out_w + c, col] = kernel[u, v]
    return m


def _matrix_case(gen: torch.Generator) -> Case:
    k_h, k_w = _int(gen, 1, 3), _int(gen, 1, 3)
    in_h, in_w = _int(gen, k_h, 6), _int(gen, k_w + 1, 7)
    return Case(torch.randn(k_h, k_w, generator=gen), (in_h, in_w))


register(Question(
    qid="vision.conv_matrix",
    reference=conv_matrix,
    cases=[Case(torch.arange(1.0, 10.0).view(3, 3), (4, 4), label="the notes' example: 4x4 image, 3x3 kernel"),
           Case(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), (3, 5), label="a 2x2 kernel on a 3x5 (non-square) image"),
           Case(torch.tensor([[1.0, -1.0, 2.0]]), (2, 4), label="a 1x3 kernel on a 2x4 image"),
           Case(torch.tensor([[2.0]]), (2, 3), label="edge: a 1x1 kernel (a scaled identity)"),
           Case(torch.arange(1.0, 7.0).view(2, 3), (2, 3), label="edge: kernel as large as the image (one row)")],
    random_case=_matrix_case,
    mistakes=[
        Mistake("flipped kernel", lambda kernel, input_hw: _matrix_by_loops(kernel, input_hw, flip=True),
                "Row r*out_w + c holds kernel[u, v] at input pixel (r + u, c + v): no flip (cross-correlation)."),
        Mistake("transposed", lambda kernel, input_hw: _matrix_by_loops(kernel, input_hw).T,
                "Return M with shape (out_h*out_w, in_h*in_w), so that M @ x.flatten() is the output (the notes "
                "print its transpose)."),
        Mistake("row length", lambda kernel, input_hw: _matrix_by_loops(kernel, input_hw,
                                                                        row_len=input_hw[1] - kernel.shape[1] + 1),
                "Input pixel (i, j) of a row-major flattened image is column i * in_w + j (the INPUT width)."),
        Mistake("output size", lambda kernel, input_hw: _matrix_by_loops(kernel, input_hw, shrink=1),
                "Without padding the output has in - k + 1 pixels per axis, not in - k."),
    ],
    forbid=("dlcourse.vision.conv_matrix",),
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.max_pool2d(x, kernel_size, stride=None) -> (N, C, O_h, O_w)


def _windows(x, k, s):
    win = x.unfold(2, k, s).unfold(3, k, s)
    return win.reshape(*win.shape[:4], -1)


def _pool_case(gen: torch.Generator) -> Case:
    k = _int(gen, 1, 3)
    stride = None if _int(gen, 0, 1) else _int(gen, 1, 3)
    x = torch.randn(_int(gen, 1, 2), _int(gen, 1, 3), _int(gen, k + 1, 9), _int(gen, k + 1, 9), generator=gen)
    return Case(x, k, stride)


_P = torch.tensor([[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 5.0], [0.0, 1.0, 7.0, 1.0], [2.0, 6.0, 3.0, 2.0]])[None, None]
register(Question(
    qid="vision.max_pool2d",
    reference=max_pool2d,
    cases=[Case(_P, 2, label="2x2 windows on a 4x4 map (stride defaults to the window)"),
           Case(_P, 3, 1, label="3x3 windows with stride 1 (overlapping)"),
           Case(torch.randn(2, 3, 7, 9, generator=torch.Generator().manual_seed(5)), 2,
                label="a 7x9 map: the last row of pixels does not fill a window"),
           Case(-_P - 1, 2, label="edge: all values negative"),
           Case(_P, 1, label="edge: 1x1 windows (the identity)")],
    random_case=_pool_case,
    mistakes=[
        Mistake("mean", lambda x, kernel_size, stride=None:
                _windows(x, kernel_size, stride or kernel_size).mean(-1),
                "Max pooling keeps the LARGEST value of each window, not the mean."),
        Mistake("stride 1", lambda x, kernel_size, stride=None: _windows(x, kernel_size, stride or 1).max(-1).values,
                "When stride is None it defaults to kernel_size (non-overlapping windows), not 1."),
        Mistake("abs max", lambda x, kernel_size, stride=None:
                _windows(x.abs(), kernel_size, stride or kernel_size).max(-1).values,
                "Take the maximum of the values themselves, not of their absolute values."),
        Mistake("ignore stride", lambda x, kernel_size, stride=None:
                _windows(x, kernel_size, kernel_size).max(-1).values,
                "Use the given stride when it is not None."),
    ],
    forbid=("dlcourse.vision.max_pool2d", "torch.nn.functional.max_pool2d", "torch.max_pool2d"),
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.separable_params(k_w, k_h, d_in, d_out, bias=False) -> int

register(Question(
    qid="vision.separable_params",
    reference=lambda k_w, k_h, d_in, d_out, bias=False: separable_params(k_w, k_h, d_in, d_out, bias),
    cases=[Case(3, 3, 32, 64, label="3x3, 32 -> 64 channels, no biases (the notes' formula)"),
           Case(3, 3, 32, 64, True, label="the same with biases in both steps"),
           Case(5, 3, 8, 4, True, label="a 5 (wide) x 3 (high) kernel, 8 -> 4 channels, with biases"),
           Case(1, 1, 4, 4, label="edge: a 1x1 depth-wise step"),
           Case(3, 3, 1, 1, True, label="edge: one channel in and out")],
    random_case=lambda gen: Case(_int(gen, 1, 7), _int(gen, 1, 7), _int(gen, 1, 64), _int(gen, 1, 64),
                                 bool(_int(gen, 0, 1))),
    mistakes=[
        Mistake("full conv", lambda k_w, k_h, d_in, d_out, bias=False:
                k_w * k_h * d_in * d_out + (d_out if bias else 0),
                "That is a full convolution: the depth-wise step has ONE K_w x K_h kernel per input channel, then "
                "a 1x1 convolution mixes the channels."),
        Mistake("no point-wise", lambda k_w, k_h, d_in, d_out, bias=False:
                k_w * k_h * d_in + (d_in if bias else 0),
                "Add the 1x1 point-wise step: D_in weights for each of the D_out outputs."),
        Mistake("one bias set", lambda k_w, k_h, d_in, d_out, bias=False:
                k_w * k_h * d_in + d_in * d_out + (d_out if bias else 0),
                "With biases, BOTH convolutions have one: D_in (depth-wise) + D_out (point-wise)."),
        Mistake("depth-wise to out", lambda k_w, k_h, d_in, d_out, bias=False:
                k_w * k_h * d_out + d_in * d_out + ((d_in + d_out) if bias else 0),
                "The depth-wise step has one kernel per INPUT channel: K_w * K_h * D_in."),
    ],
    forbid=("dlcourse.vision.separable_params",),
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.batch_norm2d(x, weight, bias, eps=1e-5) -> (N, C, H, W), training mode


def _bn(x, weight, bias, eps, dims=(0, 2, 3), unbiased=False, eps_outside=False, affine=True):
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, unbiased=unbiased, keepdim=True)
    out = (x - mean) / (var.sqrt() + eps if eps_outside else torch.sqrt(var + eps))
    if affine:
        out = out * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
    return out


def _bn_case(gen: torch.Generator) -> Case:
    c = _int(gen, 1, 4)
    x = 3 * torch.randn(_int(gen, 2, 4), c, _int(gen, 1, 5), _int(gen, 2, 5), generator=gen) + 1
    return Case(x, torch.randn(c, generator=gen), torch.randn(c, generator=gen), 1e-5)


_gb = torch.Generator().manual_seed(7)
_XB = 2 * torch.randn(4, 3, 5, 5, generator=_gb) + torch.tensor([1.0, -3.0, 10.0]).view(1, 3, 1, 1)
register(Question(
    qid="vision.batch_norm2d",
    reference=batch_norm2d,
    cases=[Case(_XB, torch.ones(3), torch.zeros(3), label="3 channels with different means, gamma = 1, beta = 0"),
           Case(_XB, torch.tensor([2.0, 0.5, -1.0]), torch.tensor([0.0, 1.0, 3.0]),
                label="learned scale gamma and shift beta"),
           Case(torch.arange(8.0).view(2, 1, 2, 2), torch.ones(1), torch.zeros(1), 0.5,
                label="a large eps = 0.5 (it matters for small variances)"),
           Case(torch.randn(2, 2, 1, 3, generator=_gb), torch.ones(2), torch.zeros(2),
                label="edge: feature maps one pixel high")],
    random_case=_bn_case,
    mistakes=[
        Mistake("unbiased", lambda x, weight, bias, eps=1e-5: _bn(x, weight, bias, eps, unbiased=True),
                "Normalise with the BIASED variance (divide by N*H*W, not N*H*W - 1), as PyTorch does in training."),
        Mistake("per pixel", lambda x, weight, bias, eps=1e-5: _bn(x, weight, bias, eps, dims=(0,)),
                "BatchNorm2d computes one mean and variance per CHANNEL, over the batch AND all pixels (N, H, W)."),
        Mistake("global", lambda x, weight, bias, eps=1e-5: _bn(x, weight, bias, eps, dims=(0, 1, 2, 3)),
                "Each channel has its own statistics: reduce over (N, H, W), not over the channels too."),
        Mistake("eps outside", lambda x, weight, bias, eps=1e-5: _bn(x, weight, bias, eps, eps_outside=True),
                "eps goes under the square root: (x - mean) / sqrt(var + eps)."),
        Mistake("no affine", lambda x, weight, bias, eps=1e-5: _bn(x, weight, bias, eps, affine=False),
                "Finish with gamma * x_hat + beta (weight and bias, one per channel)."),
    ],
    forbid=("dlcourse.vision.batch_norm2d", "torch.nn.functional.batch_norm", "torch.batch_norm"),
    rtol=1e-4, atol=1e-4,
))


# ---------------------------------------------------------------------------------------------------------------------
# vision.conv_stack(size, layers) -> (output size, receptive field) of a stack of (kernel, stride, padding) layers


def _stack_size(size: int, layers: list) -> int:
    for kernel, stride, padding in layers:
        size = (size + 2 * padding - kernel) // stride + 1
    return size


def _stack_field(layers: list) -> int:
    field, jump = 1, 1
    for kernel, stride, _ in layers:
        field += (kernel - 1) * jump
        jump *= stride
    return field


def conv_stack(size: int, layers: list) -> tuple[int, int]:
    """``(O_L, r_L)`` along one axis after ``layers`` = [(kernel, stride, padding), …] (pooling counts as a layer):
    each layer maps ``O ← ⌊(O + 2p − K)/S⌋ + 1``, and widens the receptive field by ``(K − 1)`` times the product of
    the strides before it, ``r_L = 1 + Σ_l (K_l − 1) Π_{m<l} S_m`` (padding changes the size, not the field)."""
    from ...vision.conv import receptive_field

    out = size
    for kernel, stride, padding in layers:
        out = conv_output_size(out, kernel, stride, padding)
    field = receptive_field([(kernel, stride) for kernel, stride, _ in layers])
    assert (out, field) == (_stack_size(size, layers), _stack_field(layers))  # the mistakes' helpers agree
    return out, field


def _stack_variant(size_rule=None, field_rule=None):
    """conv_stack with the output size or the receptive field computed the wrong way."""
    def fn(size, layers):
        out, field = _stack_size(size, layers), _stack_field(layers)
        if size_rule is not None:
            out = size
            for kernel, stride, padding in layers:
                out = size_rule(out, kernel, stride, padding)
        if field_rule is not None:
            field = field_rule(layers)
        return out, field
    return fn


def _field_with(jump_of):
    def rule(layers):
        field, jump = 1, 1
        for kernel, stride, _ in layers:
            jump = jump_of(jump, stride, "before")
            field += (kernel - 1) * jump
            jump = jump_of(jump, stride, "after")
        return field
    return rule


def _stack_case(gen: torch.Generator) -> Case:
    layers, size = [], _int(gen, 32, 128)
    out = size
    for _ in range(_int(gen, 1, 5)):
        kernel, stride = _int(gen, 1, 5), _int(gen, 1, 2)
        padding = _int(gen, 0, kernel // 2)
        if out + 2 * padding < kernel:
            break
        layers.append((kernel, stride, padding))
        out = conv_output_size(out, kernel, stride, padding)
    return Case(size, layers or [(3, 1, 1)])


_VGG_BLOCK = [(3, 1, 1), (3, 1, 1), (2, 2, 0)]

register(Question(
    qid="vision.conv_stack",
    reference=conv_stack,
    cases=[Case(32, [(3, 1, 0), (3, 1, 0)], label="two valid 3x3 convolutions on 32 pixels"),
           Case(224, _VGG_BLOCK * 2, label="two VGG blocks (3x3 'same', 3x3 'same', 2x2 max-pool stride 2) on 224"),
           Case(28, [(5, 1, 2), (2, 2, 0), (5, 1, 2), (2, 2, 0)], label="LeNet-like: 5x5 'same', pool, 5x5, pool"),
           Case(7, [(7, 2, 3)], label="edge: one strided layer (the stride of the last layer does not widen it)"),
           Case(9, [(1, 1, 0), (1, 1, 0)], label="edge: 1x1 convolutions see one pixel")],
    random_case=_stack_case,
    mistakes=[
        Mistake("strides ignored", _stack_variant(field_rule=lambda ls: 1 + sum(k - 1 for k, _, _ in ls)),
                "After a layer of stride S, neighbouring pixels are S input pixels apart: each later layer widens "
                "the field by (K - 1) times the product of the strides BEFORE it."),
        Mistake("own stride counted", _stack_variant(field_rule=_field_with(
                    lambda j, s, when: j * s if when == "before" else j)),
                "A layer's own stride does not widen its own field: multiply (K_l - 1) by the strides of the layers "
                "before l only."),
        Mistake("kernels multiplied", _stack_variant(field_rule=lambda ls: int(torch.tensor(
                    [k for k, _, _ in ls]).prod())),
                "Receptive fields grow by addition: each layer adds (K - 1) times the jump, they do not multiply."),
        Mistake("padding in the field", _stack_variant(field_rule=lambda ls: 1 + sum(
                    (k - 1 + 2 * p) * int(torch.tensor([s for _, s, _ in ls[:i]] + [1]).prod())
                    for i, (k, _, p) in enumerate(ls))),
                "Padding adds zeros around the input, not input pixels: it changes the output size but not the "
                "receptive field."),
        Mistake("no padding", _stack_variant(size_rule=lambda o, k, s, p: (o - k) // s + 1),
                "Each layer pads p zeros on BOTH sides: O = floor((O + 2p - K)/S) + 1."),
        Mistake("padding once", _stack_variant(size_rule=lambda o, k, s, p: (o + p - k) // s + 1),
                "The padding p is added on each side, as in nn.Conv2d: O = floor((O + 2p - K)/S) + 1."),
        Mistake("ceil", _stack_variant(size_rule=lambda o, k, s, p: -(-(o + 2 * p - k) // s) + 1),
                "A window that does not fit is dropped: floor((O + 2p - K)/S) + 1, not the ceiling."),
    ],
    forbid=("dlcourse.vision.receptive_field", "dlcourse.vision.conv_output_size"),
))


# ---------------------------------------------------------------------------------------------------------------------
# vision.mean_rule_slowdown(height, width, kernel_h, kernel_w) -> int: the factor by which averaging a shared weight's
# contributions (the notes' rule) shrinks its gradient against the true sum, for a valid stride-1 convolution.


def mean_rule_slowdown(height: int, width: int, kernel_h: int, kernel_w: int) -> int:
    """``O_h · O_w = (H − K_h + 1)(W − K_w + 1)``: a shared weight appears once per output pixel, its gradient is the
    sum over them, and the mean divides that sum by their number (Notes §3.2)."""
    return (height - kernel_h + 1) * (width - kernel_w + 1)


def _slowdown_case(gen: torch.Generator) -> Case:
    kh, kw = _int(gen, 1, 7), _int(gen, 1, 7)
    return Case(_int(gen, kh, 64), _int(gen, kw, 64), kh, kw)


register(Question(
    qid="vision.mean_rule_slowdown",
    reference=mean_rule_slowdown,
    cases=[Case(28, 28, 5, 5, label="a 5x5 kernel on a 28x28 image"),
           Case(64, 48, 3, 3, label="a 3x3 kernel on a 64x48 image"),
           Case(10, 20, 1, 1, label="edge: a 1x1 kernel (every pixel is an output pixel)"),
           Case(5, 5, 5, 5, label="edge: the kernel covers the image (one output pixel: no slowdown)")],
    random_case=_slowdown_case,
    mistakes=[
        Mistake("input pixels", lambda height, width, kernel_h, kernel_w: height * width,
                "A shared weight appears once per OUTPUT pixel, and a valid convolution has (H - K_h + 1)(W - K_w + 1) "
                "of them, not H W."),
        Mistake("kernel entries", lambda height, width, kernel_h, kernel_w: kernel_h * kernel_w,
                "The mean is over the places where ONE weight is used (the output pixels), not over the kernel's "
                "entries."),
        Mistake("off by one", lambda height, width, kernel_h, kernel_w: (height - kernel_h) * (width - kernel_w),
                "A kernel of K pixels fits H - K + 1 times along an axis of H pixels (count the last position too)."),
        Mistake("one axis", lambda height, width, kernel_h, kernel_w: height - kernel_h + 1,
                "The output has O_h rows AND O_w columns: the weight is used O_h * O_w times."),
    ],
))
