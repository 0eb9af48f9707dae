"""Tests of the from-scratch convolution, its matrix form, pooling and separable convolutions (Notes §3.1–3.4)."""
import itertools
import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dlcourse.vision.conv import (conv2d, conv_flops, conv_output_size, conv_params, receptive_field,
                                  same_padding)
from dlcourse.vision.conv_matrix import conv_matrix
from dlcourse.vision.pooling import avg_pool2d, max_pool2d
from dlcourse.vision.separable import SeparableConv2d, separable_flops, separable_params

DT = torch.float64


def _random_setting(rng: random.Random):
    groups = rng.choice([1, 1, 2, 3])
    c_in = groups * rng.randint(1, 3)
    c_out = groups * rng.randint(1, 3)
    k = (rng.randint(1, 4), rng.randint(1, 4))
    stride = rng.choice([1, 2, (1, 2), (3, 1)])
    padding = rng.choice([0, 1, (2, 0), (0, 1)])
    dilation = rng.choice([1, 2, (1, 2)])
    h, w = rng.randint(7, 12), rng.randint(7, 12)
    return groups, c_in, c_out, k, stride, padding, dilation, h, w


@pytest.mark.parametrize("seed", range(25))
def test_conv2d_matches_torch_with_gradients(seed):
    rng = random.Random(seed)
    groups, c_in, c_out, k, stride, padding, dilation, h, w = _random_setting(rng)
    n = rng.randint(1, 3)
    x = torch.randn(n, c_in, h, w, dtype=DT, requires_grad=True)
    weight = torch.randn(c_out, c_in // groups, *k, dtype=DT, requires_grad=True)
    bias = torch.randn(c_out, dtype=DT, requires_grad=True) if seed % 2 else None
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    ours = conv2d(x, weight, bias, **args)
    ref = F.conv2d(x, weight, bias, **args)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref)
    g = torch.randn_like(ref)
    inputs = [x, weight] + ([bias] if bias is not None else [])
    for a, b in zip(torch.autograd.grad(ours, inputs, g), torch.autograd.grad(ref, inputs, g), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("k,d", [(3, 1), (4, 1), (2, 3), (5, 2)])
def test_conv2d_same_and_valid_padding(k, d):
    x = torch.randn(2, 3, 9, 10, dtype=DT)
    weight = torch.randn(4, 3, k, k, dtype=DT)
    for mode in ("same", "valid"):
        torch.testing.assert_close(conv2d(x, weight, padding=mode, dilation=d),
                                   F.conv2d(x, weight, padding=mode, dilation=d))
    assert conv2d(x, weight, padding="same", dilation=d).shape[-2:] == x.shape[-2:]
    assert same_padding(k, d) == (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)


def test_conv2d_unbatched_and_device():
    x = torch.randn(3, 8, 8)
    weight = torch.randn(5, 3, 3, 3)
    out = conv2d(x, weight, padding=1)
    assert out.shape == (5, 8, 8) and out.device == x.device
    torch.testing.assert_close(out, F.conv2d(x[None], weight, padding=1)[0], rtol=1e-4, atol=1e-4)


def test_conv2d_bad_inputs():
    with pytest.raises(ValueError, match="dimensions"):
        conv2d(torch.randn(8, 8), torch.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match="input channels"):
        conv2d(torch.randn(1, 3, 8, 8), torch.randn(2, 2, 3, 3))
    with pytest.raises(ValueError, match="groups"):
        conv2d(torch.randn(1, 3, 8, 8), torch.randn(2, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match="bias"):
        conv2d(torch.randn(1, 3, 8, 8), torch.randn(2, 3, 3, 3), torch.randn(3))
    with pytest.raises(ValueError, match="does not fit|spans"):
        conv2d(torch.randn(1, 1, 2, 2), torch.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match="positive"):
        conv2d(torch.randn(1, 1, 5, 5), torch.randn(1, 1, 3, 3), stride=0)
    with pytest.raises(ValueError, match="stride 1"):
        conv2d(torch.randn(1, 1, 5, 5), torch.randn(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(TypeError, match="torch.Tensor"):
        conv2d([[1.0]], torch.randn(1, 1, 1, 1))


def test_conv_output_size_against_real_shapes():
    for size, k, s, p, d in itertools.product([5, 8, 13], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2]):
        if size + 2 * p < d * (k - 1) + 1:
            with pytest.raises(ValueError):
                conv_output_size(size, k, s, p, d)
            continue
        layer = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
        out = layer(torch.zeros(1, 1, size, size))
        assert out.shape[-1] == conv_output_size(size, k, s, p, d), (size, k, s, p, d)
    with pytest.raises(ValueError):
        conv_output_size(5, 3, padding=-1)
    with pytest.raises(TypeError):
        conv_output_size(5.0, 3)


def test_receptive_field_by_gradient():
    # three 3x3 convs, the second with stride 2, then a dilated 3x3 conv
    specs = [(3, 1, 1), (3, 2, 1), (3, 1, 1), (3, 1, 2)]
    net = nn.Sequential(*[nn.Conv2d(1, 1, k, stride=s, dilation=d) for k, s, d in specs])
    with torch.no_grad():
        for m in net:
            m.weight.fill_(1.0)
    x = torch.rand(1, 1, 41, 41, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[-2] // 2, y.shape[-1] // 2].backward()
    rows = (x.grad[0, 0] != 0).any(1).nonzero()
    assert rows.max() - rows.min() + 1 == receptive_field(specs) == 1 + 2 + 2 + 4 + 8
    assert receptive_field([]) == 1
    with pytest.raises(ValueError):
        receptive_field([(3,)])


def test_conv_params_and_flops():
    for kw, kh, din, dout, g in [(3, 3, 3, 16, 1), (5, 1, 4, 8, 2), (1, 1, 64, 32, 1), (3, 3, 8, 8, 8)]:
        for bias in (True, False):
            layer = nn.Conv2d(din, dout, (kh, kw), bias=bias, groups=g)
            assert conv_params(kw, kh, din, dout, bias, groups=g) == sum(p.numel() for p in layer.parameters())
        x = torch.randn(2, din, 11, 12)
        with FlopCounterMode(display=False) as counter:
            out = layer(x)
        assert conv_flops(kw, kh, din, dout, out.shape[-1], out.shape[-2], 2, groups=g) == counter.get_total_flops()
    with pytest.raises(ValueError):
        conv_params(3, 3, 0, 4)
    with pytest.raises(TypeError):
        conv_params(3, 3, 2, 4, bias="yes")
    with pytest.raises(ValueError, match="divisible"):
        conv_params(3, 3, 3, 4, groups=2)


def test_conv_matrix_notes_example_and_random_sizes():
    kernel = torch.arange(1.0, 10.0, dtype=DT).view(3, 3)
    m = conv_matrix(kernel, (4, 4))
    assert m.shape == (4, 16)
    # the notes print M^T (16 x 4); its first column is w00 w01 w02 0 w10 w11 w12 0 w20 w21 w22 0 0 0 0 0
    assert m[0].tolist() == [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0]
    assert m[3].tolist() == [0] * 5 + [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9]
    for kh, kw, h, w in [(3, 3, 4, 4), (2, 3, 5, 7), (1, 1, 3, 2), (4, 2, 4, 6)]:
        k = torch.randn(kh, kw, dtype=DT)
        x = torch.randn(h, w, dtype=DT)
        mat = conv_matrix(k, (h, w))
        y = F.conv2d(x[None, None], k[None, None])
        assert mat.shape == (y.numel(), h * w)
        torch.testing.assert_close(mat @ x.flatten(), y.flatten())
        g = torch.randn_like(y)
        torch.testing.assert_close(mat.T @ g.flatten(), F.conv_transpose2d(g, k[None, None]).flatten())


def test_conv_matrix_gradient_is_sum():
    k = torch.randn(3, 3, dtype=DT, requires_grad=True)
    m = conv_matrix(k, (5, 6))
    m.sum().backward()
    # each weight appears once per output pixel (3 * 4 = 12 times)
    torch.testing.assert_close(k.grad, torch.full((3, 3), 12.0, dtype=DT))
    with pytest.raises(ValueError):
        conv_matrix(torch.randn(3, 3), (2, 5))
    with pytest.raises(TypeError):
        conv_matrix(torch.randn(3, 3), 5)


@pytest.mark.parametrize("seed", range(12))
def test_pooling_matches_torch(seed):
    rng = random.Random(seed)
    k = rng.choice([2, 3, (2, 3), (3, 1)])
    stride = rng.choice([None, 1, 2, (1, 2)])
    x = torch.randn(rng.randint(1, 3), rng.randint(1, 3), rng.randint(6, 11), rng.randint(6, 11), dtype=DT,
                    requires_grad=True)
    for ours_fn, ref_fn in ((max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)):
        ours, ref = ours_fn(x, k, stride), ref_fn(x, k, stride)
        torch.testing.assert_close(ours, ref)
        g = torch.randn_like(ref)
        torch.testing.assert_close(torch.autograd.grad(ours, x, g)[0], torch.autograd.grad(ref, x, g)[0])


def test_max_pool_gradient_goes_to_argmax_only():
    x = torch.tensor([[[[1.0, 5.0], [2.0, 3.0]]]], requires_grad=True)
    max_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]
    assert max_pool2d(torch.randn(2, 6, 6), 2).shape == (2, 3, 3)
    with pytest.raises(ValueError):
        max_pool2d(torch.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError):
        avg_pool2d(torch.randn(4, 4), 2)


def test_separable():
    for kw, kh, din, dout in [(3, 3, 16, 32), (5, 3, 3, 7), (1, 1, 4, 4)]:
        for bias in (True, False):
            m = SeparableConv2d(din, dout, (kh, kw), padding=0, bias=bias)
            assert separable_params(kw, kh, din, dout, bias) == sum(p.numel() for p in m.parameters())
        x = torch.randn(2, din, 10, 9)
        with FlopCounterMode(display=False) as counter:
            out = m(x)
        assert out.shape == nn.Conv2d(din, dout, (kh, kw))(x).shape
        assert separable_flops(kw, kh, din, dout, out.shape[-1], out.shape[-2], 2) == counter.get_total_flops()
    # notes' formula (no biases)
    assert separable_params(3, 3, 32, 64) == 9 * 32 + 32 * 64
    assert separable_params(3, 3, 32, 64, bias=True) == 9 * 32 + 32 * 64 + 32 + 64
    with pytest.raises(ValueError):
        separable_params(3, 3, 0, 4)


@pytest.mark.parametrize("seed", range(8))
def test_im2col_matches_unfold(seed):
    from dlcourse.vision.conv import im2col

    rng = random.Random(100 + seed)
    _, c_in, _, k, stride, padding, dilation, h, w = _random_setting(rng)
    x = torch.randn(2, c_in, h, w, dtype=DT)
    args = dict(kernel_size=k, stride=stride, padding=padding, dilation=dilation)
    torch.testing.assert_close(im2col(x, **args), F.unfold(x, **args))


def test_benchmark_conv2d_runs_small():
    from conv_bench import benchmark_conv2d   # benchmarks/ is on the path (conftest.py)

    res = benchmark_conv2d(batch_size=1, channels=4, size=8, min_time=0.01)
    assert set(res) == {"scratch_fwd", "torch_fwd", "scratch_fwd_bwd", "torch_fwd_bwd", "ratio_fwd", "ratio_fwd_bwd"}
    assert all(v > 0 for v in res.values())


def test_conv2d_backward_when_only_some_inputs_need_gradients():
    """The hand-written backward pass skips what is not asked for and still matches autograd on F.conv2d."""
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2, 4, 9, 9, generator=g, dtype=torch.float64)
    w = torch.randn(6, 2, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    (gw,) = torch.autograd.grad(conv2d(x, w, stride=2, padding=1, groups=2).sum(), (w,))
    (gw_ref,) = torch.autograd.grad(F.conv2d(x, w, stride=2, padding=1, groups=2).sum(), (w,))
    torch.testing.assert_close(gw, gw_ref)
    x.requires_grad_()
    assert torch.autograd.gradcheck(lambda x: conv2d(x, w.detach(), dilation=2, padding=2, groups=2), (x,))
