"""Tests of dlcourse.expressivity (Notes §1.1, §1.2, §1.2.1): perceptron, XOR network, sawtooths, piece counting."""
from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dlcourse.expressivity import (LOGIC_GATES, count_linear_pieces, dense_flops, dense_params, gate_weights,
                                   heaviside, perceptron_predict, perceptron_train, relu_kinks, sawtooth, sawtooth_net,
                                   shallow_sawtooth_net, tent_map, truth_table, xor_from_gates)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
GATE_FUNCS = {"AND": lambda a, b: a & b, "OR": lambda a, b: a | b, "NAND": lambda a, b: 1 - (a & b),
              "NOR": lambda a, b: 1 - (a | b), "XOR": lambda a, b: a ^ b, "XNOR": lambda a, b: 1 - (a ^ b)}


# ---------------------------------------------------------------- §1.1 threshold unit and truth tables
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_heaviside_matches_torch(device, dtype):
    z = torch.randn(7, 5, dtype=dtype, device=device)
    z[0, :3] = 0.0  # the notes fire the unit at exactly 0
    out = heaviside(z)
    assert out.dtype == dtype and out.device == z.device and out.shape == z.shape
    assert torch.equal(out, torch.heaviside(z, torch.ones((), dtype=dtype, device=device)))


def test_heaviside_bad_input():
    with pytest.raises(TypeError, match="torch.Tensor"):
        heaviside([0.0, 1.0])
    with pytest.raises(TypeError, match="floating-point"):
        heaviside(torch.tensor([1, -1]))


@pytest.mark.parametrize("name", sorted(LOGIC_GATES))
def test_truth_table_against_bit_operations(name):
    X, y = truth_table(name)
    assert X.shape == (4, 2) and y.shape == (4,) and X.dtype == torch.float32
    for (a, b), out in zip(X.int().tolist(), y.int().tolist(), strict=True):
        assert GATE_FUNCS[name](a, b) == out
    X2, y2 = truth_table(name.lower(), dtype=torch.float64)
    assert X2.dtype == torch.float64 and torch.equal(y2.float(), y)


def test_truth_table_bad_input():
    with pytest.raises(ValueError, match="unknown logic gate"):
        truth_table("IMPLIES")
    with pytest.raises(TypeError, match="str"):
        truth_table(3)


@pytest.mark.parametrize("name", ["AND", "OR", "NAND", "NOR"])
def test_gate_weights_compute_their_gate(name):
    X, y = truth_table(name, dtype=torch.float64)
    w, b = gate_weights(name, dtype=torch.float64)
    assert w.shape == (2,) and b.shape == ()
    assert torch.equal(perceptron_predict(X, w, b), y)


@pytest.mark.parametrize("name", ["XOR", "xnor"])
def test_gate_weights_refuse_non_separable(name):
    with pytest.raises(ValueError, match="not linearly separable"):
        gate_weights(name)


@pytest.mark.parametrize("device", DEVICES)
def test_perceptron_predict_independent(device):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(50, 6, generator=g, dtype=torch.float64)
    w = torch.randn(6, generator=g, dtype=torch.float64)
    b = 0.3
    expected = [1.0 if sum(xi * wi for xi, wi in zip(row, w.tolist(), strict=True)) + b >= 0 else 0.0
                for row in X.tolist()]
    for bias in (b, torch.tensor(b, dtype=torch.float64), torch.tensor([b], dtype=torch.float64)):
        out = perceptron_predict(X.to(device), w.to(device), bias.to(device) if torch.is_tensor(bias) else bias)
        assert out.shape == (50,) and out.device.type == device
        assert out.tolist() == expected


def test_perceptron_predict_bad_input():
    X, w = torch.zeros(4, 3), torch.zeros(3)
    with pytest.raises(ValueError, match="one weight per feature"):
        perceptron_predict(X, torch.zeros(2), 0.0)
    with pytest.raises(ValueError, match="2 dimensions"):
        perceptron_predict(torch.zeros(3), w, 0.0)
    with pytest.raises(ValueError, match="scalar"):
        perceptron_predict(X, w, torch.zeros(2))
    with pytest.raises(TypeError, match="b must be"):
        perceptron_predict(X, w, "1")
    with pytest.raises(TypeError, match="floating-point"):
        perceptron_predict(X.long(), w, 0.0)


