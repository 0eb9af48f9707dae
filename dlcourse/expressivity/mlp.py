"""Multi-layer perceptrons: XOR from threshold units, and depth versus width with ReLU sawtooths. Notes §1.2.

- ``xor_from_gates``: XOR = AND(OR, NAND), a two-layer network of hand-set threshold units.
- ``tent_map`` / ``sawtooth``: Telgarsky's tent map $t(x) = 2\\,\\mathrm{ReLU}(x) - 4\\,\\mathrm{ReLU}(x - 1/2)$ and
  its $k$-fold composition, a sawtooth with $2^k$ linear pieces on $[0, 1]$.
- ``sawtooth_net(k)``: that composition as a deep ReLU net with $k$ hidden layers of 2 units ($2k$ units);
  ``shallow_sawtooth_net(k)``: the same function with one hidden layer of $2^k$ units.
- ``count_linear_pieces``: number of linear pieces of a piecewise-linear function of one variable, measured on a grid.
- ``relu_kinks``: the exact breakpoints of a ReLU network of one input, found layer by layer (no grid).
"""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import torch
from torch import nn

from .._utils import check_nonnegative_int, check_positive_int, check_tensor, resolve_device
from .perceptron import gate_weights, heaviside

__all__ = ["xor_from_gates", "tent_map", "sawtooth", "sawtooth_net", "shallow_sawtooth_net", "count_linear_pieces",
           "relu_kinks"]


def xor_from_gates(X: torch.Tensor) -> torch.Tensor:
    """XOR of two binary inputs computed by three perceptrons: $\\mathrm{AND}(\\mathrm{OR}(x), \\mathrm{NAND}(x))$.

    The hidden layer holds the OR and NAND units side by side, (N, 2) -> (N, 2); the output unit is an AND of them,
    (N, 2) -> (N,). All weights are hand-set (``gate_weights``). Notes §1.2.

    Args:
        X: inputs, shape (N, 2), floating point (values in {0, 1} for the logic gate).

    Returns:
        Tensor (N,) of 0/1 values, dtype and device of ``X``.
    """
    check_tensor(X, "X", ndim=2, floating=True)
    if X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {tuple(X.shape)}")
    w_or, b_or = gate_weights("OR", X.device, X.dtype)
    w_nand, b_nand = gate_weights("NAND", X.device, X.dtype)
    w_and, b_and = gate_weights("AND", X.device, X.dtype)
    W1 = torch.stack([w_or, w_nand])  # (2 hidden units, 2 inputs)
    b1 = torch.stack([b_or, b_nand])  # (2,)
    hidden = heaviside(X @ W1.T + b1)  # (N, 2): [OR(x), NAND(x)]
    return heaviside(hidden @ w_and + b_and)  # (N,)


def tent_map(x: torch.Tensor) -> torch.Tensor:
    """Telgarsky's tent map from two ReLU units: $t(x) = 2\\,\\mathrm{ReLU}(x) - 4\\,\\mathrm{ReLU}(x - 1/2)$.

    On $[0, 1]$ it rises from 0 to 1 on $[0, 1/2]$ and falls back to 0 on $[1/2, 1]$, so it maps $[0, 1]$ onto
    itself twice. Shape: any (elementwise), floating point. Notes §1.2.
    """
    check_tensor(x, "x", floating=True)
    return 2 * torch.relu(x) - 4 * torch.relu(x - 0.5)


def sawtooth(x: torch.Tensor, k: int) -> torch.Tensor:
    """The $k$-fold composition of the tent map on $[0, 1]$ in closed form: $1 - |(2^k x \\bmod 2) - 1|$.

    A triangle wave with $2^{k-1}$ teeth, hence $2^k$ linear pieces, for $k \\ge 1$ ($k = 0$ is the identity).
    Meant for $x \\in [0, 1]$; elementwise, floating point. Notes §1.2.
    """
    check_tensor(x, "x", floating=True)
    k = check_nonnegative_int(k, "k")
    return 1 - torch.abs(torch.remainder(x * 2**k, 2.0) - 1)


