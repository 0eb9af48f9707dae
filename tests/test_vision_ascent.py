"""Tests of dlcourse.vision.ascent: regularisers and the gradient-ascent generators of Notes §3.9.1–3.9.2."""
import math

import pytest
import torch
import torch.nn.functional as F

from dlcourse.widgets import Frame
from dlcourse.vision import (deep_dream, gaussian_blur, invert_representation, jitter, l2_penalty, layer_fn,
                             maximize_activation, total_variation)


class TinyNet(torch.nn.Module):
    """Two conv layers and a linear head, with a ``features(x, layers)`` accessor like the pretrained networks."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.c1 = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.c2 = torch.nn.Conv2d(6, 8, 3, padding=1, stride=2)
        self.fc = torch.nn.Linear(8, 5)
        self.requires_grad_(False)

    def features(self, x, layers):
        a = torch.relu(self.c1(x))
        b = torch.relu(self.c2(a))
        out = {"c1": a, "c2": b, "logits": self.fc(b.mean((2, 3)))}
        return {n: out[n] for n in layers}


def test_jitter_is_a_roll():
    x = torch.arange(2 * 3 * 5 * 6, dtype=torch.float32).reshape(2, 3, 5, 6)
    g = torch.Generator().manual_seed(3)
    y = jitter(x, 2, g)
    g = torch.Generator().manual_seed(3)
    dy, dx = (int(v) for v in torch.randint(-2, 3, (2,), generator=g))
    torch.testing.assert_close(y, torch.roll(x, (dy, dx), (2, 3)))
    assert jitter(x, 0) is x
    with pytest.raises(ValueError, match="non-negative"):
        jitter(x, -1)


def test_gaussian_blur_matches_2d_kernel():
    x = torch.rand(2, 3, 12, 11, dtype=torch.float64)
    sigma = 1.2
    r = math.ceil(3 * sigma)
    t = torch.arange(-r, r + 1, dtype=torch.float64)
    k1 = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k2 = torch.outer(k1, k1)
    k2 = k2 / k2.sum()
    ref = F.conv2d(F.pad(x, (r, r, r, r), mode="reflect"), k2.expand(3, 1, -1, -1), groups=3)
    torch.testing.assert_close(gaussian_blur(x, sigma), ref)
    assert gaussian_blur(x, 0.0) is x
    # A constant image stays constant; the blur lowers total variation.
    torch.testing.assert_close(gaussian_blur(torch.full((1, 3, 9, 9), 0.3), 1.0), torch.full((1, 3, 9, 9), 0.3))
    assert total_variation(gaussian_blur(x, 1.0)) < total_variation(x)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_blur(x, -1.0)
    with pytest.raises(ValueError, match="4 dimensions"):
        gaussian_blur(x[0], 1.0)


def test_total_variation_and_l2_formulas():
    x = torch.rand(2, 3, 6, 7, dtype=torch.float64)
    dv = sum(float((x[b, c, i + 1, j] - x[b, c, i, j]) ** 2) for b in range(2) for c in range(3)
             for i in range(5) for j in range(7)) / (2 * 3 * 5 * 7)
    dh = sum(float((x[b, c, i, j + 1] - x[b, c, i, j]) ** 2) for b in range(2) for c in range(3)
             for i in range(6) for j in range(6)) / (2 * 3 * 6 * 6)
    assert total_variation(x).item() == pytest.approx(dv + dh)
    assert total_variation(torch.ones(1, 3, 4, 4)).item() == 0.0
    assert l2_penalty(x).item() == pytest.approx(float(((x - 0.5) ** 2).mean()))


@pytest.mark.parametrize("layer,channel", [("c2", 3), ("logits", 1), ("c1", None)])
def test_maximize_activation_increases_target(layer, channel):
    net = TinyNet()
    frames = list(maximize_activation(layer_fn(net), layer, channel, size=16, steps=20, lr=0.05, every=5,
                                      octaves=2, generator=torch.Generator().manual_seed(0)))
    assert len(frames) == 5
    last = frames[-1]
    assert isinstance(last, Frame) and last.image.shape == (3, 16, 16) and isinstance(last.caption, str)
    assert 0 <= last.image.min() and last.image.max() <= 1
    assert last.step == 20 and last.scalars["activation"] > frames[0].scalars["activation"]
    assert all(f.image.shape == (3, 16, 16) for f in frames)


def test_maximize_activation_bad_input():
    net = TinyNet()
    with pytest.raises(ValueError, match="channel"):
        next(maximize_activation(layer_fn(net), "c2", 99, size=16, steps=2))
    with pytest.raises(ValueError, match="positive"):
        next(maximize_activation(layer_fn(net), "c2", 0, size=16, steps=0))
    with pytest.raises(ValueError, match="octave_scale"):
        next(maximize_activation(layer_fn(net), "c2", 0, size=16, steps=2, octave_scale=1.0))


def test_invert_representation_lowers_feature_error():
    net = TinyNet()
    target = torch.rand(3, 16, 16)
    frames = list(invert_representation(layer_fn(net), "c1", target, steps=40, lr=0.05, tv_weight=0.0, every=10,
                                        generator=torch.Generator().manual_seed(0)))
    assert len(frames) == 5
    assert frames[-1].scalars["relative error"] < 0.5 * frames[0].scalars["relative error"]
    assert frames[-1].image.shape == (3, 16, 16) and frames[-1].step == 40
    with pytest.raises(ValueError, match="RGB image"):
        next(invert_representation(layer_fn(net), "c1", torch.rand(2, 3, 8, 8)))


def test_deep_dream_raises_the_layer_norm_and_keeps_size():
    net = TinyNet()
    photo = torch.rand(3, 20, 24)
    frames = list(deep_dream(layer_fn(net), "c2", photo, octaves=2, steps_per_octave=5, lr=0.02, jitter_px=2,
                             generator=torch.Generator().manual_seed(0)))
    assert len(frames) == 11
    assert all(f.image.shape == (3, 20, 24) for f in frames)
    before = net.features(photo[None], ["c2"])["c2"].pow(2).mean().item()
    assert frames[-1].scalars["activation"] > before
    assert "octave 1/2" in frames[0].caption and "octave 2/2" in frames[-2].caption and frames[-1].step == 10