# ---------------------------------------------------------------- §1.1 learning rule
def _reference_perceptron(X, y, epochs, lr):
    """Rosenblatt's rule in plain Python lists, an independent implementation."""
    w, b, errors = [0.0] * len(X[0]), 0.0, []
    for _ in range(epochs):
        mistakes = 0
        for x, t in zip(X, y, strict=True):
            out = 1.0 if sum(a * c for a, c in zip(w, x, strict=True)) + b >= 0 else 0.0
            d = t - out
            w = [wi + lr * d * xi for wi, xi in zip(w, x, strict=True)]
            b += lr * d
            mistakes += d != 0
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors


@pytest.mark.parametrize("name", ["AND", "OR", "NAND", "NOR"])
def test_perceptron_learns_separable_gates(name):
    X, y = truth_table(name)
    w, b, errors = perceptron_train(X, y, epochs=100, lr=1.0)
    assert errors[-1] == 0 and len(errors) < 100
    assert torch.equal(perceptron_predict(X, w, b), y)


def test_perceptron_never_converges_on_xor():
    X, y = truth_table("XOR")
    w, b, errors = perceptron_train(X, y, epochs=300)
    assert len(errors) == 300 and min(errors) >= 1
    assert not torch.equal(perceptron_predict(X, w, b), y)


def test_perceptron_train_matches_reference_and_converges_on_separable_data():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(40, 5, generator=g, dtype=torch.float64)
    w_true = torch.randn(5, generator=g, dtype=torch.float64)
    margin = X @ w_true + 0.2
    keep = margin.abs() > 0.3  # a margin guarantees convergence (Novikoff)
    X, y = X[keep], (margin[keep] >= 0).double()
    w, b, errors = perceptron_train(X, y, epochs=1000, lr=0.5)
    w_ref, b_ref, err_ref = _reference_perceptron(X.tolist(), y.tolist(), 1000, 0.5)
    assert errors == err_ref and errors[-1] == 0
    torch.testing.assert_close(w, torch.tensor(w_ref, dtype=torch.float64))
    assert abs(b.item() - b_ref) < 1e-12
    assert torch.equal(perceptron_predict(X, w, b), y)


def test_perceptron_train_initial_weights_and_no_early_stop():
    X, y = truth_table("OR")
    w0 = torch.tensor([5.0, 5.0])
    w, b, errors = perceptron_train(X, y, epochs=7, w0=w0, b0=-1.0, stop_when_converged=False)
    assert len(errors) == 7 and torch.equal(w0, torch.tensor([5.0, 5.0]))  # w0 not modified in place
    assert torch.equal(perceptron_predict(X, w, b), y)


def test_perceptron_train_bad_input():
    X, y = truth_table("AND")
    with pytest.raises(ValueError, match="same number of samples"):
        perceptron_train(X, y[:3])
    with pytest.raises(ValueError, match="0 and 1"):
        perceptron_train(X, y * 2)
    with pytest.raises(ValueError, match="lr must be positive"):
        perceptron_train(X, y, lr=0.0)
    with pytest.raises(TypeError, match="lr must be a number"):
        perceptron_train(X, y, lr="fast")
    with pytest.raises(ValueError, match="non-negative"):
        perceptron_train(X, y, epochs=-1)
    with pytest.raises(TypeError, match="epochs must be an int"):
        perceptron_train(X, y, epochs=2.5)
    with pytest.raises(ValueError, match="one weight per feature"):
        perceptron_train(X, y, w0=torch.zeros(3))
    with pytest.raises(ValueError, match="1 dimensions"):
        perceptron_train(X, y[:, None])


# ---------------------------------------------------------------- §1.2 XOR as a composition
@pytest.mark.parametrize("device", DEVICES)
def test_xor_from_gates(device):
    X, y = truth_table("XOR", device=device)
    out = xor_from_gates(X)
    assert out.device.type == device and torch.equal(out, y)
    # and against the bit operation on more random binary points
    bits = torch.randint(0, 2, (64, 2), generator=torch.Generator().manual_seed(0))
    assert torch.equal(xor_from_gates(bits.double()), (bits[:, 0] ^ bits[:, 1]).double())


def test_xor_from_gates_bad_input():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        xor_from_gates(torch.zeros(4, 3))
    with pytest.raises(TypeError, match="floating-point"):
        xor_from_gates(torch.zeros(4, 2, dtype=torch.long))


