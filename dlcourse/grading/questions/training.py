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

# ---------------------------------------------------------------------------------------------------------------------
# training.largest_stable_lr(H) -> float: gradient descent on ½ wᵀHw converges for 0 < lr < 2/λ_max (Notes §2.1)


def largest_stable_lr(H: torch.Tensor) -> float:
    """``2 / λ_max(H)`` for a symmetric positive definite Hessian ``H`` (D, D): above it the steepest direction's
    factor ``|1 - lr λ_max|`` exceeds 1 and gradient descent diverges."""
    return 2.0 / torch.linalg.eigvalsh(H.double()).max().item()


def _eig(H: torch.Tensor) -> torch.Tensor:
    return torch.linalg.eigvalsh(H.double())


def _spd_case(gen: torch.Generator) -> Case:
    d = int(torch.randint(2, 6, (), generator=gen))
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=torch.float64))
    lam = torch.rand(d, generator=gen, dtype=torch.float64) * 9.9 + 0.1
    H = q @ torch.diag(lam) @ q.T
    return Case(((H + H.T) / 2).float())


register(Question(
    qid="training.largest_stable_lr",
    reference=largest_stable_lr,
    cases=[Case(torch.tensor([[4.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]]),
                label="three parameters, eigenvalues 1, 2 and 6"),
           Case(torch.diag(torch.tensor([1.0, 10.0])), label="the page's quadratic: eigenvalues 1 and 10"),
           Case(torch.tensor([[3.0, 1.0], [1.0, 3.0]]), label="a rotated quadratic: eigenvalues 2 and 4"),
           Case(torch.tensor([[5.0]]), label="edge: one parameter, curvature 5"),
           Case(torch.eye(3), label="edge: a round bowl (all eigenvalues 1)")],
    random_case=_spd_case,
    mistakes=[
        Mistake("1/lam_max", lambda H: 1.0 / _eig(H).max().item(),
                "1/λ_max is the step that jumps to the minimum along the steepest direction; the factor "
                "|1 - lr λ_max| stays below 1 up to lr = 2/λ_max."),
        Mistake("lam_min", lambda H: 2.0 / _eig(H).min().item(),
                "Every direction must shrink: the steepest one (the LARGEST eigenvalue) sets the limit, 2/λ_max."),
        Mistake("best lr", lambda H: 2.0 / (_eig(H).min() + _eig(H).max()).item(),
                "2/(λ_min + λ_max) is the fastest learning rate, not the largest stable one, 2/λ_max."),
        Mistake("diagonal", lambda H: 2.0 / H.double().diagonal().max().item(),
                "The diagonal of H gives its eigenvalues only when H is diagonal: rotate to the eigenbasis "
                "(torch.linalg.eigvalsh) and take 2/λ_max."),
        Mistake("trace", lambda H: 2.0 / H.double().trace().item(),
                "The trace is the sum of all eigenvalues; the limit depends on the largest one alone: 2/λ_max."),
    ],
    rtol=1e-4, atol=1e-7,
))

# ---------------------------------------------------------------------------------------------------------------------
# training.early_stopping(train_loss, val_loss, test_loss, patience) -> (best_epoch, stop_epoch), 0-based, the rule of
# dlcourse.loop.fit(patience=...): stop once the validation loss has not improved for `patience` epochs in a row.


def early_stopping(train_loss: list, val_loss: list, test_loss: list, patience: int) -> tuple[int, int]:
    """``(best_epoch, stop_epoch)``: the epoch whose weights are kept (the lowest validation loss seen before
    stopping) and the last epoch trained. Only ``val_loss`` may decide: the test loss is reported once, at the end."""
    return _stopping(val_loss, patience, lambda loss, best: loss < best)


def _stopping(val_loss: list, patience: int, improves) -> tuple[int, int]:
    """The patience rule on ``val_loss``, with ``improves(loss, best)`` deciding what counts as a new best."""
    best, best_epoch, waited = float("inf"), 0, 0
    for epoch, loss in enumerate(val_loss):
        if improves(loss, best):
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_loss) - 1


def _on(curve: str, rule=early_stopping):
    """The rule applied to another curve (the test or training loss instead of the validation loss)."""
    def fn(train_loss, val_loss, test_loss, patience):
        chosen = {"train": train_loss, "test": test_loss}[curve]
        return rule(train_loss, chosen, test_loss, patience)
    return fn


