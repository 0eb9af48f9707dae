"""Tests of dlcourse.vision.style: Gram matrices and the content/style losses of Notes §3.9.3."""
import pytest
import torch

from dlcourse.vision import content_loss, gram_matrix, style_loss


@pytest.mark.parametrize("seed", range(4))
def test_gram_matrix_matches_einsum_and_loop(seed):
    g = torch.Generator().manual_seed(seed)
    b, c, h, w = (int(v) for v in torch.randint(1, 6, (4,), generator=g))
    x = torch.randn(b, c, h, w, generator=g, dtype=torch.float64)
    G = gram_matrix(x)
    assert G.shape == (b, c, c)
    torch.testing.assert_close(G, torch.einsum("bihw,bjhw->bij", x, x))
    loop = torch.zeros(b, c, c, dtype=torch.float64)
    for n in range(b):
        for i in range(c):
            for j in range(c):
                loop[n, i, j] = (x[n, i] * x[n, j]).sum()
    torch.testing.assert_close(G, loop)
    torch.testing.assert_close(gram_matrix(x, normalize=True), loop / (h * w))


def test_gram_matrix_is_symmetric_psd_and_keeps_device_dtype():
    x = torch.randn(2, 5, 7, 3)
    G = gram_matrix(x)
    torch.testing.assert_close(G, G.transpose(1, 2))
    assert torch.linalg.eigvalsh(G.double()).min() > -1e-6
    assert G.dtype == x.dtype and G.device == x.device


def test_gram_matrix_bad_input():
    with pytest.raises(ValueError, match="4 dimensions"):
        gram_matrix(torch.randn(3, 4, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        gram_matrix([[1.0]])
    with pytest.raises(TypeError, match="floating"):
        gram_matrix(torch.ones(1, 2, 3, 3, dtype=torch.long))


def test_content_loss_matches_formula():
    F_, P = torch.randn(2, 3, 4, 5, dtype=torch.float64), torch.randn(2, 3, 4, 5, dtype=torch.float64)
    direct = sum(float((F_[b, c, i, j] - P[b, c, i, j]) ** 2) for b in range(2) for c in range(3)
                 for i in range(4) for j in range(5))
    assert content_loss(F_, P).item() == pytest.approx(direct)
    assert content_loss(F_, P, convention="gatys").item() == pytest.approx(0.5 * direct)
    # A (1, C, H, W) target broadcasts over the batch.
    assert content_loss(F_, P[:1]).item() == pytest.approx(float(((F_ - P[:1]) ** 2).sum()))


def test_content_loss_bad_input():
    with pytest.raises(ValueError, match="broadcast"):
        content_loss(torch.randn(1, 3, 4, 4), torch.randn(1, 2, 4, 4))
    with pytest.raises(ValueError, match="broadcast"):
        content_loss(torch.randn(1, 3, 4, 4), torch.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="convention"):
        content_loss(torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4), convention="paper")


def _direct_style(feats, grams, weights, gatys):
    total = 0.0
    for f, s, w in zip(feats, grams, weights, strict=True):
        b, c, h, wd = f.shape
        term = 0.0
        for n in range(b):
            F_ = f[n].reshape(c, h * wd)
            G = F_ @ F_.T
            term += float(((G - s.reshape(-1, c, c)[min(n, s.reshape(-1, c, c).shape[0] - 1)]) ** 2).sum())
        if gatys:
            term /= 4 * c ** 2 * (h * wd) ** 2
        total += w * term
    return total


@pytest.mark.parametrize("gatys", [False, True])
def test_style_loss_matches_formula(gatys):
    g = torch.Generator().manual_seed(1)
    shapes = [(2, 3, 6, 6), (2, 5, 3, 3), (2, 4, 2, 1)]
    feats = [torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]
    grams = [gram_matrix(torch.randn((1, *s[1:]), generator=g, dtype=torch.float64))[0] for s in shapes]
    weights = [0.5, 2.0, 1.0]
    conv = "gatys" if gatys else "notes"
    assert style_loss(feats, grams, weights, conv).item() == pytest.approx(_direct_style(feats, grams, weights, gatys))
    # Default weights are 1; batched (1, C, C) targets give the same value as (C, C) ones.
    assert style_loss(feats, grams).item() == pytest.approx(_direct_style(feats, grams, [1, 1, 1], False))
    assert style_loss(feats, [s[None] for s in grams], weights, conv).item() == pytest.approx(
        style_loss(feats, grams, weights, conv).item())


def test_style_loss_zero_on_own_grams_and_bad_input():
    f = [torch.randn(1, 3, 4, 4), torch.randn(1, 6, 2, 2)]
    assert style_loss(f, [gram_matrix(x) for x in f]).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="one entry per layer"):
        style_loss(f, [gram_matrix(f[0])])
    with pytest.raises(ValueError, match="weights"):
        style_loss(f, [gram_matrix(x) for x in f], weights=[1.0])
    with pytest.raises(ValueError, match="Gram matrix"):
        style_loss(f, [gram_matrix(f[1]), gram_matrix(f[0])])
    with pytest.raises(ValueError, match="at least one"):
        style_loss([], [])