# ---------------------------------------------------------------- §1.2 sawtooths: depth vs width
def test_tent_map_formula():
    x = torch.rand(1000, dtype=torch.float64)
    torch.testing.assert_close(tent_map(x), torch.minimum(2 * x, 2 - 2 * x))
    assert tent_map(torch.tensor([-0.3, 0.0])).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_sawtooth_is_composed_tent_map(k):
    x = torch.rand(2000, dtype=torch.float64)
    composed = x.clone()
    for _ in range(k):
        composed = tent_map(composed)
    torch.testing.assert_close(sawtooth(x, k), composed)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_sawtooth_nets_compute_the_sawtooth(k, device):
    x = torch.linspace(0, 1, 4097, dtype=torch.float64, device=device)[:, None]
    deep = sawtooth_net(k, device=device, dtype=torch.float64)
    shallow = shallow_sawtooth_net(k, device=device, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(deep(x), sawtooth(x, k))
        torch.testing.assert_close(shallow(x), sawtooth(x, k))
    hidden_deep = sum(m.out_features for m in deep if isinstance(m, nn.Linear)) - 1
    hidden_shallow = shallow[0].out_features
    assert hidden_deep == 2 * k and hidden_shallow == 2**k
    assert sum(p.numel() for p in deep.parameters()) == 6 * k + 1
    assert sum(p.numel() for p in shallow.parameters()) == dense_params(1, 2**k) + dense_params(2**k, 1)
    assert count_linear_pieces(deep, 0.0, 1.0) == 2**k == count_linear_pieces(shallow, 0.0, 1.0)


def test_sawtooth_bad_input():
    for fn in (sawtooth_net, shallow_sawtooth_net):
        with pytest.raises(ValueError, match="positive"):
            fn(0)
        with pytest.raises(TypeError, match="int"):
            fn(2.0)
    with pytest.raises(ValueError, match="non-negative"):
        sawtooth(torch.rand(3), -1)
    with pytest.raises(TypeError, match="floating-point"):
        tent_map(torch.arange(3))


def test_count_linear_pieces_simple_functions():
    assert count_linear_pieces(lambda x: 3 * x + 1, -2, 5) == 1
    assert count_linear_pieces(torch.relu, -1, 1) == 2
    assert count_linear_pieces(torch.relu, 0.5, 1) == 1
    assert count_linear_pieces(torch.abs, -1, 1.3, n=101) == 2  # kink inside a grid segment
    assert count_linear_pieces(torch.abs, -1, 1, n=101) == 2  # kink on a grid point
    assert count_linear_pieces(lambda x: torch.clamp(x, 0, 1), -1, 2) == 3


@pytest.mark.parametrize("seed", range(5))
def test_count_linear_pieces_random_shallow_nets(seed):
    """Independent count: a one-hidden-layer ReLU net breaks at t_i = -b_i / w_i, one kink per unit."""
    g = torch.Generator().manual_seed(seed)
    m = int(torch.randint(1, 30, (1,), generator=g))
    t = torch.sort(torch.rand(m, generator=g, dtype=torch.float64) * 4 - 2).values
    t = t[torch.cat([torch.tensor([True]), torch.diff(t) > 0.01])]  # kinks more than 3 grid steps apart
    sign = torch.where(torch.rand(len(t), generator=g) < 0.5, -1.0, 1.0).double()
    net = nn.Sequential(nn.Linear(1, len(t)), nn.ReLU(), nn.Linear(len(t), 1)).double()
    with torch.no_grad():
        scale = 0.5 + torch.rand(len(t), generator=g, dtype=torch.float64)
        net[0].weight.copy_((sign * scale)[:, None])
        net[0].bias.copy_(-sign * scale * t)
        net[2].weight.copy_(torch.where(torch.rand(len(t), generator=g) < 0.5, -1.0, 1.0).double()[None]
                            * (0.2 + torch.rand(len(t), generator=g, dtype=torch.float64)))
    assert count_linear_pieces(net.float(), -3, 3) == len(t) + 1 <= m + 1


def test_count_linear_pieces_bad_input():
    with pytest.raises(TypeError, match="callable"):
        count_linear_pieces(3, 0, 1)
    with pytest.raises(ValueError, match="lo < hi"):
        count_linear_pieces(torch.relu, 1, 0)
    with pytest.raises(ValueError, match="at least 3"):
        count_linear_pieces(torch.relu, 0, 1, n=2)
    with pytest.raises(ValueError, match="must return"):
        count_linear_pieces(lambda x: x[:5], 0, 1)
    with pytest.raises(TypeError, match="lo must be a number"):
        count_linear_pieces(torch.relu, "0", 1)
    with pytest.raises(ValueError, match="tol"):
        count_linear_pieces(torch.relu, 0, 1, tol=-1.0)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_relu_kinks_of_the_sawtooths(k):
    expected = torch.arange(1, 2**k, dtype=torch.float64) / 2**k  # the sawtooth bends at j / 2^k
    for net in (sawtooth_net(k), shallow_sawtooth_net(k)):
        torch.testing.assert_close(relu_kinks(net, 0.0, 1.0), expected)
    assert len(relu_kinks(sawtooth_net(k), 0.0, 1.0)) + 1 == count_linear_pieces(sawtooth_net(k), 0.0, 1.0)


def test_relu_kinks_ignore_switches_that_do_not_bend():
    net = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, -0.5]))
        net[2].weight.copy_(torch.tensor([[1.0, 0.0]]))  # the second unit switches at 0.5 but is not read
        net[2].bias.zero_()
    torch.testing.assert_close(relu_kinks(net, -1.0, 1.0), torch.tensor([0.0], dtype=torch.float64))
    assert len(relu_kinks(net, 0.25, 1.0)) == 0