def _argmin_all(train_loss, val_loss, test_loss, patience):
    best = min(range(len(val_loss)), key=lambda e: val_loss[e])
    return best, len(val_loss) - 1


def _shifted_patience(shift: int):
    def fn(train_loss, val_loss, test_loss, patience):
        return early_stopping(train_loss, val_loss, test_loss, patience + shift)
    return fn


def _ties_improve(train_loss, val_loss, test_loss, patience):
    return _stopping(val_loss, patience, lambda loss, best: loss <= best)


def _stop_as_best(train_loss, val_loss, test_loss, patience):
    _, stop = early_stopping(train_loss, val_loss, test_loss, patience)
    return stop, stop


def _curves(n: int, best: int, gen: torch.Generator, test_best: int) -> tuple[list, list, list]:
    """Curves of an overfitting run: training loss falls throughout, validation (and test) loss is U-shaped with
    its minimum at ``best`` (``test_best``), plus noise."""
    e = torch.arange(n, dtype=torch.float64)
    noise = lambda: 0.02 * torch.rand(n, generator=gen, dtype=torch.float64)  # noqa: E731
    train = (1.5 * torch.exp(-e / 6) + noise()).tolist()
    val = (0.6 + 0.004 * (e - best) ** 2 + noise()).tolist()
    test = (0.62 + 0.004 * (e - test_best) ** 2 + noise()).tolist()
    return [round(v, 4) for v in train], [round(v, 4) for v in val], [round(v, 4) for v in test]


def _stopping_case(gen: torch.Generator) -> Case:
    n = int(torch.randint(15, 41, (), generator=gen))
    best = int(torch.randint(3, n - 3, (), generator=gen))
    test_best = (best + int(torch.randint(3, 8, (), generator=gen))) % n
    train, val, test = _curves(n, best, gen, test_best)
    return Case(train, val, test, int(torch.randint(1, 6, (), generator=gen)))


_TRAIN = [1.2, 0.9, 0.7, 0.55, 0.45, 0.38, 0.32, 0.27, 0.23, 0.2, 0.17, 0.15]
_VAL = [1.25, 1.0, 0.85, 0.8, 0.82, 0.79, 0.81, 0.84, 0.86, 0.9, 0.7, 0.95]
_TEST = [1.3, 1.05, 0.9, 0.83, 0.8, 0.84, 0.86, 0.87, 0.9, 0.93, 0.96, 0.99]
_TIES = [1.0, 0.8, 0.8, 0.8, 0.9, 0.95, 1.0, 1.1]

register(Question(
    qid="training.early_stopping",
    reference=early_stopping,
    cases=[Case(_TRAIN, _VAL, _TEST, 3, label="12 epochs, patience 3 (a late dip at epoch 10 comes too late)"),
           Case(_TRAIN, _VAL, _TEST, 1, label="the same curves, patience 1"),
           Case(_TRAIN, _VAL, _TEST, 20, label="edge: patience longer than the run (never stops early)"),
           Case(_TRAIN[:8], _TIES, _TEST[:8], 2, label="edge: a plateau (an equal loss is not an improvement)")],
    random_case=_stopping_case,
    mistakes=[
        Mistake("test", _on("test"),
                "You chose the epoch with the TEST loss. Model choice (early stopping included) uses the validation "
                "split; the test split is looked at once, to report the chosen model."),
        Mistake("train", _on("train"),
                "You stopped on the TRAINING loss, which keeps falling while the network overfits: watch the "
                "validation loss."),
        Mistake("argmin of the whole curve", _argmin_all,
                "While training you do not know the future: after `patience` epochs without improvement the run "
                "stops, even if the validation loss would dip lower later. Walk through the epochs in order."),
        Mistake("patience + 1", _shifted_patience(1),
                "You stop one epoch late: stop at the epoch where the count of epochs without improvement reaches "
                "`patience` (with patience 1, the first epoch that does not improve)."),
        Mistake("patience - 1", _shifted_patience(-1),
                "You stop one epoch early: wait until `patience` epochs in a row have not improved."),
        Mistake("ties improve", _ties_improve,
                "An equal validation loss is not an improvement: only a strictly lower loss resets the count (and "
                "moves the best epoch)."),
        Mistake("stop epoch kept", _stop_as_best,
                "Keep the weights of the BEST epoch, not those of the epoch where training stopped: return the "
                "epoch of the lowest validation loss as the first number."),
    ],
))
