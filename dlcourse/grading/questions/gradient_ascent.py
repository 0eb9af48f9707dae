"""Questions of Part 3, gradient ascent and style transfer (Notes §3.9.3).

The content and style losses are asked with the package's signature and default: ``convention="notes"`` (the notes'
plain sums, Σ (F − P)² and Σ_l γ_l Σ (G^l − S^l)²) unless ``convention="gatys"`` asks for the paper's ½ and
per-layer factor 1/(4 N_l² M_l²) (Gatys et al., 2016), so the package's own functions called with their defaults are
right answers.
"""
from __future__ import annotations

import torch

from ...vision.style import content_loss as _content_loss
from ...vision.style import gram_matrix
from ...vision.style import style_loss as _style_loss
from ..registry import Case, Mistake, Question, register


def _gram(features: torch.Tensor, normalize: bool = False) -> torch.Tensor:
    """Gram matrices written out for the wrong answers (which may not call the forbidden reference)."""
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    g = f @ f.transpose(1, 2)
    return g / (h * w) if normalize else g


def _shape4(gen: torch.Generator) -> tuple[int, int, int, int]:
    return tuple(int(s) for s in torch.randint(1, 6, (4,), generator=gen))


# ---------------------------------------------------------------------------------------------------------------------
# vision.gram_matrix(features, normalize=False) -> (B, C, C)


def _gram_case(gen: torch.Generator) -> Case:
    b, c, h, w = _shape4(gen)
    normalize = bool(torch.randint(0, 2, (), generator=gen))
    return Case(torch.randn(b, c, h, w, generator=gen), normalize)


def _gram_wrong_axis(features, normalize=False):
    b, c, h, w = features.shape
    f = features.reshape(b, h * w, c).transpose(1, 2)      # reshapes instead of flattening the spatial axes
    g = f @ f.transpose(1, 2)
    return g / (h * w) if normalize else g


def _gram_transposed(features, normalize=False):
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    g = f.transpose(1, 2) @ f                              # (B, M, M): positions against positions
    return g / (h * w) if normalize else g


_G1 = torch.arange(12.0).reshape(1, 2, 2, 3) / 6 - 1
_G2 = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]], [[0.0, 2.0], [2.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]]])

register(Question(
    qid="vision.gram_matrix",
    reference=gram_matrix,
    cases=[Case(_G1, label="one image, 2 channels of 2x3"),
           Case(_G2, label="3 channels of 2x2 (two of them orthogonal)"),
           Case(_G2, True, label="normalize=True divides by H*W"),
           Case(torch.randn(3, 4, 1, 1, generator=torch.Generator().manual_seed(0)),
                label="edge: 1x1 feature maps (an outer product per image)"),
           Case(torch.randn(2, 1, 3, 5, generator=torch.Generator().manual_seed(1)), label="edge: one channel")],
    random_case=_gram_case,
    mistakes=[
        Mistake("normalised", lambda features, normalize=False: _gram(features, True),
                "The Gram matrix of the notes is the plain sum over positions: divide by H*W only when "
                "normalize=True."),
        Mistake("never normalised", lambda features, normalize=False: _gram(features, False),
                "With normalize=True, divide the sums by the number of positions M = H*W."),
        Mistake("by C*H*W", lambda features, normalize=False: _gram(features) / (
            features.shape[1] * features.shape[2] * features.shape[3]) if normalize else _gram(features),
                "normalize=True divides by M = H*W, the number of positions, not by C*H*W."),
        Mistake("transposed", _gram_transposed,
                "Multiply F (C, M) by its transpose on the right, F @ F^T, to get a C x C matrix of channel pairs; "
                "F^T @ F compares positions."),
        Mistake("wrong axis", _gram_wrong_axis,
                "Flatten the two spatial axes of each channel: features.reshape(B, C, H*W). Reshaping to "
                "(B, H*W, C) mixes channels and positions."),
    ],
    forbid=("dlcourse.vision.gram_matrix",),
    rtol=1e-4, atol=1e-5,
))


# ---------------------------------------------------------------------------------------------------------------------
# vision.content_loss(features, target, convention="notes") -> 0-d tensor: Σ (F − P)², or ½ Σ (F − P)² (Gatys, eq. 1)


