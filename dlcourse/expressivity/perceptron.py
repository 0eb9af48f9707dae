"""The perceptron: a threshold unit, logic-gate truth tables and Rosenblatt's learning rule. Notes §1.1.

A perceptron computes $\\hat y = H(\\mathbf{w}^\\top \\mathbf{x} + b)$ with the Heaviside step
$H(z) = 1$ for $z \\ge 0$ and $0$ otherwise: it splits its input space by the hyperplane
$\\mathbf{w}^\\top \\mathbf{x} + b = 0$.
"""
from __future__ import annotations

import torch

from .._utils import check_nonnegative_int, check_tensor, resolve_device

__all__ = ["heaviside", "LOGIC_GATES", "truth_table", "gate_weights", "perceptron_predict", "perceptron_train"]

#: Outputs of two-input logic gates on the inputs (0, 0), (0, 1), (1, 0), (1, 1), in that order.
LOGIC_GATES: dict[str, tuple[int, int, int, int]] = {
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "NAND": (1, 1, 1, 0),
    "NOR": (1, 0, 0, 0),
    "XOR": (0, 1, 1, 0),
    "XNOR": (1, 0, 0, 1),
}

# Hand-set weights (w1, w2, b) of one threshold unit for each linearly separable gate: the line w.x + b = 0 separates
# the inputs with output 1 from those with output 0, half a unit away from the nearest corner.
_GATE_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "AND": (1.0, 1.0, -1.5),
    "OR": (1.0, 1.0, -0.5),
    "NAND": (-1.0, -1.0, 1.5),
    "NOR": (-1.0, -1.0, 0.5),
}


def _gate_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"gate name must be a str, got {type(name).__name__}")
    key = name.upper()
    if key not in LOGIC_GATES:
        raise ValueError(f"unknown logic gate {name!r}; expected one of {sorted(LOGIC_GATES)}")
    return key


def heaviside(z: torch.Tensor) -> torch.Tensor:
    """Heaviside step of the perceptron: 1 where ``z >= 0``, 0 elsewhere (Notes §1.1).

    Shape: any; the output has the shape, dtype (floating point) and device of ``z``. Equal to
    ``torch.heaviside(z, torch.ones(()))``: the notes fire the unit when the weighted sum is exactly 0.
    """
    check_tensor(z, "z", floating=True)
    return (z >= 0).to(z.dtype)


def truth_table(name: str, device: torch.device | str | None = None,
                dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and outputs of a two-input logic gate (Notes §1.1).

    Args:
        name: one of ``LOGIC_GATES`` (``"AND"``, ``"OR"``, ``"NAND"``, ``"NOR"``, ``"XOR"``, ``"XNOR"``;
            case-insensitive).

    Returns:
        ``X`` of shape (4, 2) with the rows (0, 0), (0, 1), (1, 0), (1, 1), and ``y`` of shape (4,) with the gate's
        output on each row, both of ``dtype`` on ``device``.
    """
    key = _gate_name(name)
    X = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype, device=resolve_device(device))
    y = torch.tensor(LOGIC_GATES[key], dtype=dtype, device=resolve_device(device))
    return X, y


def gate_weights(name: str, device: torch.device | str | None = None,
                 dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Hand-set weights ``w`` (2,) and bias ``b`` (0-d) of a perceptron computing a logic gate (Notes §1.1).

    Defined for the linearly separable gates AND, OR, NAND and NOR. XOR and XNOR raise a ``ValueError``: no single
    threshold unit computes them.
    """
    key = _gate_name(name)
    if key not in _GATE_WEIGHTS:
        raise ValueError(f"{key} is not linearly separable: no single perceptron computes it "
                         f"(gates with hand-set weights: {sorted(_GATE_WEIGHTS)})")
    w1, w2, b = _GATE_WEIGHTS[key]
    dev = resolve_device(device)
    return torch.tensor([w1, w2], dtype=dtype, device=dev), torch.tensor(b, dtype=dtype, device=dev)


def _check_weights(X: torch.Tensor, w: torch.Tensor, b) -> torch.Tensor:
    check_tensor(X, "X", ndim=2, floating=True)
    check_tensor(w, "w", ndim=1, floating=True)
    if w.shape[0] != X.shape[1]:
        raise ValueError(f"w must have one weight per feature: X has shape {tuple(X.shape)} "
                         f"({X.shape[1]} features) but w has shape {tuple(w.shape)}")
    if isinstance(b, torch.Tensor):
        if b.numel() != 1:
            raise ValueError(f"b must be a scalar (a number or a tensor with one element), got shape {tuple(b.shape)}")
        return b.reshape(())
    if isinstance(b, bool) or not isinstance(b, (int, float)):
        raise TypeError(f"b must be a number or a one-element tensor, got {type(b).__name__}")
    return torch.tensor(float(b), dtype=X.dtype, device=X.device)


def perceptron_predict(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor | float) -> torch.Tensor:
    """Outputs of a perceptron: $H(X\\mathbf{w} + b)$ (Notes §1.1).

    Args:
        X: inputs, shape (N, D), floating point.
        w: weights, shape (D,).
        b: bias, a number or a one-element tensor.

    Returns:
        Tensor of shape (N,) with values in {0, 1}, dtype and device of ``X``.
    """
    b = _check_weights(X, w, b)
    return heaviside(X @ w + b)


def perceptron_train(X: torch.Tensor, y: torch.Tensor, epochs: int = 100, lr: float = 1.0,
                     w0: torch.Tensor | None = None, b0: float = 0.0,
                     stop_when_converged: bool = True) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Rosenblatt's perceptron learning rule (Notes §1.1).

    The samples are visited in order; after each one the unit is corrected by
    $\\mathbf{w} \\leftarrow \\mathbf{w} + \\eta\\,(y_i - \\hat y_i)\\,\\mathbf{x}_i$ and
    $b \\leftarrow b + \\eta\\,(y_i - \\hat y_i)$, one vector operation over the features. The rule is online:
    each update depends on the previous one, so the loop over samples is the algorithm itself.

    Args:
        X: inputs, shape (N, D), floating point.
        y: targets in {0, 1}, shape (N,).
        epochs: maximum number of passes over the data.
        lr: learning rate $\\eta > 0$.
        w0, b0: initial weights (D,) and bias; zeros by default.
        stop_when_converged: stop after the first epoch without a mistake (nothing would change afterwards).

    Returns:
        ``(w, b, errors)``: the final weights (D,), the bias (0-d tensor), and the number of mistakes (updates)
        made in each epoch, a list of ints. A last entry of 0 means the data were separated.
    """
    check_tensor(X, "X", ndim=2, floating=True)
    check_tensor(y, "y", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y must have the same number of samples, got {X.shape[0]} and {y.shape[0]}")
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("y must contain only the labels 0 and 1")
    epochs = check_nonnegative_int(epochs, "epochs")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise TypeError(f"lr must be a number, got {type(lr).__name__}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if w0 is None:
        w = torch.zeros(X.shape[1], dtype=X.dtype, device=X.device)
    else:
        _check_weights(X, w0, 0.0)
        w = w0.detach().to(X).clone()
    b = _check_weights(X, w, b0).clone()
    y = y.to(X.dtype)
    errors: list[int] = []
    for _ in range(epochs):
        mistakes = 0
        for x_i, y_i in zip(X, y, strict=True):
            delta = y_i - heaviside(x_i @ w + b)  # 0 when right, +1 or -1 when wrong
            w = w + lr * delta * x_i
            b = b + lr * delta
            mistakes += int(delta != 0)
        errors.append(mistakes)
        if stop_when_converged and mistakes == 0:
            break
    return w, b, errors