def test_gradients_flow_to_the_image():
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    f = torch.relu(conv(x))
    target = torch.randn(1, 4, 8, 8)
    style = gram_matrix(torch.randn(1, 4, 8, 8))
    loss = content_loss(f, target) + style_loss([f], [style], convention="gatys")
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_style_transfer_lowers_style_loss():
    from dlcourse.vision import style_transfer

    torch.manual_seed(0)
    conv1, conv2 = torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Conv2d(8, 8, 3, padding=1, stride=2)

    def feats(x, layers):
        a = torch.relu(conv1(x))
        b = torch.relu(conv2(a))
        return {"a": a, "b": b}

    content, style = torch.rand(3, 16, 16), torch.rand(3, 20, 20)
    frames = list(style_transfer(feats, content, style, content_layer="b", style_layers=("a", "b"), steps=30,
                                 lr=0.05, beta=1e4, every=10))
    assert len(frames) == 4
    last = frames[-1]
    assert last.image.shape == (3, 16, 16) and isinstance(last.caption, str) and last.step == 30
    assert last.scalars["style loss"] < frames[0].scalars["style loss"]
    assert 0 <= last.image.min() and last.image.max() <= 1


def test_style_targets_rescale_to_positions():
    from dlcourse.vision import style_targets

    conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def feats(x, layers):
        return {"a": torch.relu(conv(x))}

    style = torch.rand(3, 8, 8)
    (raw,) = style_targets(feats, style, ["a"])
    torch.testing.assert_close(raw, gram_matrix(feats(style[None], ["a"])["a"])[0])
    (scaled,) = style_targets(feats, style, ["a"], positions=[128])
    torch.testing.assert_close(scaled, raw / 64 * 128)


def test_transform_net_shapes_training_and_timing():
    from dlcourse.vision import TransformNet, random_crops, train_transform_net
    from style_bench import transform_net_seconds   # benchmarks/ is on the path (conftest.py)

    net = TransformNet(width=4, n_residual=1)
    x = torch.rand(2, 3, 16, 20)
    y = net(x)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
    torch.testing.assert_close(y, x.clamp(1e-3, 1 - 1e-3), atol=1e-5, rtol=0)   # starts as the identity
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.rand(1, 3, 15, 16))
    crops = random_crops([torch.rand(3, 20, 24), torch.rand(3, 16, 16)], 6, 12, torch.Generator().manual_seed(0))
    assert crops.shape == (6, 3, 12, 12)
    with pytest.raises(ValueError, match="smaller than the crop"):
        random_crops([torch.rand(3, 8, 8)], 1, 12)
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 6, 3, padding=1).requires_grad_(False)

    def feats(x, layers):
        return {"a": torch.relu(conv(x))}

    hist = train_transform_net(net, feats, torch.rand(3, 16, 16), torch.rand(8, 3, 16, 16), steps=30, batch_size=2,
                               lr=1e-2, beta=1e3, content_layer="a", style_layers=["a"], progress=False,
                               generator=torch.Generator().manual_seed(0))
    assert len(hist["style"]) == 30 and min(hist["style"][-5:]) < hist["style"][0]
    assert transform_net_seconds(16, repeats=2, net=net) > 0


def test_style_step_seconds_with_a_small_loss_network():
    from style_bench import style_step_seconds

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = torch.nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x, layers):
            return {name: torch.relu(self.c(x)) for name in layers}

    t = style_step_seconds(16, steps=2, features=Tiny().requires_grad_(False), style_layers=("a",),
                           content_layer="b")
    assert 0 < t < 10
