"""Tests of dlcourse.training: update rules against torch.optim.SGD, backprop against autograd, the toy losses."""
import math

import pytest
import torch
import torch.nn.functional as F

from dlcourse.training import (cross_entropy_with_grad, descent_path, gd_step, ill_conditioned_hessian, init_mlp,
                               mlp_backward, mlp_forward, mlp_to_module, momentum_step, nesterov_step,
                               quadratic_grad, quadratic_loss, rosenbrock)


def _random_quadratic(gen, d):
    A = torch.randn(d, d, generator=gen, dtype=torch.float64)
    H = A @ A.T / d + 0.1 * torch.eye(d, dtype=torch.float64)
    w_star = torch.randn(d, generator=gen, dtype=torch.float64)
    return H, w_star


# ---------------------------------------------------------------------------------------------- update rules
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gd_step_matches_sgd(seed):
    gen = torch.Generator().manual_seed(seed)
    H, w_star = _random_quadratic(gen, 5)
    w0 = torch.randn(5, generator=gen, dtype=torch.float64)
    p = w0.clone().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=0.1)
    w = w0.clone()
    for _ in range(20):
        opt.zero_grad()
        quadratic_loss(p, H, w_star).backward()
        opt.step()
        w = gd_step(w, quadratic_grad(w, H, w_star), 0.1)
    torch.testing.assert_close(w, p.detach(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed,lr,alpha", [(0, 0.1, 0.9), (1, 0.05, 0.5), (2, 0.2, 0.0)])
def test_momentum_matches_sgd_momentum(seed, lr, alpha):
    gen = torch.Generator().manual_seed(seed)
    H, w_star = _random_quadratic(gen, 4)
    w0 = torch.randn(4, generator=gen, dtype=torch.float64)
    p = w0.clone().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=lr, momentum=alpha)
    w, v = w0.clone(), torch.zeros_like(w0)
    for _ in range(30):
        opt.zero_grad()
        quadratic_loss(p, H, w_star).backward()
        opt.step()
        w, v = momentum_step(w, v, quadratic_grad(w, H, w_star), lr, alpha)
        torch.testing.assert_close(w, p.detach(), rtol=0, atol=1e-10)
        if alpha > 0:  # PyTorch's buffer is v / lr
            torch.testing.assert_close(v / lr, opt.state[p]["momentum_buffer"], rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed,lr,alpha", [(0, 0.1, 0.9), (3, 0.05, 0.6)])
def test_nesterov_matches_sgd_nesterov_lookahead(seed, lr, alpha):
    gen = torch.Generator().manual_seed(seed)
    H, w_star = _random_quadratic(gen, 3)
    w0 = torch.randn(3, generator=gen, dtype=torch.float64)
    p = w0.clone().requires_grad_(True)  # v0 = 0, so the look-ahead point starts at w0
    opt = torch.optim.SGD([p], lr=lr, momentum=alpha, nesterov=True)
    w, v = w0.clone(), torch.zeros_like(w0)
    for _ in range(30):
        opt.zero_grad()
        quadratic_loss(p, H, w_star).backward()
        opt.step()
        w, v = nesterov_step(w, v, lambda u: quadratic_grad(u, H, w_star), lr, alpha)
        torch.testing.assert_close(w - alpha * v, p.detach(), rtol=0, atol=1e-10)
        torch.testing.assert_close(v / lr, opt.state[p]["momentum_buffer"], rtol=0, atol=1e-10)


def test_descent_path_shapes_and_rules():
    H = ill_conditioned_hessian(1.0, 10.0)
    w0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    g = lambda w: quadratic_grad(w, H)  # noqa: E731
    path = descent_path(g, w0, 0.05, 7)
    assert path.shape == (8, 2) and torch.equal(path[0], w0)
    w, v = w0.clone(), torch.zeros(2, dtype=torch.float64)
    for _ in range(7):
        w, v = momentum_step(w, v, g(w), 0.05, 0.8)
    torch.testing.assert_close(descent_path(g, w0, 0.05, 7, alpha=0.8)[-1], w)
    w, v = w0.clone(), torch.zeros(2, dtype=torch.float64)
    for _ in range(7):
        w, v = nesterov_step(w, v, g, 0.05, 0.8)
    torch.testing.assert_close(descent_path(g, w0, 0.05, 7, alpha=0.8, nesterov=True)[-1], w)


def test_stability_limit_two_over_lambda_max():
    H = ill_conditioned_hessian(1.0, 20.0)
    w0 = torch.tensor([1.0, -0.5], dtype=torch.float64)
    loss = lambda lr: quadratic_loss(descent_path(lambda w: quadratic_grad(w, H), w0, lr, 200)[-1], H)  # noqa
    assert loss(0.99 * 2 / 20) < 1e-3 * quadratic_loss(w0, H)
    assert loss(1.01 * 2 / 20) > 10 * quadratic_loss(w0, H)


@pytest.mark.parametrize("bad", [
    lambda w, v, g: momentum_step(w, v, g, -0.1, 0.9),
    lambda w, v, g: momentum_step(w, v, g, 0.1, -0.9),
    lambda w, v, g: gd_step(w, g, -1.0),
    lambda w, v, g: momentum_step(w, v[:2], g, 0.1, 0.9),
    lambda w, v, g: momentum_step(w, v, g[:2], 0.1, 0.9),
    lambda w, v, g: nesterov_step(w, v, lambda u: u[:2], 0.1, 0.9),
    lambda w, v, g: gd_step(w, g[:1], 0.1),
    lambda w, v, g: descent_path(lambda u: u, w, -0.1, 3),
])
def test_update_rules_reject_bad_input(bad):
    w, v, g = torch.ones(3), torch.zeros(3), torch.ones(3)
    with pytest.raises(ValueError):
        bad(w, v, g)


def test_update_rules_type_errors():
    with pytest.raises(TypeError):
        momentum_step([1.0], torch.zeros(1), torch.ones(1), 0.1, 0.9)
    with pytest.raises(TypeError):
        nesterov_step(torch.ones(1), torch.zeros(1), "not callable", 0.1, 0.9)
    with pytest.raises(TypeError):
        gd_step(torch.ones(1), torch.ones(1), "0.1")


# ---------------------------------------------------------------------------------------------- toy losses
def test_quadratic_loss_and_grad_match_autograd():
    gen = torch.Generator().manual_seed(0)
    H, w_star = _random_quadratic(gen, 3)
    w = torch.randn(6, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    L = quadratic_loss(w, H, w_star)
    assert L.shape == (6,)
    e = (w - w_star).detach()
    torch.testing.assert_close(L.detach(), 0.5 * ((e @ H) * e).sum(1))
    L.sum().backward()
    torch.testing.assert_close(w.grad, quadratic_grad(w.detach(), H, w_star))


def test_ill_conditioned_hessian_eigenvalues():
    H = ill_conditioned_hessian(2.0, 30.0, angle=0.7)
    torch.testing.assert_close(torch.linalg.eigvalsh(H), torch.tensor([2.0, 30.0], dtype=torch.float64))
    torch.testing.assert_close(H, H.T)
    with pytest.raises(ValueError):
        ill_conditioned_hessian(5.0, 1.0)
    with pytest.raises(ValueError):
        ill_conditioned_hessian(-1.0, 1.0)


def test_quadratic_bad_input():
    H = torch.eye(2, dtype=torch.float64)
    with pytest.raises(ValueError):
        quadratic_loss(torch.ones(3, dtype=torch.float64), H)
    with pytest.raises(ValueError):
        quadratic_grad(torch.ones(2, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError):
        quadratic_loss(torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError):
        quadratic_loss(torch.ones(2, dtype=torch.float64), H, torch.ones(3, dtype=torch.float64))
    with pytest.raises(TypeError):
        quadratic_loss([1.0, 2.0], H)


def test_rosenbrock():
    w = torch.tensor([[1.0, 1.0], [0.0, 0.0], [-1.0, 2.0]])
    torch.testing.assert_close(rosenbrock(w), torch.tensor([0.0, 1.0, 4.0 + 100.0]))
    with pytest.raises(ValueError):
        rosenbrock(torch.ones(3))


# ---------------------------------------------------------------------------------------------- backprop
@pytest.mark.parametrize("activation,out_activation,sizes,seed", [
    ("sigmoid", "identity", [5, 7, 3], 0),
    ("relu", "identity", [4, 6, 6, 2], 1),
    ("tanh", "sigmoid", [3, 8, 5, 4, 1], 2),
    ("sigmoid", "tanh", [6, 2], 3),
])
def test_mlp_backward_matches_autograd(activation, out_activation, sizes, seed):
    gen = torch.Generator().manual_seed(seed)
    weights, biases = init_mlp(sizes, generator=gen, dtype=torch.float64)
    biases = [torch.randn(b.shape, generator=gen, dtype=torch.float64) * 0.1 for b in biases]
    B = int(torch.randint(1, 9, (1,), generator=gen))
    X = torch.randn(B, sizes[0], generator=gen, dtype=torch.float64)
    target = torch.randn(B, sizes[-1], generator=gen, dtype=torch.float64)
    cache = mlp_forward(X, weights, biases, activation, out_activation)
    out = cache.output
    dL_dout = (out - target) / B  # L = sum((out - target)^2) / (2B)
    grads = mlp_backward(cache, weights, dL_dout)

    net = mlp_to_module(weights, biases, activation, out_activation)
    out_ref = net(X)
    torch.testing.assert_close(out, out_ref.detach(), rtol=0, atol=1e-12)
    loss = ((out_ref - target) ** 2).sum() / (2 * B)
    loss.backward()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for lin, dW, db, W in zip(linears, grads.weights, grads.biases, weights, strict=True):
        assert dW.shape == W.shape and db.shape == (W.shape[0],)
        torch.testing.assert_close(dW, lin.weight.grad, rtol=0, atol=1e-10)
        torch.testing.assert_close(db, lin.bias.grad, rtol=0, atol=1e-10)
    assert [d.shape for d in grads.deltas] == [(B, n) for n in sizes[1:]]


def test_mlp_backward_matches_finite_differences():
    gen = torch.Generator().manual_seed(4)
    weights, biases = init_mlp([3, 4, 2], generator=gen, dtype=torch.float64)
    X = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    y = torch.tensor([0, 1, 1, 0, 1])

    def loss_of(ws):
        return cross_entropy_with_grad(mlp_forward(X, ws, biases, "tanh").output, y)[0]

    cache = mlp_forward(X, weights, biases, "tanh")
    _, dL = cross_entropy_with_grad(cache.output, y)
    dW = mlp_backward(cache, weights, dL).weights[0]
    eps = 1e-6
    fd = torch.zeros_like(weights[0])
    for i in range(weights[0].shape[0]):
        for j in range(weights[0].shape[1]):
            plus = [w.clone() for w in weights]
            minus = [w.clone() for w in weights]
            plus[0][i, j] += eps
            minus[0][i, j] -= eps
            fd[i, j] = (loss_of(plus) - loss_of(minus)) / (2 * eps)
    torch.testing.assert_close(dW, fd, rtol=0, atol=1e-8)


def test_cross_entropy_with_grad_matches_torch():
    gen = torch.Generator().manual_seed(5)
    z = torch.randn(7, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 4, (7,), generator=gen)
    loss, grad = cross_entropy_with_grad(z.detach(), y)
    ref = F.cross_entropy(z, y)
    ref.backward()
    torch.testing.assert_close(loss, ref.detach())
    torch.testing.assert_close(grad, z.grad)


def test_init_mlp_scales():
    gen = torch.Generator().manual_seed(0)
    ws, bs = init_mlp([400, 300, 10], init="xavier", generator=gen)
    assert [w.shape for w in ws] == [(300, 400), (10, 300)] and all(torch.all(b == 0) for b in bs)
    assert ws[0].abs().max() <= math.sqrt(6 / 700) + 1e-6
    ws, _ = init_mlp([400, 300], init="he", generator=gen)
    assert abs(ws[0].std().item() - math.sqrt(2 / 400)) < 0.01 * math.sqrt(2 / 400) * 10


def test_backprop_bad_input():
    ws, bs = init_mlp([3, 4, 2])
    X = torch.randn(5, 3)
    with pytest.raises(ValueError):  # wrong rank
        mlp_forward(torch.randn(3), ws, bs)
    with pytest.raises(ValueError):  # wrong number of features
        mlp_forward(torch.randn(5, 4), ws, bs)
    with pytest.raises(ValueError):  # mismatched bias
        mlp_forward(X, ws, [bs[0], torch.zeros(3)])
    with pytest.raises(ValueError):  # mismatched consecutive layers
        mlp_forward(X, [ws[0], torch.randn(2, 5)], bs)
    with pytest.raises(ValueError):  # missing bias
        mlp_forward(X, ws, bs[:1])
    with pytest.raises(ValueError):
        mlp_forward(X, ws, bs, activation="swish")
    with pytest.raises(TypeError):
        mlp_forward(X.long(), ws, bs)
    cache = mlp_forward(X, ws, bs)
    with pytest.raises(ValueError):
        mlp_backward(cache, ws, torch.randn(5, 3))
    with pytest.raises(ValueError):
        mlp_backward(cache, ws, torch.randn(2))
    with pytest.raises(ValueError):
        mlp_backward(cache, ws[:1], torch.randn(5, 2))
    with pytest.raises(TypeError):
        mlp_backward("cache", ws, torch.randn(5, 2))
    with pytest.raises(ValueError):
        cross_entropy_with_grad(torch.randn(5, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError):
        cross_entropy_with_grad(torch.randn(5, 2), torch.zeros(5))
    with pytest.raises(ValueError):
        init_mlp([3])
    with pytest.raises(ValueError):
        init_mlp([3, -1])
