"""Tests of the residual blocks and the transposed/dilated convolution helpers (Notes §3.5, §3.7)."""
import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.vision import (DenseResidualBlock, ResidualBlock, conv_transpose2d, conv_transpose_output_size,
                             deep_mlp, dilated_receptive_field)


@pytest.mark.parametrize("seed", range(4))
def test_conv_transpose2d_matches_torch(seed):
    rng = random.Random(seed)
    for _ in range(40):
        s = (rng.randint(1, 3), rng.randint(1, 3))
        d = (rng.randint(1, 3), rng.randint(1, 3))
        k = (rng.randint(1, 4), rng.randint(1, 4))
        p = (rng.randint(0, 2), rng.randint(0, 2))
        op = (rng.randint(0, max(s[0], d[0]) - 1), rng.randint(0, max(s[1], d[1]) - 1))
        x = torch.randn(2, 3, rng.randint(2, 6), rng.randint(2, 6), dtype=torch.float64)
        w = torch.randn(3, 2, *k, dtype=torch.float64)
        b = torch.randn(2, dtype=torch.float64) if rng.random() < 0.5 else None
        try:
            ref = F.conv_transpose2d(x, w, b, s, p, op, 1, d)
        except RuntimeError:
            continue  # PyTorch rejects the setting (output size <= 0)
        torch.testing.assert_close(conv_transpose2d(x, w, b, s, p, op, d), ref)


def test_conv_transpose2d_int_arguments_and_gradient():
    x = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    gy = torch.randn(1, 3, 8, 10, dtype=torch.float64)
    ours = conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    ref = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    torch.testing.assert_close(ours, ref)
    g1 = torch.autograd.grad((ours * gy).sum(), (x, w))
    g2 = torch.autograd.grad((ref * gy).sum(), (x, w))
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b)


def test_conv_transpose_output_size_matches_layers():
    for size in (1, 3, 7):
        for k in (1, 2, 3, 5):
            for s in (1, 2, 3):
                for p in (0, 1, 2):
                    for d in (1, 2):
                        for op in range(max(s, d)):
                            layer = nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d)
                            try:
                                real = layer(torch.zeros(1, 1, size, size)).shape[-1]
                            except RuntimeError:
                                with pytest.raises(ValueError):
                                    conv_transpose_output_size(size, k, s, p, op, d)
                                continue
                            assert conv_transpose_output_size(size, k, s, p, op, d) == real


def test_transposed_conv_inverts_conv_shape():
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1)
    for size in range(4, 12):
        small = conv(torch.zeros(1, 1, size, size)).shape[-1]
        op = (size + 2 - 3) % 2
        assert conv_transpose_output_size(small, 3, 2, 1, op) == size


def test_transposed_bad_inputs():
    with pytest.raises(ValueError, match="C_in"):
        conv_transpose2d(torch.randn(1, 3, 4, 4), torch.randn(2, 1, 3, 3))
    with pytest.raises(ValueError, match="4 dimensions"):
        conv_transpose2d(torch.randn(3, 4, 4), torch.randn(3, 1, 3, 3))
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose2d(torch.randn(1, 3, 4, 4), torch.randn(3, 1, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="positive"):
        conv_transpose_output_size(4, 3, stride=0)
    with pytest.raises(ValueError, match="bias"):
        conv_transpose2d(torch.randn(1, 3, 4, 4), torch.randn(3, 1, 3, 3), torch.randn(2))


def test_dilated_receptive_field_by_gradient_support():
    dilations = [1, 2, 4, 8]
    net = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=d, dilation=d, bias=False) for d in dilations])
    for conv in net:
        nn.init.constant_(conv.weight, 1.0)
    x = torch.zeros(1, 1, 65, 65, requires_grad=True)
    net(x)[0, 0, 32, 32].backward()
    rows = (x.grad[0, 0].abs() > 0).any(dim=1).nonzero().flatten()
    assert int(rows.max() - rows.min() + 1) == dilated_receptive_field(3, dilations) == 31
    assert dilated_receptive_field(3, [1, 1, 1, 1]) == 9
    with pytest.raises(ValueError):
        dilated_receptive_field(3, [1, 0])


