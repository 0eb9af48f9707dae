"""Tests of dlcourse.training.adaptive: RMSProp and Adam by hand against torch.optim, and their input checks."""
import pytest
import torch

from dlcourse.training import adam_step, quadratic_grad, quadratic_loss, rmsprop_step


def _random_quadratic(gen, d):
    A = torch.randn(d, d, generator=gen, dtype=torch.float64)
    H = A @ A.T / d + 0.1 * torch.eye(d, dtype=torch.float64)
    return H, torch.randn(d, generator=gen, dtype=torch.float64)


def _torch_run(opt, p, H, w_star, steps):
    for _ in range(steps):
        opt.zero_grad()
        quadratic_loss(p, H, w_star).backward()
        opt.step()


@pytest.mark.parametrize("seed,lr,rho,eps", [(0, 0.01, 0.99, 1e-8), (1, 0.1, 0.9, 1e-3), (2, 0.05, 0.0, 1e-8)])
def test_rmsprop_matches_torch(seed, lr, rho, eps):
    gen = torch.Generator().manual_seed(seed)
    H, w_star = _random_quadratic(gen, 5)
    w0 = torch.randn(5, generator=gen, dtype=torch.float64)
    p = w0.clone().requires_grad_(True)
    opt = torch.optim.RMSprop([p], lr=lr, alpha=rho, eps=eps)
    w, s = w0.clone(), torch.zeros_like(w0)
    for _ in range(50):
        _torch_run(opt, p, H, w_star, 1)
        w, s = rmsprop_step(w, s, quadratic_grad(w, H, w_star), lr, rho, eps)
        torch.testing.assert_close(w, p.detach(), rtol=0, atol=1e-10)
    torch.testing.assert_close(s, opt.state[p]["square_avg"], rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed,lr,betas,eps", [(0, 0.01, (0.9, 0.999), 1e-8), (1, 0.3, (0.5, 0.9), 1e-6),
                                               (2, 0.1, (0.0, 0.99), 1e-8)])
def test_adam_matches_torch(seed, lr, betas, eps):
    gen = torch.Generator().manual_seed(seed)
    H, w_star = _random_quadratic(gen, 4)
    w0 = torch.randn(2, 4, generator=gen, dtype=torch.float64)  # a batch of two points: any shape works
    p = w0.clone().requires_grad_(True)
    opt = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps)
    w, m, s = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0)
    for t in range(1, 61):
        opt.zero_grad()
        quadratic_loss(p, H, w_star).sum().backward()
        opt.step()
        w, m, s = adam_step(w, m, s, quadratic_grad(w, H, w_star), t, lr, *betas, eps)
        torch.testing.assert_close(w, p.detach(), rtol=0, atol=1e-10)
    torch.testing.assert_close(m, opt.state[p]["exp_avg"], rtol=0, atol=1e-9)
    torch.testing.assert_close(s, opt.state[p]["exp_avg_sq"], rtol=0, atol=1e-9)


def test_adam_first_step_moves_every_coordinate_by_lr():
    grad = torch.tensor([300.0, -0.002, 1.0], dtype=torch.float64)
    zeros = torch.zeros(3, dtype=torch.float64)
    w, _, _ = adam_step(zeros, zeros, zeros, grad, 1, 0.01)
    torch.testing.assert_close(w, -0.01 * grad.sign(), rtol=1e-5, atol=0)
    w, _ = rmsprop_step(zeros, zeros, grad, 0.01)  # no bias correction: s_1 = 0.01 g^2, a step of 10 lr
    torch.testing.assert_close(w, -0.1 * grad.sign(), rtol=1e-4, atol=0)


def test_scale_of_the_loss_does_not_change_adam():
    gen = torch.Generator().manual_seed(3)
    H, w_star = _random_quadratic(gen, 3)
    paths = []
    for scale in (1.0, 1000.0):
        w = torch.randn(3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
        m, s = torch.zeros_like(w), torch.zeros_like(w)
        for t in range(1, 101):
            w, m, s = adam_step(w, m, s, quadratic_grad(w, scale * H, w_star), t, 0.05)
        paths.append(w)
    torch.testing.assert_close(paths[0], paths[1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("call,error", [
    (lambda w: rmsprop_step(w, w, w, -0.1), ValueError),
    (lambda w: rmsprop_step(w, w, w, 0.1, rho=1.0), ValueError),
    (lambda w: rmsprop_step(w, w, w, 0.1, eps=-1.0), ValueError),
    (lambda w: rmsprop_step(w, w[:2], w, 0.1), ValueError),
    (lambda w: rmsprop_step(w, w, w, "0.1"), TypeError),
    (lambda w: rmsprop_step(w.long(), w, w, 0.1), TypeError),
    (lambda w: adam_step(w, w, w, w, 0, 0.1), ValueError),
    (lambda w: adam_step(w, w, w, w, 1.0, 0.1), TypeError),
    (lambda w: adam_step(w, w, w, w, True, 0.1), TypeError),
    (lambda w: adam_step(w, w, w, w, 1, 0.1, beta1=-0.1), ValueError),
    (lambda w: adam_step(w, w, w, w, 1, 0.1, beta2=1.0), ValueError),
    (lambda w: adam_step(w, w, w[:2], w, 1, 0.1), ValueError),
    (lambda w: adam_step(w, w, w, [1.0, 2.0, 3.0], 1, 0.1), TypeError),
])
def test_bad_inputs_are_named(call, error):
    with pytest.raises(error):
        call(torch.ones(3, dtype=torch.float64))
