"""Questions of Part 3, gradient ascent and style transfer (Notes §3.9.3).

The exercises ask for the losses of Gatys et al. (2016) as the paper writes them: the content loss with its ½ and
the style loss with the per-layer factor 1/(4 N_l² M_l²). (The notes drop both factors; the package offers both
conventions, ``convention="gatys"`` being the one graded here.)
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
# vision.content_loss(features, target) -> 0-d tensor: ½ Σ (F − P)²  (Gatys et al., eq. 1)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Reference: ½ Σ (F − P)² over every element."""
    return _content_loss(features, target, convention="gatys")


def _content_case(gen: torch.Generator) -> Case:
    shape = _shape4(gen)
    return Case(torch.randn(shape, generator=gen), torch.randn(shape, generator=gen))


_F = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
_P = torch.tensor([[[[0.0, 2.0], [5.0, 3.0]]]])

register(Question(
    qid="vision.content_loss",
    reference=content_loss,
    cases=[Case(_F, _P, label="one 2x2 channel: differences 1, 0, -2, 1"),
           Case(_F, _F.clone(), label="edge: identical features (loss 0)"),
           Case(torch.ones(2, 3, 2, 2), torch.zeros(2, 3, 2, 2), label="a batch of 2 (the batch is summed too)")],
    random_case=_content_case,
    mistakes=[
        Mistake("no half", lambda features, target: ((features - target) ** 2).sum(),
                "Gatys's content loss has a factor 1/2 in front of the sum of squares (the notes drop it)."),
        Mistake("mean", lambda features, target: 0.5 * ((features - target) ** 2).mean(),
                "Sum the squared differences over all elements; do not average them."),
        Mistake("abs", lambda features, target: 0.5 * (features - target).abs().sum(),
                "Square the differences (an L2 loss), not their absolute values."),
        Mistake("norm", lambda features, target: 0.5 * (features - target).norm(),
                "The loss is the squared norm: 0.5 * sum((F - P)**2), not the norm itself."),
    ],
    forbid=("dlcourse.vision.content_loss", "torch.nn.functional.mse_loss"),
    rtol=1e-4, atol=1e-5,
))


# ---------------------------------------------------------------------------------------------------------------------
# vision.style_loss(features, targets, weights) -> 0-d tensor: Σ_l w_l Σ (G^l − S^l)² / (4 N_l² M_l²)


def style_loss(features: list, targets: list, weights: list) -> torch.Tensor:
    """Reference: Σ_l w_l / (4 N_l² M_l²) Σ_ij (G^l_ij − S^l_ij)², with unnormalised Gram matrices."""
    return _style_loss(features, targets, weights, convention="gatys")


def _style_case(gen: torch.Generator) -> Case:
    n_layers = int(torch.randint(1, 4, (), generator=gen))
    b = int(torch.randint(1, 3, (), generator=gen))
    feats, targets, weights = [], [], []
    for _ in range(n_layers):
        c, h, w = (int(s) for s in torch.randint(1, 6, (3,), generator=gen))
        feats.append(torch.randn(b, c, h, w, generator=gen))
        targets.append(gram_matrix(torch.randn(1, c, h, w, generator=gen))[0])
        weights.append(round(float(torch.rand((), generator=gen)) + 0.1, 3))
    return Case(feats, targets, weights)


def _style_variant(gram_normalize=False, factor=lambda c, m: 1.0 / (4 * c ** 2 * m ** 2), use_weights=True):
    def fn(features, targets, weights):
        total = torch.zeros(())
        for f, s, w in zip(features, targets, weights, strict=True):
            _, c, h, wd = f.shape
            g = _gram(f, normalize=gram_normalize)
            total = total + (w if use_weights else 1.0) * factor(c, h * wd) * ((g - s) ** 2).sum()
        return total
    return fn


_F1 = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]]])           # (1, 2, 2, 2)
_F2 = torch.tensor([[[[1.0, 2.0, 0.0, 1.0]], [[0.5, 0.0, 1.0, 1.0]], [[2.0, 1.0, 1.0, 0.0]]]])  # (1, 3, 1, 4)

register(Question(
    qid="vision.style_loss",
    reference=style_loss,
    cases=[Case([_F1], [torch.eye(2)], [1.0], label="one layer, 2 channels of 2x2, target the identity"),
           Case([_F1, _F2], [torch.eye(2), torch.ones(3, 3)], [0.5, 2.0], label="two layers with weights 0.5 and 2"),
           Case([_F2], [gram_matrix(_F2)[0]], [1.0], label="edge: the target is the image's own Gram matrix (0)"),
           Case([_F1, _F2], [torch.zeros(2, 2), torch.zeros(3, 3)], [1.0, 0.0],
                label="edge: a layer with weight 0 does not count")],
    random_case=_style_case,
    mistakes=[
        Mistake("no factor", _style_variant(factor=lambda c, m: 1.0),
                "Divide each layer's sum of squared differences by 4 N_l^2 M_l^2 (N_l channels, M_l = H*W "
                "positions), as in Gatys et al.; the notes fold this factor into the layer weight."),
        Mistake("N M not squared", _style_variant(factor=lambda c, m: 1.0 / (4 * c * m)),
                "The factor is 1 / (4 N_l^2 M_l^2): both the channel count and the number of positions are squared."),
        Mistake("no 4", _style_variant(factor=lambda c, m: 1.0 / (c ** 2 * m ** 2)),
                "The factor is 1 / (4 N_l^2 M_l^2): keep the 4."),
        Mistake("normalised Gram", _style_variant(gram_normalize=True),
                "Use the unnormalised Gram matrix G = F F^T (the targets are unnormalised too); the 1/M_l^2 is "
                "already in the layer factor."),
        Mistake("no weights", _style_variant(use_weights=False),
                "Multiply each layer's term by its weight w_l before summing over layers."),
    ],
    forbid=("dlcourse.vision.style_loss",),
    rtol=1e-4, atol=1e-6,
))