@pytest.mark.parametrize("batch_norm", [True, False])
def test_residual_block_shapes_and_projection(batch_norm):
    x = torch.randn(2, 4, 9, 9)
    same = ResidualBlock(4, batch_norm=batch_norm)
    assert isinstance(same.shortcut, nn.Identity) and same(x).shape == x.shape
    down = ResidualBlock(4, 6, stride=2, batch_norm=batch_norm)
    assert isinstance(down.shortcut, nn.Sequential) and down(x).shape == (2, 6, 5, 5)
    plain = ResidualBlock(4, 6, stride=2, batch_norm=batch_norm, skip=False)
    assert plain.shortcut is None
    skip_params = sum(p.numel() for p in down.shortcut.parameters())
    assert sum(p.numel() for p in down.parameters()) - sum(p.numel() for p in plain.parameters()) == skip_params
    # the block is relu(F(x) + shortcut(x))
    down.eval()
    torch.testing.assert_close(down(x), torch.relu(down.residual(x) + down.shortcut(x)))


@pytest.mark.parametrize("batch_norm", [True, False])
def test_residual_block_with_zero_residual_is_identity(batch_norm):
    block = ResidualBlock(5, batch_norm=batch_norm).zero_residual_()
    x = torch.relu(torch.randn(3, 5, 6, 6))  # output of a previous ReLU block: non-negative
    torch.testing.assert_close(block(x), x)
    assert torch.count_nonzero(block.residual(x)) == 0


def test_dense_blocks_and_deep_mlp():
    x = torch.randn(5, 16)
    block = DenseResidualBlock(16)
    torch.testing.assert_close(block(x), torch.relu(block.fc2(torch.relu(block.fc1(x))) + x))
    plain = DenseResidualBlock(16, skip=False)
    plain.load_state_dict(block.state_dict())
    torch.testing.assert_close(plain(x), torch.relu(block.fc2(torch.relu(block.fc1(x)))))
    a, b = deep_mlp(20, 16, 5, 3), deep_mlp(20, 16, 5, 3, skip=False)
    assert sum(p.numel() for p in a.parameters()) == sum(p.numel() for p in b.parameters())
    assert a(torch.randn(4, 20)).shape == (4, 3)
    assert sum(isinstance(m, nn.Linear) for m in a.modules()) == 2 * 5 + 2


def test_residual_bad_inputs():
    with pytest.raises(ValueError, match="channels"):
        ResidualBlock(3)(torch.randn(1, 4, 5, 5))
    with pytest.raises(ValueError, match="4 dimensions"):
        ResidualBlock(3)(torch.randn(3, 5, 5))
    with pytest.raises(ValueError, match="positive"):
        ResidualBlock(0)
    with pytest.raises(ValueError):
        deep_mlp(10, 8, -1, 2)


def test_small_cnn_shapes_and_cache(tmp_path, monkeypatch):
    from dlcourse.cache import cache_dir
    from dlcourse.vision.small_cnn import SmallCNN, pretrained_digit_cnn

    net = SmallCNN(num_classes=3)
    x = torch.rand(4, 1, 28, 28)
    assert net(x).shape == (4, 3) and net.backbone(x).shape == (4, 32 * 7 * 7)
    monkeypatch.setenv("DLCOURSE_CACHE", str(tmp_path / "cache"))
    assert cache_dir() == tmp_path / "cache" and cache_dir().is_dir()
    first = pretrained_digit_cnn(classes=(0, 1), epochs=1, device="cpu")
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1
    again = pretrained_digit_cnn(classes=(1, 0), epochs=1, device="cpu")   # loaded from the cache
    for a, b in zip(first.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not again.training and not again.cache_info["trained"]
    with pytest.raises(ValueError, match="distinct digits"):
        pretrained_digit_cnn(classes=(1, 1))
    with pytest.raises(ValueError, match="distinct digits"):
        pretrained_digit_cnn(classes=(3, 12))


def test_digit_cnn_shapes_and_bad_input():
    from dlcourse.vision import DigitCNN

    net = DigitCNN()
    assert net(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert net.features(torch.rand(2, 1, 28, 28)).shape == (2, 64, 7, 7)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        net(torch.rand(2, 28, 28))