def content_loss(features: torch.Tensor, target: torch.Tensor, convention: str = "notes") -> torch.Tensor:
    """Reference: the package's content loss, ``Σ (F − P)²`` (notes) or ``½ Σ (F − P)²`` (gatys)."""
    return _content_loss(features, target, convention=convention)


def _content_case(gen: torch.Generator) -> Case:
    shape = _shape4(gen)
    convention = ("notes", "gatys")[int(torch.randint(0, 2, (), generator=gen))]
    return Case(torch.randn(shape, generator=gen), torch.randn(shape, generator=gen), convention=convention)


def _content_variant(half_for, reduce=lambda d: (d ** 2).sum()):
    """A content loss that applies the ½ under the conventions in ``half_for``."""
    def fn(features, target, convention="notes"):
        loss = reduce(features - target)
        return 0.5 * loss if convention in half_for else loss
    return fn


_F = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
_P = torch.tensor([[[[0.0, 2.0], [5.0, 3.0]]]])

register(Question(
    qid="vision.content_loss",
    reference=content_loss,
    cases=[Case(_F, _P, label="one 2x2 channel: differences 1, 0, -2, 1 (the default convention, the notes')"),
           Case(_F, _P, convention="gatys", label="the same features, convention='gatys'"),
           Case(_F, _F.clone(), label="edge: identical features (loss 0)"),
           Case(torch.ones(2, 3, 2, 2), torch.zeros(2, 3, 2, 2), label="a batch of 2 (the batch is summed too)"),
           Case(torch.ones(2, 3, 2, 2), torch.zeros(2, 3, 2, 2), convention="gatys",
                label="a batch of 2, convention='gatys'")],
    random_case=_content_case,
    mistakes=[
        Mistake("always half", _content_variant(("notes", "gatys")),
                "By default (convention='notes') the loss is the plain sum of squares, as in the notes; only "
                "Gatys et al.'s convention='gatys' has the factor 1/2."),
        Mistake("never half", _content_variant(()),
                "With convention='gatys' the loss has Gatys et al.'s factor 1/2 in front of the sum of squares."),
        Mistake("mean", _content_variant(("gatys",), reduce=lambda d: (d ** 2).mean()),
                "Sum the squared differences over all elements; do not average them."),
        Mistake("abs", _content_variant(("gatys",), reduce=lambda d: d.abs().sum()),
                "Square the differences (an L2 loss), not their absolute values."),
        Mistake("norm", _content_variant(("gatys",), reduce=lambda d: d.norm()),
                "The loss is the squared norm, sum((F - P)**2), not the norm itself."),
    ],
    forbid=("dlcourse.vision.content_loss", "torch.nn.functional.mse_loss"),
    rtol=1e-4, atol=1e-5,
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.style_loss(features, targets, weights=None, convention="notes") -> 0-d tensor:
# Σ_l γ_l Σ (G^l − S^l)² (notes), or Σ_l w_l Σ (G^l − S^l)² / (4 N_l² M_l²) (Gatys, eq. 4-5)


def style_loss(features: list, targets: list, weights: list | None = None, convention: str = "notes") -> torch.Tensor:
    """Reference: the package's style loss with unnormalised Gram matrices, weights 1 when ``weights`` is None."""
    return _style_loss(features, targets, weights, convention=convention)


def _style_case(gen: torch.Generator) -> Case:
    n_layers = int(torch.randint(1, 4, (), generator=gen))
    b = int(torch.randint(1, 3, (), generator=gen))
    feats, targets, weights = [], [], []
    for _ in range(n_layers):
        c, h, w = (int(s) for s in torch.randint(1, 6, (3,), generator=gen))
        feats.append(torch.randn(b, c, h, w, generator=gen))
        targets.append(gram_matrix(torch.randn(1, c, h, w, generator=gen))[0])
        weights.append(round(float(torch.rand((), generator=gen)) + 0.1, 3))
    convention = ("notes", "gatys")[int(torch.randint(0, 2, (), generator=gen))]
    return Case(feats, targets, weights, convention=convention)


def _gatys_factor(c, m):
    return 1.0 / (4 * c ** 2 * m ** 2)


def _style_variant(gram_normalize=False, factor=_gatys_factor, use_weights=True, factor_for=("gatys",)):
    def fn(features, targets, weights=None, convention="notes"):
        weights = [1.0] * len(features) if weights is None else weights
        total = torch.zeros(())
        for f, s, w in zip(features, targets, weights, strict=True):
            _, c, h, wd = f.shape
            g = _gram(f, normalize=gram_normalize)
            scale = factor(c, h * wd) if convention in factor_for else 1.0
            total = total + (w if use_weights else 1.0) * scale * ((g - s) ** 2).sum()
        return total
    return fn


_F1 = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]]])           # (1, 2, 2, 2)
_F2 = torch.tensor([[[[1.0, 2.0, 0.0, 1.0]], [[0.5, 0.0, 1.0, 1.0]], [[2.0, 1.0, 1.0, 0.0]]]])  # (1, 3, 1, 4)
_TWO = ([_F1, _F2], [torch.eye(2), torch.ones(3, 3)], [0.5, 2.0])

