"""Coupling flows and 2-D toy data of dlcourse.generative (Notes §4.3): invertibility, the log-determinant against
autograd's Jacobian, a density that integrates to one, and bad input."""
from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from dlcourse.generative import AffineCoupling, CouplingFlow, ring_modes, ring_of_gaussians, rings, two_moons


def _random_flow(n_layers=3, dim=2, seed=0):
    torch.manual_seed(seed)
    flow = CouplingFlow(dim=dim, n_layers=n_layers, hidden=16)
    for layer in flow.layers:  # the last layer starts at zero (identity): make it a real map
        torch.nn.init.normal_(layer.net[-1].weight, std=0.5)
    return flow.double()


def test_inverse_of_forward_is_identity():
    flow = _random_flow(4, dim=3)
    x = torch.randn(20, 3, dtype=torch.float64)
    z, _ = flow(x)
    assert (flow.inverse(z) - x).abs().max() < 1e-5
    assert (flow(flow.inverse(x))[0] - x).abs().max() < 1e-5
    assert not torch.allclose(z, x)


def test_log_det_equals_autograd_jacobian():
    flow = _random_flow(3)
    x = torch.randn(5, 2, dtype=torch.float64)
    _, log_det = flow(x)
    for i in range(5):
        J = jacobian(lambda v: flow(v.unsqueeze(0))[0].squeeze(0), x[i])
        assert torch.allclose(log_det[i], torch.linalg.slogdet(J).logabsdet, atol=1e-8)


def test_coupling_keeps_masked_coordinates():
    torch.manual_seed(0)
    layer = AffineCoupling(2, torch.tensor([1.0, 0.0]), hidden=8)
    torch.nn.init.normal_(layer.net[-1].weight)
    x = torch.randn(7, 2)
    y, _ = layer(x)
    assert torch.equal(y[:, 0], x[:, 0]) and not torch.allclose(y[:, 1], x[:, 1])


def test_density_integrates_to_one():
    flow = _random_flow(2)
    lin = torch.linspace(-8, 8, 400, dtype=torch.float64)
    gx, gy = torch.meshgrid(lin, lin, indexing="xy")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    with torch.no_grad():
        mass = flow.log_prob(grid).exp().sum() * (lin[1] - lin[0]) ** 2
    assert abs(mass.item() - 1.0) < 0.02


def test_sample_shape_and_training_raises_likelihood():
    torch.manual_seed(0)
    flow = CouplingFlow(2, 4, hidden=16)
    X = two_moons(512)
    before = flow.log_prob(X).mean().item()
    opt = torch.optim.Adam(flow.parameters(), lr=5e-3)
    for _ in range(100):
        loss = -flow.log_prob(X).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert flow.log_prob(X).mean().item() > before + 0.3
    assert flow.sample(9, torch.Generator().manual_seed(0)).shape == (9, 2)


def test_toy_data():
    assert two_moons(100).shape == rings(100).shape == ring_of_gaussians(100).shape == (100, 2)
    assert torch.equal(two_moons(10, seed=3), two_moons(10, seed=3))
    pts = ring_of_gaussians(1000, k=8, std=0.05)
    d = torch.cdist(pts, ring_modes(8)).min(1).values
    assert d.max() < 0.4
    r = rings(2000, radii=(1.0, 2.0), noise=0.01).norm(dim=1)
    assert ((r - 1).abs() < 0.1).float().mean() > 0.2 and ((r - 2).abs() < 0.1).float().mean() > 0.5


@pytest.mark.parametrize("bad", [
    lambda: AffineCoupling(2, torch.tensor([1.0, 1.0])),
    lambda: AffineCoupling(2, torch.tensor([1.0, 0.5])),
    lambda: AffineCoupling(3, torch.tensor([1.0, 0.0])),
    lambda: CouplingFlow(dim=1),
    lambda: CouplingFlow(2)(torch.zeros(4, 3)),
    lambda: CouplingFlow(2).inverse(torch.zeros(4)),
    lambda: CouplingFlow(2).log_prob(torch.zeros(4, 2, dtype=torch.long)),
    lambda: CouplingFlow(2).sample(-1),
    lambda: rings(10, radii=(1.0, -1.0)),
    lambda: ring_of_gaussians(10, std=0.0),
    lambda: two_moons(0),
])
def test_bad_input_raises(bad):
    with pytest.raises((TypeError, ValueError)):
        bad()


def test_affine_coupling_function_and_registry():
    from dlcourse.generative import affine_coupling, trained_names, trained_vae

    x, s, t = torch.randn(3, 2), torch.randn(3, 2), torch.randn(3, 2)
    y, log_det = affine_coupling(x, torch.tensor([0.0, 1.0]), s, t)
    assert torch.allclose(y[:, 0], x[:, 0] * s[:, 0].exp() + t[:, 0]) and torch.equal(y[:, 1], x[:, 1])
    assert torch.allclose(log_det, s[:, 0])
    with pytest.raises(ValueError):
        affine_coupling(x, torch.tensor([0.0, 1.0, 0.0]), s, t)
    assert {"vae", "gan", "flow"} <= set(trained_names())
    with pytest.raises(ValueError):
        trained_vae(latent_size=3)  # not a setting of the VAE
