"""Questions of Part 2, training (Notes §2.1-2.2)."""
from __future__ import annotations

import torch

from ...training import momentum_step, nesterov_step
from ..registry import Case, Mistake, Question, register


def _shape(gen: torch.Generator) -> tuple[int, ...]:
    ndim = int(torch.randint(1, 4, (), generator=gen))
    return tuple(int(s) for s in torch.randint(1, 5, (ndim,), generator=gen))


def _coef(gen: torch.Generator, low: float, high: float) -> float:
    return round(low + (high - low) * float(torch.rand((), generator=gen)), 3)


# ---------------------------------------------------------------------------------------------------------------------
# training.momentum_step(w, v, grad, lr, alpha) -> (w, v)


def _momentum_case(gen: torch.Generator) -> Case:
    shape = _shape(gen)
    w, v, g = (torch.randn(shape, generator=gen) for _ in range(3))
    return Case(w, v, g, _coef(gen, 0.01, 0.5), _coef(gen, 0.1, 0.99))


_W = torch.tensor([1.0, -2.0, 0.5])
_V = torch.tensor([0.2, 0.1, -0.3])
_G = torch.tensor([0.5, -1.0, 2.0])

register(Question(
    qid="training.momentum_step",
    reference=momentum_step,
    cases=[Case(_W, _V, _G, 0.1, 0.9, label="a step with lr = 0.1, alpha = 0.9"),
           Case(_W, torch.zeros(3), _G, 0.1, 0.9, label="edge: the first step (v = 0)"),
           Case(_W, _V, _G, 0.1, 0.0, label="edge: alpha = 0 (plain gradient descent)"),
           Case(_W, _V, _G, 0.0, 0.5, label="edge: lr = 0 (momentum alone)"),
           Case(torch.arange(6.0).reshape(2, 3), torch.ones(2, 3), -torch.ones(2, 3), 0.5, 0.5,
                label="a (2, 3) weight matrix")],
    random_case=_momentum_case,
    mistakes=[
        Mistake("ascent", lambda w, v, grad, lr, alpha: (w + (lr * grad + alpha * v), lr * grad + alpha * v),
                "Descent subtracts the update: w - v (the notes' w + v climbs the loss)."),
        Mistake("no alpha", lambda w, v, grad, lr, alpha: (w - (lr * grad + v), lr * grad + v),
                "The previous update is damped by alpha: v = lr * grad + alpha * v."),
        Mistake("no lr", lambda w, v, grad, lr, alpha: (w - (grad + alpha * v), grad + alpha * v),
                "Scale the gradient by the learning rate: v = lr * grad + alpha * v."),
        Mistake("old velocity", lambda w, v, grad, lr, alpha: (w - v, lr * grad + alpha * v),
                "Update v first, then move w by the NEW v: w = w - (lr * grad + alpha * v)."),
        Mistake("alpha on all", lambda w, v, grad, lr, alpha: (w - alpha * (lr * grad + v), alpha * (lr * grad + v)),
                "Only the previous update is multiplied by alpha, not the gradient term."),
        Mistake("swapped", lambda w, v, grad, lr, alpha: (lr * grad + alpha * v, w - (lr * grad + alpha * v)),
                "Return the pair in the order (w, v)."),
    ],
    forbid=("dlcourse.training.momentum_step", "torch.optim.SGD"),
))

# ---------------------------------------------------------------------------------------------------------------------
# training.nesterov_step(w, v, grad_fn, lr, alpha) -> (w, v)
# A case stores the data of the loss L(x) = sum(a * (x - c)**2 / 2 + x**4 / 40); prepare() builds grad_fn from it.


def _loss_grad(a: torch.Tensor, c: torch.Tensor):
    def grad_fn(x: torch.Tensor) -> torch.Tensor:
        return a * (x - c) + 0.1 * x ** 3
    return grad_fn


def _nesterov_prepare(case: Case) -> Case:
    w, v, a, c, lr, alpha = case.args
    return Case(w, v, _loss_grad(a, c), lr, alpha, label=case.label)


def _nesterov_case(gen: torch.Generator) -> Case:
    shape = _shape(gen)
    w, v, c = (torch.randn(shape, generator=gen) for _ in range(3))
    a = 0.5 + 4 * torch.rand(shape, generator=gen)
    return Case(w, v, a, c, _coef(gen, 0.01, 0.3), _coef(gen, 0.1, 0.95))


def _nesterov_mistake(look, step=lambda w, v_new: w - v_new, use_lr=True, use_alpha=True):
    def fn(w, v, grad_fn, lr, alpha):
        g = grad_fn(look(w, v, alpha))
        v_new = (lr if use_lr else 1.0) * g + (alpha if use_alpha else 1.0) * v
        return step(w, v_new), v_new
    return fn


_A = torch.tensor([1.0, 4.0, 0.5])
_C = torch.tensor([0.5, 0.0, -1.0])

