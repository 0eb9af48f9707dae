"""Diffusion models (Notes §4.4): forward process, one-shot denoising, reverse steps, schedules, the U-Net."""
import math

import pytest
import torch

from dlcourse.generative.diffusion import (ddim_step, denormalize, diffusion_loss, normalize, predict_x0, q_sample,
                                           reverse_step, sample, sampling_frames)
from dlcourse.generative.schedules import (betas_from_alpha_bar, cosine_schedule, linear_schedule, make_schedule,
                                           sampling_timesteps, snr)
from dlcourse.generative.unet import DiffusionUNet


def _batch(B=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, 1, 5, 4, generator=g), torch.randn(B, 1, 5, 4, generator=g)


# ----------------------------------------------------------------------------------------------- forward process
def test_q_sample_matches_formula_per_element():
    x0, eps = _batch()
    a = torch.tensor([0.9, 0.5, 0.01])
    out = q_sample(x0, a, eps)
    for b in range(3):  # one image at a time, with Python floats
        expected = math.sqrt(a[b].item()) * x0[b] + math.sqrt(1 - a[b].item()) * eps[b]
        torch.testing.assert_close(out[b], expected)


def test_alpha_bar_float_0d_and_batch_agree():
    x0, eps = _batch()
    by_float = q_sample(x0, 0.3, eps)
    torch.testing.assert_close(q_sample(x0, torch.tensor(0.3), eps), by_float)
    torch.testing.assert_close(q_sample(x0, torch.full((3,), 0.3), eps), by_float)
    torch.testing.assert_close(predict_x0(by_float, eps, torch.full((3,), 0.3)), predict_x0(by_float, eps, 0.3))


def test_q_sample_endpoints():
    x0, eps = _batch()
    torch.testing.assert_close(q_sample(x0, 1.0, eps), x0)
    torch.testing.assert_close(q_sample(x0, 0.0, eps), eps)


def test_predict_x0_inverts_q_sample():
    x0, eps = _batch()
    a = torch.tensor([0.99, 0.4, 0.02])
    torch.testing.assert_close(predict_x0(q_sample(x0, a, eps), eps, a), x0, atol=1e-5, rtol=1e-4)


def test_bad_inputs_raise():
    x0, eps = _batch()
    with pytest.raises(ValueError, match="one value per image"):
        q_sample(x0, torch.rand(2), eps)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        q_sample(x0, 1.5, eps)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        predict_x0(x0, eps, 0.0)
    with pytest.raises(ValueError, match="shape"):
        q_sample(x0, 0.5, eps[:, :, :4])
    with pytest.raises(TypeError):
        q_sample(x0, "0.5", eps)
    with pytest.raises(TypeError):
        q_sample(x0.numpy(), 0.5, eps)
    with pytest.raises(ValueError):
        q_sample(x0, torch.rand(3, 1), eps)


# ----------------------------------------------------------------------------------------------- reverse steps
def test_reverse_step_is_renoised_x0_hat():
    x_t, eps = _batch()
    a_t, a_prev = torch.tensor([0.2, 0.5, 0.7]), torch.tensor([0.3, 0.6, 1.0])
    x0_hat = (x_t - (1 - a_t).sqrt().view(-1, 1, 1, 1) * eps) / a_t.sqrt().view(-1, 1, 1, 1)
    z = torch.randn_like(x_t)
    torch.testing.assert_close(reverse_step(x_t, eps, a_t, a_prev, noise=z), q_sample(x0_hat, a_prev, z))
    torch.testing.assert_close(reverse_step(x_t, eps, a_t, a_prev), q_sample(x0_hat, a_prev, eps))
    # the last step (ᾱ_0 = 1) returns x̂0; a step that does not change ᾱ and re-injects ε̂ changes nothing
    torch.testing.assert_close(reverse_step(x_t, eps, a_t, 1.0), x0_hat)
    torch.testing.assert_close(reverse_step(x_t, eps, a_t, a_t), x_t, atol=1e-5, rtol=1e-5)
    assert x0_hat.abs().max() > 1  # so that clipping matters below
    torch.testing.assert_close(reverse_step(x_t, eps, a_t, a_prev, clip_x0=True),
                               q_sample(x0_hat.clamp(-1, 1), a_prev, eps))


