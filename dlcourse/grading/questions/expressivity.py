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

# ---------------------------------------------------------------------------------------------------------------------
# expressivity.sawtooth_pieces(k) -> (pieces, shallow_units): a prediction about the tent map composed k times.


def sawtooth_pieces(k: int) -> tuple[int, int]:
    """``(2**k, 2**k - 1)``: the linear pieces on [0, 1] of the k-fold tent map (the deep net ``sawtooth_net(k)``),
    and the fewest ReLU units one hidden layer needs for the same function (m units bend it at most m times)."""
    return 2**k, 2**k - 1


def _pieces_case(gen: torch.Generator) -> Case:
    return Case(int(torch.randint(1, 21, (), generator=gen)))


register(Question(
    qid="expressivity.sawtooth_pieces",
    reference=sawtooth_pieces,
    cases=[Case(5, label="k = 5: five tents composed, 10 ReLU units"),
           Case(1, label="edge: k = 1, the tent map itself"),
           Case(10, label="k = 10: a deep net of 20 ReLU units")],
    random_case=_pieces_case,
    mistakes=[
        Mistake("units", lambda k: (2 * k, 2 * k - 1),
                "2k is the number of ReLU units of the deep net, not of its pieces: each tent doubles the pieces, "
                "so k tents make 2^k."),
        Mistake("teeth", lambda k: (2 ** (k - 1), 2 ** (k - 1) - 1),
                "2^(k-1) counts the teeth of the sawtooth; every tooth has a rising and a falling piece."),
        Mistake("one unit per piece", lambda k: (2**k, 2**k),
                "One hidden layer of m units bends the function at most m times, giving m + 1 pieces: 2^k pieces "
                "need 2^k - 1 units (the package's shallow_sawtooth_net uses 2^k, one more than needed)."),
        Mistake("additive", lambda k: (k + 1, k),
                "Composing does not add one piece per layer: the tent maps each half of [0, 1] onto all of it, so "
                "each composition doubles the pieces."),
        Mistake("breakpoints", lambda k: (2**k - 1, 2**k - 2),
                "2^k - 1 is the number of breakpoints; the pieces are one more."),
    ],
))

# ---------------------------------------------------------------------------------------------------------------------
# expressivity.train_xor() -> (W1 (2, 2), b1 (2,), W2 (1, 2), b2 (1,)) of a trained 2-2-1 tanh net; its predictions
# on the four corners are compared, since every solving net is right.

_XOR_X = truth_table("XOR", device="cpu")[0].double()


def xor_predictions(W1, b1, W2, b2) -> torch.Tensor:
    """Predictions (4,) in {0, 1} of the net ``(tanh(X W1^T + b1)) W2^T + b2 >= 0`` on (0, 0), (0, 1), (1, 0),
    (1, 1); ``ValueError`` naming the parameter when a shape is not that of a 2-2-1 net."""
    params = {}
    for name, value, shape in (("W1", W1, (2, 2)), ("b1", b1, (2,)), ("W2", W2, (1, 2)), ("b2", b2, (1,))):
        if isinstance(value, bool) or not isinstance(value, (torch.Tensor, int, float, list, tuple)):
            raise ValueError(f"{name} should be a tensor of shape {shape}, got a {type(value).__name__}")
        t = torch.as_tensor(value, dtype=torch.float64)
        if t.numel() != torch.Size(shape).numel():
            raise ValueError(f"{name} should have shape {shape} for a 2-2-1 net, got {tuple(t.shape)}")
        params[name] = t.reshape(shape)
    hidden = torch.tanh(_XOR_X @ params["W1"].T + params["b1"])
    return (hidden @ params["W2"].T + params["b2"] >= 0).long().reshape(4)


def _xor_table(out) -> torch.Tensor:
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        raise ValueError("return the four parameters (W1, b1, W2, b2) of the trained net")
    return xor_predictions(*out)


def train_xor() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Reference parameters of a 2-2-1 tanh net that solves XOR: hidden units OR and AND, output OR and not AND."""
    W1, b1 = 10 * torch.ones(2, 2), torch.tensor([-5.0, -15.0])
    return W1, b1, torch.tensor([[1.0, -1.0]]), torch.tensor([-1.0])


def _hidden_gates(w2, b2):
    return lambda: (10 * torch.ones(2, 2), torch.tensor([-5.0, -15.0]), torch.tensor([w2]), torch.tensor([b2]))


register(Question(
    qid="expressivity.train_xor",
    reference=train_xor,
    cases=[Case(label="the trained net's predictions on (0, 0), (0, 1), (1, 0), (1, 1)")],
    postprocess=_xor_table,
    mistakes=[
        Mistake("constant", lambda: (torch.zeros(2, 2), torch.zeros(2), torch.zeros(1, 2), torch.tensor([-0.1])),
                "The net predicts the same class on all four inputs: training sat on a plateau (a 2-2-1 net gets "
                "stuck from some starting points). Train longer, with a larger learning rate, or from another seed "
                "or initialisation, and check the loss really goes down."),
        Mistake("OR", _hidden_gates([1.0, 0.0], 0.0),
                "Your net computes OR: it also fires on (1, 1). The output needs the second hidden unit with a "
                "negative weight to switch (1, 1) off."),
        Mistake("XNOR", _hidden_gates([-1.0, 1.0], 1.0),
                "Your net computes XNOR, the opposite of XOR on every input: the labels or the sign of the output "
                "layer are flipped."),
        Mistake("copies x1", lambda: (10 * torch.eye(2), torch.tensor([-5.0, -5.0]), torch.tensor([[1.0, 0.0]]),
                                      torch.tensor([0.0])),
                "Your net copies the first input, which is XOR on two corners only. Training got stuck (the "
                "cross-entropy stalls near 0.35, two corners left at probability 1/2): restart from another seed "
                "until the loss goes to 0."),
        Mistake("copies x2", lambda: (10 * torch.eye(2), torch.tensor([-5.0, -5.0]), torch.tensor([[0.0, 1.0]]),
                                      torch.tensor([0.0])),
                "Your net copies the second input, which is XOR on two corners only. Training got stuck (the "
                "cross-entropy stalls near 0.35, two corners left at probability 1/2): restart from another seed "
                "until the loss goes to 0."),
        Mistake("AND", _hidden_gates([0.0, 1.0], 0.0),
                "Your net computes AND: it fires on (1, 1) only. XOR fires on (0, 1) and (1, 0)."),
    ],
))