register(Question(
    qid="vision.style_loss",
    reference=style_loss,
    cases=[Case(*_TWO, label="two layers with weights 0.5 and 2 (the default convention, the notes')"),
           Case(*_TWO, convention="gatys", label="the same layers, convention='gatys'"),
           Case([_F1], [torch.eye(2)], [1.0], convention="gatys",
                label="one layer, 2 channels of 2x2, target the identity, convention='gatys'"),
           Case([_F1, _F2], [torch.eye(2), torch.ones(3, 3)], label="edge: weights=None (every layer weighs 1)"),
           Case([_F2], [gram_matrix(_F2)[0]], [1.0], label="edge: the target is the image's own Gram matrix (0)"),
           Case([_F1, _F2], [torch.zeros(2, 2), torch.zeros(3, 3)], [1.0, 0.0], convention="gatys",
                label="edge: a layer with weight 0 does not count")],
    random_case=_style_case,
    mistakes=[
        Mistake("always Gatys", _style_variant(factor_for=("notes", "gatys")),
                "By default (convention='notes') each layer's term is the plain sum of squared differences times "
                "gamma_l, as in the notes; only convention='gatys' divides by 4 N_l^2 M_l^2."),
        Mistake("no factor", _style_variant(factor_for=()),
                "With convention='gatys' divide each layer's sum of squared differences by 4 N_l^2 M_l^2 (N_l "
                "channels, M_l = H*W positions), as in Gatys et al."),
        Mistake("N M not squared", _style_variant(factor=lambda c, m: 1.0 / (4 * c * m)),
                "Gatys's factor is 1 / (4 N_l^2 M_l^2): both the channel count and the number of positions are "
                "squared."),
        Mistake("no 4", _style_variant(factor=lambda c, m: 1.0 / (c ** 2 * m ** 2)),
                "Gatys's factor is 1 / (4 N_l^2 M_l^2): keep the 4."),
        Mistake("normalised Gram", _style_variant(gram_normalize=True),
                "Use the unnormalised Gram matrix G = F F^T (the targets are unnormalised too)."),
        Mistake("no weights", _style_variant(use_weights=False),
                "Multiply each layer's term by its weight before summing over layers."),
    ],
    forbid=("dlcourse.vision.style_loss",),
    rtol=1e-4, atol=1e-6,
))


# ---------------------------------------------------------------------------------------------------------------------
# vision.tv_ascent_step(x, score_weights, lr, tv_weight) -> (1, C, H, W): one step of the regularised gradient ascent
# of dlcourse.vision.maximize_activation (Notes §3.9.1), for a linear score s(x) = Σ score_weights · x.


def _tv(x: torch.Tensor) -> torch.Tensor:
    """TV(x) = mean of the squared vertical differences + mean of the squared horizontal ones."""
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()


def _tv_sum(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).sum() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).sum()