def test_ddim_eta0_is_reverse_step_and_eta1_is_ddpm_posterior():
    x_t, eps = _batch()
    a_t, a_prev = 0.3, 0.5
    torch.testing.assert_close(ddim_step(x_t, eps, a_t, a_prev, eta=0.0), reverse_step(x_t, eps, a_t, a_prev))
    # DDPM posterior q(x_{t-1} | x_t, x0) with x0 = x̂0, from Ho et al. (2020) eq. (7)
    x0 = predict_x0(x_t, eps, a_t)
    alpha, beta = a_t / a_prev, 1 - a_t / a_prev
    mean = math.sqrt(a_prev) * beta / (1 - a_t) * x0 + math.sqrt(alpha) * (1 - a_prev) / (1 - a_t) * x_t
    std = math.sqrt((1 - a_prev) / (1 - a_t) * beta)
    z = torch.randn_like(x_t)
    torch.testing.assert_close(ddim_step(x_t, eps, a_t, a_prev, eta=1.0, noise=z), mean + std * z, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError):
        ddim_step(x_t, eps, a_t, a_prev, eta=-1.0)


# ----------------------------------------------------------------------------------------------- schedules
def test_schedules():
    T = 50
    lin = linear_schedule(T, 1e-4, 0.02)
    torch.testing.assert_close(lin[1:], torch.cumprod(1 - torch.linspace(1e-4, 0.02, T, dtype=torch.float64), 0))
    torch.testing.assert_close(betas_from_alpha_bar(lin), torch.linspace(1e-4, 0.02, T, dtype=torch.float64))
    cos = cosine_schedule(T)
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2
    torch.testing.assert_close(cos[:-1], (f / f[0])[:-1])  # the last value differs: β_T is clipped at 0.999
    for ab in (lin, cos, make_schedule("cosine", T)):
        assert ab[0] == 1 and bool((ab[1:] < ab[:-1]).all()) and ab[-1] >= 0
    assert snr(0.5).item() == pytest.approx(1.0)
    assert sampling_timesteps(1000, 4).tolist() == [1000, 750, 500, 250, 0]
    with pytest.raises(ValueError):
        make_schedule("quadratic")
    with pytest.raises(ValueError):
        sampling_timesteps(10, 11)


def test_normalize_round_trip():
    x = torch.rand(2, 1, 4, 4)
    torch.testing.assert_close(denormalize(normalize(x)), x)
    assert normalize(x).min() >= -1 and normalize(x).max() <= 1


# ----------------------------------------------------------------------------------------------- model and sampling
@pytest.mark.parametrize("size,patch", [(16, 1), (28, 1), (28, 2), (16, 2)])
def test_unet_shapes(size, patch):
    net = DiffusionUNet(width=8, patch=patch)
    x = torch.randn(2, 1, size, size)
    assert net(x, torch.tensor([0.1, 0.9])).shape == x.shape
    with pytest.raises(ValueError):
        net(x, torch.rand(3))


def test_loss_falls_when_training():
    torch.manual_seed(0)
    net = DiffusionUNet(width=8)
    X = normalize((torch.rand(64, 1, 8, 8) > 0.5).float().repeat_interleave(2, -1).repeat_interleave(2, -2))
    table = cosine_schedule(100).float()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(40):
        loss = diffusion_loss(net, X, table, generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) / 10 < 0.7 * sum(losses[:5]) / 5


def test_sampling_deterministic_with_eta0():
    torch.manual_seed(0)
    net = DiffusionUNet(width=8).eval()
    img = sample(net, 3, 16, steps=4, seed=1)
    assert img.shape == (3, 1, 16, 16) and 0 <= img.min() and img.max() <= 1

    def final(**kw):
        return list(sampling_frames(net, (3, 1, 16, 16), steps=4, **kw))[-1]["x_prev"]

    a, b, c = final(seed=1), final(seed=1), final(seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)                 # η = 0: x_T decides the sample
    assert not torch.allclose(final(seed=1, eta=1.0), a)               # fresh noise changes it
    x_T = torch.randn(3, 1, 16, 16)
    assert torch.equal(final(x_T=x_T, seed=5), final(x_T=x_T, seed=6))  # the seed only matters through x_T
    frames = list(sampling_frames(net, (1, 1, 16, 16), steps=4, seed=0, eta="fresh"))
    assert [f["k"] for f in frames] == [0, 1, 2, 3, 4] and frames[-1]["t_prev"] == 0
    torch.testing.assert_close(frames[-1]["x_prev"], frames[-1]["x0_hat"])  # ᾱ_0 = 1: the last step returns x̂0


