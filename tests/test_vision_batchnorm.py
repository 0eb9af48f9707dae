"""Tests of dlcourse.vision.batchnorm against torch's batch normalization."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.vision import BatchNorm2d, batch_norm2d


@pytest.mark.parametrize("seed", range(5))
def test_batch_norm2d_matches_torch(seed):
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = (int(v) for v in torch.randint(1, 6, (4,), generator=g))
    n += 1
    x = torch.randn(n, c, h, w, generator=g, dtype=torch.float64) * 3 + 2
    weight = torch.randn(c, generator=g, dtype=torch.float64)
    bias = torch.randn(c, generator=g, dtype=torch.float64)
    ours = batch_norm2d(x, weight, bias, eps=1e-3)
    ref = F.batch_norm(x, None, None, weight, bias, training=True, eps=1e-3)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(batch_norm2d(x), F.batch_norm(x, None, None, training=True))


def test_batch_norm2d_gradients_match_torch():
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.rand(3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    gy = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    ours = torch.autograd.grad((batch_norm2d(x, w, b) * gy).sum(), (x, w, b))
    ref = torch.autograd.grad((F.batch_norm(x, None, None, w, b, training=True) * gy).sum(), (x, w, b))
    for a, r in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, r)


def test_batch_norm2d_output_is_normalised():
    x = torch.randn(8, 3, 6, 6) * 5 - 3
    y = batch_norm2d(x)
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3, rtol=0)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("affine", [True, False])
def test_module_matches_nn_batchnorm_train_and_eval(momentum, affine):
    torch.manual_seed(0)
    ours = BatchNorm2d(4, eps=1e-4, momentum=momentum, affine=affine).double()
    ref = nn.BatchNorm2d(4, eps=1e-4, momentum=momentum, affine=affine).double()
    if affine:
        with torch.no_grad():
            ref.weight.uniform_(0.5, 2)
            ref.bias.normal_()
        ours.load_state_dict(ref.state_dict())
    assert set(ours.state_dict()) == set(ref.state_dict())
    for step in range(4):
        x = torch.randn(3 + step, 4, 5, 2, dtype=torch.float64) * (step + 1) + step
        torch.testing.assert_close(ours(x), ref(x))
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], value)
    assert int(ours.num_batches_tracked) == 4
    ours.eval()
    ref.eval()
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(x), ref(x))
    # evaluation leaves the running statistics alone
    torch.testing.assert_close(ours.running_var, ref.running_var)
    assert int(ours.num_batches_tracked) == 4


def test_module_running_var_uses_unbiased_variance():
    bn = BatchNorm2d(1, momentum=1.0)
    x = torch.randn(2, 1, 2, 2)
    bn(x)
    torch.testing.assert_close(bn.running_var, x.var(unbiased=True).reshape(1))
    torch.testing.assert_close(bn.running_mean, x.mean().reshape(1))


def test_module_without_running_stats_uses_batch_stats_in_eval():
    ours = BatchNorm2d(3, track_running_stats=False).eval()
    ref = nn.BatchNorm2d(3, track_running_stats=False).eval()
    x = torch.randn(4, 3, 2, 2)
    torch.testing.assert_close(ours(x), ref(x))
    assert ours.running_mean is None and "running_mean" not in ours.state_dict()


def test_module_gradients_match():
    torch.manual_seed(1)
    ours, ref = BatchNorm2d(2), nn.BatchNorm2d(2)
    x = torch.randn(3, 2, 4, 4, requires_grad=True)
    g1 = torch.autograd.grad(ours(x).pow(2).mul(torch.arange(32.).view(1, 2, 4, 4)).sum(), (x, ours.weight))
    g2 = torch.autograd.grad(ref(x).pow(2).mul(torch.arange(32.).view(1, 2, 4, 4)).sum(), (x, ref.weight))
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_bad_inputs():
    with pytest.raises(ValueError, match="4 dimensions"):
        batch_norm2d(torch.randn(3, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        batch_norm2d([[1.0]])
    with pytest.raises(ValueError, match="weight must have shape"):
        batch_norm2d(torch.randn(2, 3, 2, 2), torch.ones(4))
    with pytest.raises(ValueError, match="more than one value"):
        batch_norm2d(torch.randn(1, 3, 1, 1))
    with pytest.raises(ValueError, match="eps"):
        batch_norm2d(torch.randn(2, 3, 2, 2), eps=0)
    with pytest.raises(ValueError, match="channels"):
        BatchNorm2d(3)(torch.randn(2, 4, 2, 2))
    with pytest.raises(ValueError, match="positive"):
        BatchNorm2d(0)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm2d(3, momentum=2.0)