def _ascent_variant(tv=_tv, tv_sign=-1.0, direction=1.0, normalise=lambda g: g.abs().mean() + 1e-12, clamp=True):
    def fn(x, score_weights, lr, tv_weight):
        x = x.detach().clone().requires_grad_(True)
        objective = (score_weights * x).sum() + tv_sign * tv_weight * tv(x)
        (grad,) = torch.autograd.grad(objective, x)
        new = x.detach() + direction * lr * grad / normalise(grad)
        return new.clamp(0, 1) if clamp else new
    return fn


def tv_ascent_step(x: torch.Tensor, score_weights: torch.Tensor, lr: float, tv_weight: float) -> torch.Tensor:
    """Reference: ``g = ∇_x [Σ score_weights·x − tv_weight·TV(x)]``, then ``x ← clamp(x + lr·g / mean|g|, 0, 1)``,
    with the package's ``total_variation``."""
    from ...vision.ascent import total_variation

    x = x.detach().clone().requires_grad_(True)
    objective = (score_weights * x).sum() - tv_weight * total_variation(x)
    (grad,) = torch.autograd.grad(objective, x)
    return (x.detach() + lr * grad / (grad.abs().mean() + 1e-12)).clamp(0, 1)


def _ascent_case(gen: torch.Generator) -> Case:
    c = (1, 3)[int(torch.randint(0, 2, (), generator=gen))]
    h, w = (int(s) for s in torch.randint(2, 9, (2,), generator=gen))
    x = torch.rand(1, c, h, w, generator=gen)
    weights = torch.randn(1, c, h, w, generator=gen)
    lr = round(0.02 + 0.2 * float(torch.rand((), generator=gen)), 3)
    tv_weight = round(20 * float(torch.rand((), generator=gen)), 2)
    return Case(x, weights, lr, tv_weight)


_NOISY = torch.tensor([[[[0.2, 0.9, 0.1], [0.8, 0.05, 0.7], [0.3, 0.6, 0.95]]]])
_SCORE = torch.tensor([[[[1.0, -0.5, 0.2], [0.0, 1.5, -1.0], [0.3, 0.1, 0.4]]]])

register(Question(
    qid="vision.tv_ascent_step",
    reference=tv_ascent_step,
    cases=[Case(_NOISY, _SCORE, 0.1, 2.0, label="a noisy 3x3 image, lr 0.1, tv_weight 2"),
           Case(_NOISY, _SCORE, 0.1, 0.0, label="edge: tv_weight 0 (the plain normalised ascent)"),
           Case(torch.full((1, 1, 4, 4), 0.5), torch.ones(1, 1, 4, 4), 0.05, 5.0,
                label="edge: a flat image and a uniform score (the TV gradient is 0 there)"),
           Case(_NOISY.expand(1, 3, 3, 3).clone(), _SCORE.expand(1, 3, 3, 3).clone(), 0.3, 10.0,
                label="three channels, a large step (pixels leave [0, 1] and are clamped)")],
    random_case=_ascent_case,
    mistakes=[
        Mistake("TV rewarded", _ascent_variant(tv_sign=1.0),
                "The regulariser is a penalty: SUBTRACT tv_weight * TV(x) from the score before taking the "
                "gradient, so that the step makes the image smoother, not noisier."),
        Mistake("descent", _ascent_variant(direction=-1.0),
                "Gradient ASCENT: the image moves along +g to increase the regularised score."),
        Mistake("raw gradient", _ascent_variant(normalise=lambda g: 1.0),
                "Normalise the step as the package does: x + lr * g / mean(|g|), so that lr is a step in pixel "
                "values whatever the scale of the score."),
        Mistake("no clamp", _ascent_variant(clamp=False),
                "Clamp the image to [0, 1] after the step: it must stay a valid image."),
        Mistake("TV of sums", _ascent_variant(tv=_tv_sum),
                "TV(x) takes the MEAN of the squared differences of neighbours (vertical plus horizontal), not "
                "their sum."),
        Mistake("norm", _ascent_variant(normalise=lambda g: g.norm() + 1e-12),
                "Divide the gradient by the mean of its absolute values, mean(|g|), not by its norm."),
    ],
    forbid=("dlcourse.vision.total_variation",),
    rtol=1e-4, atol=1e-5,
))
