"""Questions of Part 1, neural network expressivity (Notes §1.1-1.2.1)."""
from __future__ import annotations

import torch

from ...expressivity import dense_params, gate_weights, perceptron_predict, truth_table
from ..registry import Case, Mistake, Question, register

# ---------------------------------------------------------------------------------------------------------------------
# expressivity.dense_params(s_in, s_out, bias=True) -> int


def _dense_case(gen: torch.Generator) -> Case:
    s_in, s_out = (int(v) for v in torch.randint(1, 2000, (2,), generator=gen))
    return Case(s_in, s_out, bias=bool(torch.randint(0, 2, (), generator=gen)))


register(Question(
    qid="expressivity.dense_params",
    reference=dense_params,
    cases=[Case(784, 128, label="a 784 -> 128 layer"),
           Case(3, 5, bias=False, label="a 3 -> 5 layer without bias"),
           Case(1, 1, label="edge: one input, one output"),
           Case(10, 1, label="edge: a single output unit"),
           Case(1, 7, bias=True, label="edge: a single input")],
    random_case=_dense_case,
    mistakes=[
        Mistake("no bias", lambda s_in, s_out, bias=True: s_in * s_out,
                "Count the biases too: a dense layer has one bias per output unit when bias=True."),
        Mistake("bias per input", lambda s_in, s_out, bias=True: s_in * s_out + (s_in if bias else 0),
                "There is one bias per OUTPUT unit (S_out of them), not one per input."),
        Mistake("bias ignored", lambda s_in, s_out, bias=True: s_in * s_out + s_out,
                "With bias=False the layer has no bias at all: only S_in * S_out weights."),
        Mistake("off by one", lambda s_in, s_out, bias=True: (s_in + 1) * (s_out + 1) if bias else s_in * s_out,
                "The bias is one extra input column (S_in + 1) * S_out, not an extra output row as well."),
        Mistake("sum", lambda s_in, s_out, bias=True: s_in + s_out + (s_out if bias else 0),
                "Every input connects to every output: the weights number S_in * S_out, not S_in + S_out."),
    ],
    forbid=("dlcourse.expressivity.dense_params",),
))

# ---------------------------------------------------------------------------------------------------------------------
# expressivity.perceptron_predict(X, w, b) -> (N,) tensor of 0/1


def _perceptron_case(gen: torch.Generator) -> Case:
    n, d = (int(v) for v in torch.randint(1, 9, (2,), generator=gen))
    X = torch.randint(-3, 4, (n, d), generator=gen).float()
    w = torch.randint(-2, 3, (d,), generator=gen).float()
    return Case(X, w, float(torch.randint(-2, 3, (), generator=gen)))


_X4, _NAND = truth_table("NAND", device="cpu")
_NAND_W, _NAND_B = gate_weights("NAND", device="cpu")

register(Question(
    qid="expressivity.perceptron_predict",
    reference=perceptron_predict,
    cases=[Case(_X4, _NAND_W, _NAND_B, label="the NAND perceptron on the four corners"),
           Case(torch.tensor([[1.0, 2.0], [2.0, 1.0], [0.0, 0.0]]), torch.tensor([1.0, -1.0]), 0.0,
                label="edge: weighted sums exactly 0 (the unit fires at 0)"),
           Case(torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]]), torch.tensor([0.5, -1.0, 0.25]), 0.5,
                label="three features, a positive bias"),
           Case(torch.tensor([[2.0], [3.0], [4.0]]), torch.tensor([1.0]), -3.0, label="one feature, a negative bias")],
    random_case=_perceptron_case,
    mistakes=[
        Mistake("strict threshold", lambda X, w, b: (X @ w + b > 0).float(),
                "The unit fires when the weighted sum is >= 0: a sum of exactly 0 gives 1, not 0."),
        Mistake("no bias", lambda X, w, b: (X @ w >= 0).float(),
                "Add the bias before the threshold: H(X w + b)."),
        Mistake("bias subtracted", lambda X, w, b: (X @ w - b >= 0).float(),
                "The bias is added, H(X w + b); subtracting it moves the hyperplane the wrong way."),
        Mistake("no threshold", lambda X, w, b: X @ w + b,
                "A perceptron outputs 0 or 1: apply the step H(z) = 1 if z >= 0 else 0 to the weighted sum."),
        Mistake("flipped", lambda X, w, b: (X @ w + b < 0).float(),
                "The unit outputs 1 on the side where X w + b >= 0, and 0 on the other side."),
    ],
    forbid=("dlcourse.expressivity.perceptron_predict", "torch.heaviside"),
))

# ---------------------------------------------------------------------------------------------------------------------
# expressivity.nand_weights() -> (w, b): many answers are right, so the truth table they compute is compared.


def nand_weights() -> tuple[torch.Tensor, torch.Tensor]:
    """Weights ``w`` (2,) and bias ``b`` (a number or 0-d tensor) of a perceptron computing NAND (Notes §1.1)."""
    return gate_weights("NAND", device="cpu")


def _gate_of(out) -> torch.Tensor:
    """The truth table that the weights ``out = (w, b)`` compute on (0, 0), (0, 1), (1, 0), (1, 1)."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise ValueError("return a pair (w, b)")
    w, b = out
    w = torch.as_tensor(w, dtype=torch.float64).reshape(-1)
    if w.numel() != 2:
        raise ValueError(f"w needs 2 weights (one per input), got {w.numel()}")
    b = torch.as_tensor(b, dtype=torch.float64).reshape(-1)
    if b.numel() != 1:
        raise ValueError(f"b must be one number, got {b.numel()}")
    return (_X4.double() @ w + b >= 0).long()


register(Question(
    qid="expressivity.nand_weights",
    reference=nand_weights,
    cases=[Case(label="the truth table of NAND on (0, 0), (0, 1), (1, 0), (1, 1)")],
    postprocess=_gate_of,
    mistakes=[
        Mistake("AND", lambda: (torch.tensor([1.0, 1.0]), torch.tensor(-1.5)),
                "These weights compute AND: NAND is its negation, so flip the signs of w and b."),
        Mistake("bias sign", lambda: (torch.tensor([-1.0, -1.0]), torch.tensor(-1.5)),
                "With b < 0 and negative weights the unit never fires: NAND must output 1 on (0, 0), so b >= 0."),
        Mistake("OR-like", lambda: (torch.tensor([-1.0, -1.0]), torch.tensor(0.5)),
                "This is NOR: it fires only on (0, 0). NAND stays on until both inputs are 1: raise the bias above 1."),
        Mistake("always on", lambda: (torch.tensor([-1.0, -1.0]), torch.tensor(2.0)),
                "The unit fires on (1, 1) too: the bias must be smaller than the sum of the two weights' sizes."),
    ],
    forbid=("dlcourse.expressivity.gate_weights",),
))