def sawtooth_net(k: int, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """A deep ReLU net with $k$ hidden layers of 2 units that computes the $k$-fold tent map (Notes §1.2).

    Layer 1 computes the two pre-activations $(x, x - 1/2)$ of the tent map; each later hidden layer takes the
    previous tent output $2h_1 - 4h_2$ and forms the next pre-activations, so its weight matrix is
    $\\begin{pmatrix} 2 & -4 \\\\ 2 & -4 \\end{pmatrix}$ with bias $(0, -1/2)$; the output layer returns $2h_1 - 4h_2$.
    It uses $2k$ hidden units and $6k + 1$ parameters, and on $[0, 1]$ it equals ``sawtooth(x, k)``: $2^k$ pieces.

    Input (N, 1), output (N, 1).
    """
    k = check_positive_int(k, "k")
    tent_out = torch.tensor([[2.0, -4.0]])  # h -> t = 2 h1 - 4 h2
    pre_w = torch.tensor([[1.0], [1.0]])  # t -> (t, t - 1/2)
    pre_b = torch.tensor([0.0, -0.5])
    layers: list[nn.Module] = []
    first = nn.Linear(1, 2)
    first.weight.data.copy_(pre_w)
    first.bias.data.copy_(pre_b)
    layers += [first, nn.ReLU()]
    for _ in range(k - 1):
        hidden = nn.Linear(2, 2)
        hidden.weight.data.copy_(pre_w @ tent_out)  # [[2, -4], [2, -4]]
        hidden.bias.data.copy_(pre_b)
        layers += [hidden, nn.ReLU()]
    last = nn.Linear(2, 1)
    last.weight.data.copy_(tent_out)
    last.bias.data.zero_()
    layers.append(last)
    return nn.Sequential(*layers).to(device=resolve_device(device), dtype=dtype)


def shallow_sawtooth_net(k: int, device: torch.device | str | None = None,
                         dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """One hidden layer of $2^k$ ReLU units that computes the same sawtooth as ``sawtooth_net(k)`` on $[0, 1]$.

    Unit $j$ switches on at $t_j = j / 2^k$; the output weights set the slope $2^k$ on the first piece and flip it
    by $\\mp 2^{k+1}$ at every later breakpoint. A one-hidden-layer ReLU net with $m$ units is linear between at most
    $m$ breakpoints, so $2^k$ pieces need at least $2^k - 1$ units: width must grow exponentially where depth grows
    linearly (Notes §1.2). Input (N, 1), output (N, 1).
    """
    k = check_positive_int(k, "k")
    m = 2**k
    j = torch.arange(m, dtype=torch.float64)
    first = nn.Linear(1, m)
    first.weight.data.fill_(1.0)
    first.bias.data.copy_(-j / m)
    coef = 2.0 ** (k + 1) * (-1.0) ** j
    coef[0] = 2.0**k
    last = nn.Linear(m, 1)
    last.weight.data.copy_(coef[None, :])
    last.bias.data.zero_()
    return nn.Sequential(first, nn.ReLU(), last).to(device=resolve_device(device), dtype=dtype)


def count_linear_pieces(f: Callable[[torch.Tensor], torch.Tensor], lo: float, hi: float, n: int = 10_001,
                        tol: float = 1e-6) -> int:
    """Number of linear pieces of a continuous piecewise-linear function of one variable on ``[lo, hi]``.

    ``f`` is evaluated on ``n`` equally spaced points (a tensor of shape (n, 1), float64, on the CPU; an
    ``nn.Module`` is copied there and to float64 for exact slopes) and must return ``n`` values. The slopes of
    consecutive grid segments are compared: a breakpoint shows as one change when it falls on a grid point and as two
    adjacent changes when it falls inside a segment, so each run of adjacent changes counts as one breakpoint, and
    the answer is ``breakpoints + 1``. Pieces must be at least three grid steps wide to be told apart. A slope change
    counts when it exceeds ``tol * max(1, max |slope|)``. Notes §1.2.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    for name, v in (("lo", lo), ("hi", hi), ("tol", tol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{name} must be a number, got {type(v).__name__}")
    if not hi > lo:
        raise ValueError(f"need lo < hi, got lo={lo} and hi={hi}")
    n = check_positive_int(n, "n")
    if n < 3:
        raise ValueError(f"n must be at least 3 grid points, got {n}")
    if tol < 0:
        raise ValueError(f"tol must be non-negative, got {tol}")
    if isinstance(f, nn.Module):
        f = copy.deepcopy(f).to(device="cpu", dtype=torch.float64)
    x = torch.linspace(lo, hi, n, dtype=torch.float64)
    with torch.no_grad():
        y = f(x[:, None])
    if not isinstance(y, torch.Tensor) or y.numel() != n:
        raise ValueError(f"f must return {n} values for an input of shape ({n}, 1), "
                         f"got {type(y).__name__} of shape {tuple(getattr(y, 'shape', ()))}")
    y = y.detach().reshape(-1).to(torch.float64)
    slopes = torch.diff(y) / torch.diff(x)  # (n - 1,)
    threshold = tol * max(1.0, slopes.abs().max().item())
    changed = torch.diff(slopes).abs() > threshold  # (n - 2,)
    starts = changed & ~torch.cat([torch.zeros(1, dtype=torch.bool), changed[:-1]])  # first change of each run
    return int(starts.sum().item()) + 1


def relu_kinks(net: nn.Sequential, lo: float, hi: float, tol: float = 1e-9) -> torch.Tensor:
    """The exact points of ``[lo, hi]`` where a ReLU network of one input bends; it has ``len(kinks) + 1`` pieces.

    ``net`` is an ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU`` layers with input (N, 1) and output (N, 1).
    On an interval where no unit switches, every layer's output is affine in $x$, $h = \\mathbf{a} x + \\mathbf{c}$.
    A linear layer maps $(\\mathbf{a}, \\mathbf{c})$ to $(W\\mathbf{a}, W\\mathbf{c} + \\mathbf{b})$; a ReLU splits
    the interval at the zeros $x = -c_i / a_i$ of its pre-activations that fall inside it, and on each part keeps
    the units that are on (their activation pattern). The output is then affine on every final interval, and a
    boundary between two of them is a kink when the output's slope changes there by more than
    ``tol * max(1, max |slope|)`` (a unit can switch without bending the output, e.g. when a later layer ignores it).
    Computed in float64 on the CPU. Unlike ``count_linear_pieces`` it needs no grid, so kinks closer than a grid
    step are all found. Notes §1.2.

    Returns:
        Tensor (K,) float64 of the kinks' positions, increasing.
    """
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"net must be an nn.Sequential of nn.Linear and nn.ReLU layers, got {type(net).__name__}")
    for name, v in (("lo", lo), ("hi", hi), ("tol", tol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{name} must be a number, got {type(v).__name__}")
    if not hi > lo:
        raise ValueError(f"need lo < hi, got lo={lo} and hi={hi}")
    if tol < 0:
        raise ValueError(f"tol must be non-negative, got {tol}")
    width = 1
    for k, layer in enumerate(net):
        if isinstance(layer, nn.Linear):
            if layer.in_features != width:
                raise ValueError(f"layer {k} expects {layer.in_features} inputs, but {width} arrive (the net's input "
                                 "is one number)")
            width = layer.out_features
        elif not isinstance(layer, nn.ReLU):
            raise TypeError(f"net may hold only nn.Linear and nn.ReLU layers, got {type(layer).__name__} at {k}")
    if width != 1:
        raise ValueError(f"net must have one output, got {width}")
    # regions: (left, right, a, c) with the current layer's output h(x) = a x + c on [left, right]
    regions = [(float(lo), float(hi), np.ones(1), np.zeros(1))]
    for layer in net:
        if isinstance(layer, nn.Linear):
            W = layer.weight.detach().cpu().double().numpy()
            b = np.zeros(W.shape[0]) if layer.bias is None else layer.bias.detach().cpu().double().numpy()
            regions = [(left, right, W @ a, W @ c + b) for left, right, a, c in regions]
            continue
        split = []
        for left, right, a, c in regions:
            moving = a != 0
            zeros = -c[moving] / a[moving]  # where a unit's pre-activation a_i x + c_i changes sign
            cuts = np.unique(zeros[(zeros > left) & (zeros < right)])
            edges = np.concatenate([[left], cuts, [right]])
            for x0, x1 in zip(edges[:-1], edges[1:], strict=True):
                on = a * (x0 + x1) / 2 + c > 0  # the activation pattern on this part
                split.append((x0, x1, a * on, c * on))
        regions = split
    slopes = np.array([a[0] for _, _, a, _ in regions])
    threshold = tol * max(1.0, float(np.abs(slopes).max()))
    bends = np.abs(np.diff(slopes)) > threshold
    kinks = np.array([right for _, right, _, _ in regions[:-1]])[bends]
    return torch.from_numpy(kinks)