@pytest.mark.parametrize("seed", range(4))
def test_relu_kinks_of_random_deep_nets(seed):
    """Independent check: the net is linear between consecutive kinks and its slope changes at each of them."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(1, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(),
                        nn.Linear(4, 1)).double()
    kinks = relu_kinks(net, -3.0, 3.0)
    assert len(kinks) >= 1 and bool((torch.diff(kinks) > 0).all())
    edges = torch.cat([torch.tensor([-3.0], dtype=torch.float64), kinks, torch.tensor([3.0], dtype=torch.float64)])
    with torch.no_grad():
        slopes = []
        for x0, x1 in zip(edges[:-1], edges[1:], strict=True):
            xs = torch.linspace(float(x0), float(x1), 7, dtype=torch.float64)[:, None]
            ys = net(xs)[:, 0]
            line = ys[0] + (ys[-1] - ys[0]) * (xs[:, 0] - x0) / (x1 - x0)
            torch.testing.assert_close(ys, line, atol=1e-9, rtol=0)  # affine on each piece
            slopes.append(((ys[-1] - ys[0]) / (x1 - x0)).item())
    assert all(abs(s1 - s0) > 1e-6 for s0, s1 in zip(slopes[:-1], slopes[1:], strict=True))  # and bent at every kink


def test_relu_kinks_bad_input():
    with pytest.raises(TypeError, match="nn.Sequential"):
        relu_kinks(nn.Linear(1, 1), 0.0, 1.0)
    with pytest.raises(TypeError, match="only nn.Linear and nn.ReLU"):
        relu_kinks(nn.Sequential(nn.Linear(1, 2), nn.Tanh(), nn.Linear(2, 1)), 0.0, 1.0)
    with pytest.raises(ValueError, match="one output"):
        relu_kinks(nn.Sequential(nn.Linear(1, 2)), 0.0, 1.0)
    with pytest.raises(ValueError, match="2 inputs"):
        relu_kinks(nn.Sequential(nn.Linear(2, 1)), 0.0, 1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        relu_kinks(sawtooth_net(1), 1.0, 0.0)
    with pytest.raises(TypeError, match="lo must be a number"):
        relu_kinks(sawtooth_net(1), "0", 1.0)


# ---------------------------------------------------------------- §1.2.1 parameter and FLOP counts
@pytest.mark.parametrize("s_in,s_out,batch", list(itertools.product([1, 3, 17], [1, 8], [1, 5])))
def test_dense_counts_against_pytorch(s_in, s_out, batch):
    for bias in (True, False):
        assert dense_params(s_in, s_out, bias) == sum(p.numel() for p in nn.Linear(s_in, s_out, bias).parameters())
    with FlopCounterMode(display=False) as counter:
        nn.Linear(s_in, s_out)(torch.randn(batch, s_in))
    assert dense_flops(s_in, s_out, batch) == counter.get_total_flops()


def test_dense_counts_bad_input():
    with pytest.raises(ValueError, match="positive"):
        dense_params(0, 3)
    with pytest.raises(ValueError, match="positive"):
        dense_flops(3, -1)
    with pytest.raises(TypeError, match="int"):
        dense_params(3.0, 2)
    with pytest.raises(TypeError, match="bias"):
        dense_params(3, 2, bias=1)
    with pytest.raises(ValueError, match="batch_size"):
        dense_flops(3, 2, batch_size=0)