# ----------------------------------------------------------------------------------------------- the live view
def test_sampling_view_controls_change_the_frames():
    from dlcourse.generative.diffusion_view import sampling_view

    torch.manual_seed(0)
    net = DiffusionUNet(width=8).eval()
    net.config = {"image_size": 16}
    judge_net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 11))
    view = sampling_view({"16 px": net}, judge_net, steps=4, presets=[{"seed": 1}])
    html = view.default_html()
    assert html.count("data:image/png") >= 10  # two runs of 5 frames on the static page
    first = [f.image.tobytes() for f in view.frames]
    assert len(first) == 5 and view.frames[0].image.shape == (16, 33)
    assert "judge on x̂0" in view.frames[-1].caption
    view.controls["seed"].value = 7
    view.click()
    assert len(view.frames) == 5 and [f.image.tobytes() for f in view.frames][0] != first[0]
    view.controls["steps"].value = 6
    view.click()
    assert len(view.frames) == 7 and view.slider.max == 6
    with pytest.raises(ValueError):
        list(__import__("dlcourse.generative.diffusion_view", fromlist=["x"]).sampling_run({"a": net}, judge_net,
                                                                                           model="b"))


def test_sampling_view_default_presets_cover_every_model():
    from dlcourse.generative.diffusion_view import sampling_view

    torch.manual_seed(0)
    small, large = DiffusionUNet(width=8).eval(), DiffusionUNet(width=8, patch=2).eval()
    small.config, large.config = {"image_size": 16}, {"image_size": 28}
    judge_net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 11))
    view = sampling_view({"16 px": small, "28 px": large}, judge_net, steps=4, max_frames=3)
    by_model = [p["model"] for p in view.presets]
    assert by_model.count("16 px") == 1 + 9 and by_model.count("28 px") == 4  # the default run, then the presets
    frames, _ = view.collect(model="28 px", steps=4, seed=0)
    assert len(frames) == 3 and frames[-1].image.shape == (28, 57)  # capped at max_frames, stored at 1×
    assert len(view.default_run()[0]) == 3 and view.default_run()[0][0].image.shape == (16, 33)


def test_shipped_28px_denoiser_draws_recognisable_digits():
    """The checkpoint of ``scripts/train_diffusion28.py`` (sha256-checked): with fresh noise at every one of 100
    steps, most of its samples are judged confidently as digits of many classes (92.5 % of 200 when it was made)."""
    from dlcourse.generative import diffusion28, judge_score, sample

    model = diffusion28("cpu")
    assert model.config["image_size"] == 28 and model.config["steps"] == 12000
    score = judge_score(sample(model, 64, 28, steps=100, eta="fresh", seed=1, device="cpu"), device="cpu")
    assert score.confident >= 0.6 and score.classes >= 8, score


def test_denoiser_sample_interface_matches_the_other_generative_models():
    """``model.sample(n, generator)`` -> (n, C, H, W) in [0, 1], reproducible from the generator, at the size the
    model records in ``config``; without it the size must be given."""
    torch.manual_seed(0)
    net = DiffusionUNet(width=8).eval()
    with pytest.raises(ValueError, match="image_size"):
        net.sample(2)
    net.config = {"image_size": 8}
    a = net.sample(3, torch.Generator().manual_seed(4), steps=4)
    b = net.sample(3, torch.Generator().manual_seed(4), steps=4)
    c = net.sample(3, torch.Generator().manual_seed(5), steps=4)
    assert a.shape == (3, 1, 8, 8) and 0 <= a.min() and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert net.sample(2, steps=3, eta=0.0, image_size=12).shape == (2, 1, 12, 12)


def test_train_diffusion_rejects_too_few_steps_and_trains_a_short_run():
    from dlcourse.generative import train_diffusion

    torch.manual_seed(0)
    net = DiffusionUNet(width=8)
    X = torch.rand(16, 1, 8, 8)
    with pytest.raises(ValueError, match="at least 3"):
        train_diffusion(net, X, steps=2, progress=False)
    summary = train_diffusion(net, X, steps=12, batch_size=4, log_every=4, progress=False)
    assert len(summary["losses"]) == 3 and not net.training
    assert all(p.is_contiguous() for p in net.parameters())
