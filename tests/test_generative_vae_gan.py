"""VAE and GAN pieces of dlcourse.generative (Notes §4.1, §4.2): closed forms against independent computations,
gradients through the reparameterisation, shapes, ranges and bad input."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dlcourse.generative import (VAE, Discriminator, Generator, ToyDiscriminator, ToyGenerator, discriminator_loss,
                                 generator_loss, kl_divergence, reparameterize, train_gan, train_vae, vae_loss)


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 7, generator=g), torch.randn(5, 7, generator=g)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(dim=1)
    assert torch.allclose(kl_divergence(mu, logvar), expected, atol=1e-5)


def test_kl_matches_monte_carlo():
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(3, 4, generator=g), 0.5 * torch.randn(3, 4, generator=g)
    z = reparameterize(mu.expand(200_000, 3, 4).reshape(-1, 4), logvar.expand(200_000, 3, 4).reshape(-1, 4), g)
    z = z.view(200_000, 3, 4)
    log_q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    assert torch.allclose((log_q - log_p).mean(0), kl_divergence(mu, logvar), atol=0.03)


def test_kl_zero_at_prior_and_positive_elsewhere():
    assert torch.equal(kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))
    assert (kl_divergence(torch.randn(4, 3), torch.randn(4, 3)) > 0).all()


def test_reparameterize_statistics_gradients_and_seed():
    mu = torch.full((50_000, 2), 3.0, requires_grad=True)
    logvar = torch.full((50_000, 2), math.log(4.0), requires_grad=True)
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert abs(z.mean().item() - 3.0) < 0.03 and abs(z.std().item() - 2.0) < 0.03
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones_like(mu))            # dz/dμ = 1
    eps = (z.detach() - 3.0) / 2.0
    assert torch.allclose(logvar.grad, 0.5 * 2.0 * eps, atol=1e-5)  # dz/dlogσ² = ½σε
    a = reparameterize(mu[:4], logvar[:4], torch.Generator().manual_seed(5))
    b = reparameterize(mu[:4], logvar[:4], torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


@pytest.mark.parametrize("bad", [
    lambda: kl_divergence(torch.zeros(3), torch.zeros(3)),
    lambda: kl_divergence(torch.zeros(2, 3), torch.zeros(2, 4)),
    lambda: kl_divergence(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long)),
    lambda: reparameterize([0.0], [0.0]),
    lambda: reparameterize(torch.zeros(2, 3), torch.zeros(2, 3), generator=0),
    lambda: VAE(latent_dim=0),
    lambda: VAE()(torch.rand(2, 1, 8, 8)),
    lambda: VAE(4).decode(torch.zeros(2, 5)),
    lambda: VAE(4).sample(0),
    lambda: vae_loss(torch.rand(2, 3), torch.rand(2, 4), torch.zeros(2, 1), torch.zeros(2, 1)),
    lambda: vae_loss(torch.rand(2, 3), torch.rand(2, 3), torch.zeros(2, 1), torch.zeros(2, 1), reconstruction="l1"),
    lambda: Generator(8)(torch.zeros(2, 9)),
    lambda: Discriminator()(torch.zeros(2, 1, 32, 32)),
    lambda: discriminator_loss(torch.zeros(2, 1), torch.zeros(2)),
    lambda: generator_loss(torch.zeros(2), saturating="yes"),
    lambda: ToyDiscriminator()(torch.zeros(3, 3)),
])
def test_bad_input_raises(bad):
    with pytest.raises((TypeError, ValueError)):
        bad()


def test_vae_shapes_range_and_loss():
    torch.manual_seed(0)
    vae = VAE(latent_dim=3, hidden=16)
    x = torch.rand(4, 1, 28, 28)
    x_hat, mu, logvar = vae(x)
    assert x_hat.shape == x.shape and mu.shape == logvar.shape == (4, 3)
    s = vae.sample(5, torch.Generator().manual_seed(0))
    assert s.shape == (5, 1, 28, 28) and s.min() >= 0 and s.max() <= 1
    loss, rec, kl = vae_loss(x_hat, x, mu, logvar, beta=2.0)
    assert torch.allclose(rec, F.binary_cross_entropy(x_hat, x, reduction="sum") / 4)
    assert torch.allclose(loss, rec + 2.0 * kl)
    _, rec_mse, _ = vae_loss(x_hat, x, mu, logvar, reconstruction="mse")
    assert torch.allclose(rec_mse, F.mse_loss(x_hat, x, reduction="sum") / 4)


def test_train_vae_lowers_the_loss():
    torch.manual_seed(0)
    vae = VAE(latent_dim=2, hidden=32)
    X = (torch.rand(64, 1, 28, 28) > 0.7).float()
    curves = train_vae(vae, X, epochs=5, batch_size=32, progress=False)
    assert curves["loss"][-1] < curves["loss"][0]


def test_gan_losses_against_bce():
    g = torch.Generator().manual_seed(0)
    real, fake = 3 * torch.randn(6, generator=g), 3 * torch.randn(5, generator=g)
    bce = F.binary_cross_entropy_with_logits
    expected = bce(real, torch.ones(6)) + bce(fake, torch.zeros(5))
    assert torch.allclose(discriminator_loss(real, fake), expected, atol=1e-6)
    assert torch.allclose(generator_loss(fake), bce(fake, torch.ones(5)), atol=1e-6)
    d = torch.sigmoid(fake)
    assert torch.allclose(generator_loss(fake, saturating=True), torch.log(1 - d).mean(), atol=1e-5)
    smoothed = bce(real, torch.full((6,), 0.9)) + bce(fake, torch.zeros(5))       # one-sided label smoothing
    assert torch.allclose(discriminator_loss(real, fake, real_label=0.9), smoothed, atol=1e-6)
    with pytest.raises(ValueError, match="real_label"):
        discriminator_loss(real, fake, real_label=1.5)


def test_saturating_gradient_vanishes_when_d_wins():
    logits = torch.tensor([-8.0], requires_grad=True)  # D(G(z)) ≈ 3e-4: the discriminator wins
    generator_loss(logits, saturating=True).backward()
    g_sat = logits.grad.abs().item()
    logits.grad = None
    generator_loss(logits).backward()
    assert g_sat < 1e-3 < 0.99 < logits.grad.abs().item()


def test_dcgan_shapes():
    torch.manual_seed(0)
    G, D = Generator(latent_dim=8, width=8), Discriminator(width=8)
    s = G.sample(3, torch.Generator().manual_seed(0))
    assert s.shape == (3, 1, 28, 28) and 0 <= s.min() and s.max() <= 1
    assert D(s).shape == (3,)


def test_conv_decoder_vae_shapes_and_bad_settings():
    torch.manual_seed(0)
    vae = VAE(latent_dim=4, hidden=32, decoder="conv")
    x = torch.rand(3, 1, 28, 28)
    x_hat, mu, logvar = vae(x)
    assert x_hat.shape == x.shape and mu.shape == (3, 4) and 0 <= x_hat.min() and x_hat.max() <= 1
    assert vae.sample(2, torch.Generator().manual_seed(0)).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match="decoder"):
        VAE(decoder="deconv")
    with pytest.raises(ValueError, match="28"):
        VAE(image_shape=(1, 16, 16), decoder="conv")


def test_train_gan_moves_generator_towards_data():
    torch.manual_seed(0)
    G, D = ToyGenerator(hidden=32), ToyDiscriminator(hidden=32)
    X = torch.randn(512, 2) * 0.1 + torch.tensor([3.0, -2.0])
    before = (G.sample(256).mean(0) - X.mean(0)).norm().item()
    hist = train_gan(G, D, X, steps=300, batch_size=64, lr=2e-3, progress=False,
                     record_every=100, record=lambda step, G, D: step)
    after = (G.sample(256).mean(0) - X.mean(0)).norm().item()
    assert after < 0.5 * before and hist["records"] == [100, 200, 300] and len(hist["d_loss"]) == 300


def test_flush_denormals_restores_the_mode():
    from dlcourse.generative.vae import flush_denormals

    def is_on():
        return torch.tensor([1e-323], dtype=torch.float64).item() == 0.0

    before = is_on()
    with flush_denormals():
        assert is_on() or not torch.set_flush_denormal(True)   # on wherever the CPU supports it
    assert is_on() == before