register(Question(
    qid="training.nesterov_step",
    reference=nesterov_step,
    cases=[Case(_W, _V, _A, _C, 0.1, 0.9, label="a step with lr = 0.1, alpha = 0.9"),
           Case(_W, torch.zeros(3), _A, _C, 0.1, 0.9, label="edge: the first step (v = 0)"),
           Case(_W, _V, _A, _C, 0.1, 0.0, label="edge: alpha = 0 (plain gradient descent)"),
           Case(torch.ones(2, 2), -torch.ones(2, 2), torch.full((2, 2), 2.0), torch.zeros(2, 2), 0.2, 0.5,
                label="a (2, 2) weight matrix")],
    random_case=_nesterov_case,
    prepare=_nesterov_prepare,
    mistakes=[
        Mistake("no look-ahead", _nesterov_mistake(lambda w, v, alpha: w),
                "Nesterov takes the gradient at the look-ahead point w - alpha * v, not at w."),
        Mistake("look-ahead sign", _nesterov_mistake(lambda w, v, alpha: w + alpha * v),
                "The look-ahead point is where momentum is about to carry w: w - alpha * v (w moves by -v)."),
        Mistake("look-ahead scale", _nesterov_mistake(lambda w, v, alpha: w - v),
                "The look-ahead point is w - alpha * v: the previous update damped by alpha."),
        Mistake("ascent", _nesterov_mistake(lambda w, v, alpha: w - alpha * v, step=lambda w, v_new: w + v_new),
                "Descent subtracts the update: w - v."),
        Mistake("no lr", _nesterov_mistake(lambda w, v, alpha: w - alpha * v, use_lr=False),
                "Scale the gradient by the learning rate: v = lr * grad_fn(w - alpha * v) + alpha * v."),
    ],
    forbid=("dlcourse.training.nesterov_step", "dlcourse.training.optim.nesterov_step",
            "dlcourse.training.momentum_step", "torch.optim.SGD"),
))

# ---------------------------------------------------------------------------------------------------------------------
# training.output_delta(z, y) -> δ_K for a sigmoid output layer and the loss L = 1/(2B) Σ_b ||σ(z_b) - y_b||²


def output_delta(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """δ_K = ∂L/∂z_K of a sigmoid output layer under the mean squared error over a batch (Notes §2.2).

    With $a = \\sigma(z)$ and $\\mathcal{L} = \\frac{1}{2B}\\sum_b \\lVert a_b - y_b \\rVert^2$:
    $\\delta_K = \\nabla\\mathcal{L}(a) \\odot \\sigma'(z) = \\frac{1}{B}(a - y) \\odot a (1 - a)$.

    Shapes: ``z`` and ``y`` (B, n_K); the output too.
    """
    a = torch.sigmoid(z)
    return (a - y) * a * (1 - a) / z.shape[0]


def _delta_case(gen: torch.Generator) -> Case:
    B, n = (int(s) for s in torch.randint(1, 7, (2,), generator=gen))
    return Case(2 * torch.randn(B, n, generator=gen), torch.rand(B, n, generator=gen))


register(Question(
    qid="training.output_delta",
    reference=output_delta,
    cases=[Case(torch.tensor([[0.0, 1.0, -2.0], [3.0, -1.0, 0.5], [-0.5, 2.0, 1.0]]),
                torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.5]]),
                label="a batch of 3 examples, 3 output units"),
           Case(torch.tensor([[0.5, -0.5]]), torch.tensor([[1.0, 0.0]]), label="edge: a batch of one example"),
           Case(torch.tensor([[2.0], [-1.0], [0.0], [1.0]]), torch.tensor([[1.0], [0.0], [0.5], [1.0]]),
                label="edge: one output unit, 4 examples")],
    random_case=_delta_case,
    mistakes=[
        Mistake("no batch mean", lambda z, y: (torch.sigmoid(z) - y) * torch.sigmoid(z) * (1 - torch.sigmoid(z)),
                "The loss is averaged over the batch, so each example's δ carries a factor 1/B."),
        Mistake("sign", lambda z, y: (y - torch.sigmoid(z)) * torch.sigmoid(z) * (1 - torch.sigmoid(z)) / z.shape[0],
                "∂L/∂a = (a - y)/B, not (y - a)/B: the loss grows as a moves away from y."),
        Mistake("no sigma'", lambda z, y: (torch.sigmoid(z) - y) / z.shape[0],
                "δ_K = ∇L(a) ⊙ σ'(z): multiply by the sigmoid's derivative σ(z)(1 - σ(z))."),
        Mistake("sigma' of z", lambda z, y: (torch.sigmoid(z) - y) * z * (1 - z) / z.shape[0],
                "σ'(z) = σ(z)(1 - σ(z)) uses the activation a = σ(z), not z itself."),
        Mistake("no half", lambda z, y: 2 * (torch.sigmoid(z) - y) * torch.sigmoid(z) * (1 - torch.sigmoid(z))
                / z.shape[0], "The 1/2 in the loss cancels the 2 of the square's derivative: ∂L/∂a = (a - y)/B."),
        Mistake("mean over units", lambda z, y: (torch.sigmoid(z) - y) * torch.sigmoid(z) * (1 - torch.sigmoid(z))
                / z.numel(), "Average over the examples (1/B) only; the units of one example are summed."),
    ],
    forbid=("torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
            "dlcourse.training.mlp_backward"),
))
