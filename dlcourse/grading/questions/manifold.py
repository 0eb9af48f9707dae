"""Questions of Part 3.10, the data manifold: FGSM, the PGD projection, the reconstruction error, the ROC AUC.

The wrong answers below are written without the forbidden operators (they are graded under the same ban as a
student's answer).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...vision.attacks import fgsm as _fgsm
from ...vision.attacks import pgd_project as _pgd_project
from ...vision.autoencoder import reconstruction_error as _reconstruction_error
from ...vision.roc import roc_auc as _roc_auc
from ..registry import Case, Mistake, Question, register


def _int(gen: torch.Generator, low: int, high: int) -> int:
    return int(torch.randint(low, high + 1, (), generator=gen))


# ---------------------------------------------------------------------------------------------------------------------
# vision.fgsm(model, x, y, eps) -> x'   (untargeted, one signed-gradient step, clipped to [0, 1])
# A case stores the weights of a linear classifier; prepare() builds the nn.Linear from them.


def _linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    model = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        model.weight.copy_(weight)
        model.bias.copy_(bias)
    return model


def _fgsm_prepare(case: Case) -> Case:
    weight, bias, x, y, eps = case.args
    return Case(_linear(weight, bias), x, y, eps, label=case.label)


def _fgsm_case(gen: torch.Generator) -> Case:
    n, d, k = _int(gen, 1, 6), _int(gen, 2, 12), _int(gen, 2, 5)
    x = torch.rand(n, d, generator=gen)
    x[x < 0.3] = 0.0                                 # dark and bright pixels, as in digits: the clip matters
    x[x > 0.8] = 1.0
    eps = round(float(torch.rand((), generator=gen)) * 0.3 + 0.02, 3)
    return Case(torch.randn(k, d, generator=gen), torch.randn(k, generator=gen), x,
                torch.randint(0, k, (n,), generator=gen), eps)


def _input_grad(model, x, y):
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(x), y), x)
    return g


def _fgsm_variant(step):
    def fn(model, x, y, eps):
        return step(x.detach(), _input_grad(model, x, y), eps).detach()
    return fn


_gw = torch.Generator().manual_seed(5)
_W, _B = torch.randn(3, 6, generator=_gw), torch.randn(3, generator=_gw)
_X = torch.tensor([[0.0, 0.5, 1.0, 0.2, 0.9, 0.0], [1.0, 1.0, 0.0, 0.0, 0.4, 0.6]])

register(Question(
    qid="vision.fgsm",
    reference=lambda model, x, y, eps: _fgsm(model, x, y, eps),
    cases=[Case(_W, _B, _X, torch.tensor([0, 2]), 0.1, label="two 6-pixel images, 3 classes, eps = 0.1"),
           Case(_W, _B, _X, torch.tensor([1, 1]), 0.3, label="eps = 0.3: many pixels would leave [0, 1]"),
           Case(_W, _B, _X[:1], torch.tensor([2]), 0.0, label="edge: eps = 0 returns the image itself")],
    random_case=_fgsm_case,
    prepare=_fgsm_prepare,
    mistakes=[
        Mistake("descent", _fgsm_variant(lambda x, g, eps: (x - eps * g.sign()).clamp(0, 1)),
                "An untargeted attack ASCENDS the loss of the true label: x + eps * sign(grad)."),
        Mistake("no clip", _fgsm_variant(lambda x, g, eps: x + eps * g.sign()),
                "Clip the result to [0, 1]: the adversarial example must still be a valid image."),
        Mistake("raw gradient", _fgsm_variant(lambda x, g, eps: (x + eps * g).clamp(0, 1)),
                "FGSM moves every pixel by exactly eps along the SIGN of the gradient, not by eps times the gradient."),
        Mistake("L2 step", _fgsm_variant(lambda x, g, eps: (x + eps * g / g.flatten(1).norm(dim=1).clamp_min(1e-12)
                                                            .view(-1, *[1] * (g.dim() - 1))).clamp(0, 1)),
                "The budget is L-infinity (each pixel moves by at most eps): use sign(grad), not grad / ||grad||_2."),
    ],
    forbid=("dlcourse.vision.fgsm", "dlcourse.vision.attacks.fgsm", "dlcourse.vision.pgd",
            "dlcourse.vision.attacks.pgd"),
    rtol=1e-5, atol=1e-6,
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.pgd_project(x, x0, eps) -> x clipped to [x0 - eps, x0 + eps] and to [0, 1]


def _project_case(gen: torch.Generator) -> Case:
    shape = (_int(gen, 1, 4), _int(gen, 1, 8))
    x0 = torch.rand(shape, generator=gen)
    x0[x0 < 0.2] = 0.0
    x = x0 + 0.5 * torch.randn(shape, generator=gen)
    return Case(x, x0, round(float(torch.rand((), generator=gen)) * 0.3 + 0.01, 3))


def _l2_project(x, x0, eps):
    d = x - x0
    norm = d.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (d.dim() - 1))
    return (x0 + d * torch.clamp(eps / norm, max=1.0)).clamp(0, 1)


_P0 = torch.tensor([[0.0, 0.5, 1.0, 0.95], [0.2, 0.2, 0.02, 0.6]])
_P = torch.tensor([[-0.3, 0.52, 1.4, 0.7], [0.9, 0.1, -0.1, 0.6]])

register(Question(
    qid="vision.pgd_project",
    reference=_pgd_project,
    cases=[Case(_P, _P0, 0.1, label="pixels too far above, below, inside the ball, and outside [0, 1]"),
           Case(_P0 + 0.01, _P0, 0.1, label="edge: already inside the ball (only [0, 1] may clip)"),
           Case(_P, _P0, 0.0, label="edge: eps = 0 gives x0 back")],
    random_case=_project_case,
    mistakes=[
        Mistake("no [0, 1] clip", lambda x, x0, eps: torch.minimum(torch.maximum(x, x0 - eps), x0 + eps),
                "After clipping to the eps-ball, clip to [0, 1] as well: pixels of an image cannot leave that range."),
        Mistake("L2 ball", _l2_project,
                "PGD's ball here is L-infinity: clip each pixel to [x0 - eps, x0 + eps]; do not rescale the whole "
                "change to L2 norm eps."),
        Mistake("rescaled",
                lambda x, x0, eps: (x0 + (x - x0) * eps / (x - x0).abs().amax().clamp_min(1e-12)).clamp(0, 1),
                "Clip each pixel's change to [-eps, eps]; dividing the whole change by its largest entry shrinks "
                "pixels that were inside the ball too."),
        Mistake("one-sided", lambda x, x0, eps: (x0 + (x - x0).clamp(0, eps)).clamp(0, 1),
                "The change may be negative: clip it to [-eps, eps], not to [0, eps]."),
    ],
    forbid=("dlcourse.vision.pgd_project", "dlcourse.vision.attacks.pgd_project"),
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.reconstruction_error(x, x_hat) -> (N,) per-image mean squared error


def _rec_case(gen: torch.Generator) -> Case:
    shape = (_int(gen, 1, 5), _int(gen, 1, 2), _int(gen, 1, 5), _int(gen, 1, 5))
    return Case(torch.rand(shape, generator=gen), torch.rand(shape, generator=gen))


_R1 = torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]], [[[0.5, 0.5], [0.5, 0.5]]]])
_R2 = torch.tensor([[[[0.0, 0.5], [1.0, 1.0]]], [[[0.5, 0.5], [0.5, 0.5]]]])

register(Question(
    qid="vision.reconstruction_error",
    reference=_reconstruction_error,
    cases=[Case(_R1, _R2, label="two 2x2 images; the second reconstructed exactly"),
           Case(torch.ones(3, 1, 4, 4), torch.zeros(3, 1, 4, 4), label="all pixels off by 1"),
           Case(torch.rand(2, 3, 2, 3, generator=torch.Generator().manual_seed(1)),
                torch.rand(2, 3, 2, 3, generator=torch.Generator().manual_seed(2)), label="RGB images")],
    random_case=_rec_case,
    mistakes=[
        Mistake("sum", lambda x, x_hat: ((x - x_hat) ** 2).flatten(1).sum(1),
                "Average the squared differences over each image's pixels (a mean, not a sum)."),
        Mistake("absolute", lambda x, x_hat: (x - x_hat).abs().flatten(1).mean(1),
                "Square the differences (mean SQUARED error), not their absolute values."),
        Mistake("RMSE", lambda x, x_hat: ((x - x_hat) ** 2).flatten(1).mean(1).sqrt(),
                "Return the mean squared error itself, without a square root."),
        Mistake("batch mean", lambda x, x_hat: ((x - x_hat) ** 2).mean(0).flatten().mean().expand(x.shape[0]).clone(),
                "One error PER IMAGE: average over the pixels of each image, not over the whole batch."),
    ],
    forbid=("dlcourse.vision.reconstruction_error", "dlcourse.vision.autoencoder.reconstruction_error",
            "torch.nn.functional.mse_loss"),
    rtol=1e-5, atol=1e-7,
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.roc_auc(scores, labels) -> float: P(s_anomaly > s_normal) + 1/2 P(s_anomaly = s_normal)


def _auc_case(gen: torch.Generator) -> Case:
    n = _int(gen, 4, 30)
    labels = torch.randint(0, 2, (n,), generator=gen)
    labels[0], labels[1] = 0, 1
    scores = (torch.randint(0, 6, (n,), generator=gen) + labels).float() / 4        # ties on purpose
    return Case(scores, labels)


def _pairs(scores, labels):
    pos, neg = scores[labels == 1], scores[labels == 0]
    return pos[:, None], neg[None, :]


def _auc_strict(scores, labels):
    p, n = _pairs(scores, labels)
    return float((p > n).double().mean())


def _auc_loose(scores, labels):
    p, n = _pairs(scores, labels)
    return float((p >= n).double().mean())


def _auc_swapped(scores, labels):
    p, n = _pairs(scores, 1 - labels)
    return float(((p > n).double() + 0.5 * (p == n).double()).mean())


register(Question(
    qid="vision.roc_auc",
    reference=lambda scores, labels: _roc_auc(scores, labels),
    cases=[Case(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]), label="sklearn's example: 0.75"),
           Case(torch.tensor([0.2, 0.2, 0.5, 0.5, 0.9]), torch.tensor([0, 1, 0, 1, 1]), label="tied scores"),
           Case(torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0, 1, 1]), label="edge: perfectly separated (1.0)")],
    random_case=_auc_case,
    mistakes=[
        Mistake("ties ignored", _auc_strict, "A tie between an anomaly and a normal input counts one half."),
        Mistake("ties as wins", _auc_loose, "A tie counts one half, not as a correctly ranked pair."),
        Mistake("swapped", _auc_swapped,
                "Label 1 marks the anomalies, which should score HIGHER than the normal inputs (label 0)."),
    ],
    forbid=("dlcourse.vision.roc_auc", "dlcourse.vision.roc.roc_auc", "dlcourse.vision.roc_curve",
            "dlcourse.vision.roc.roc_curve", "sklearn.metrics.roc_auc_score"),
    rtol=1e-9, atol=1e-9,
))
