"""Style transfer losses and the Gatys optimisation loop (Notes §3.9.3).

A layer's feature map of shape (B, C, H, W) is read as ``F ∈ R^{C×M}`` per image, with ``M = H·W`` positions.

* Gram matrix (the style representation of one layer)::

      G[c1, c2] = Σ_k F[c1, k] · F[c2, k]              (B, C, C), optionally divided by M

* Content loss of the notes, and of Gatys et al. (2016), eq. 1, which has an extra ½::

      notes:  L_content = Σ_{c,k} (F[c, k] − P[c, k])²
      gatys:  L_content = ½ Σ_{c,k} (F[c, k] − P[c, k])²

* Style loss of the notes (weights γ_l), and of Gatys et al., eq. 4–5 (weights w_l and a per-layer factor)::

      notes:  L_style = Σ_l γ_l Σ_{i,j} (G^l[i, j] − S^l[i, j])²
      gatys:  L_style = Σ_l w_l · 1/(4 N_l² M_l²) · Σ_{i,j} (G^l[i, j] − S^l[i, j])²

  with ``N_l = C`` channels and ``M_l = H·W`` positions of layer ``l``. Without the factor, the layers' terms differ by
  orders of magnitude (a Gram entry grows like M), so γ_l has to absorb it.

Sums run over every element, batch included: a batch of B images gives the sum of the B single-image losses.
"""
from __future__ import annotations

from typing import Callable, Iterator, Mapping, Sequence

import torch

from .._utils import check_positive_int, check_tensor
from .ascent import _check_image as _as_batch
from .ascent import total_variation
from ..widgets.frames import Frame

__all__ = ["gram_matrix", "content_loss", "style_loss", "style_targets", "style_transfer", "CONVENTIONS"]

CONVENTIONS = ("notes", "gatys")


def _check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")


def gram_matrix(features: torch.Tensor, normalize: bool = False) -> torch.Tensor:
    """Gram matrices of a batch of feature maps (Notes §3.9.3).

    Args:
        features: tensor of shape (B, C, H, W).
        normalize: if ``True``, divide by the number of positions ``M = H·W`` (the notes do not).

    Returns:
        Tensor of shape (B, C, C) with ``G[b, i, j] = Σ_k F[b, i, k] F[b, j, k]`` over the ``M = H·W`` flattened
        positions ``k``; symmetric and positive semi-definite.
    """
    check_tensor(features, "features", ndim=4, floating=True)
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    g = torch.bmm(f, f.transpose(1, 2))
    return g / (h * w) if normalize else g


def content_loss(features: torch.Tensor, target: torch.Tensor, convention: str = "notes") -> torch.Tensor:
    """Content loss between a layer's features and the content representation (Notes §3.9.3).

    Args:
        features: features ``F`` of the image being optimised, shape (B, C, H, W) (any shape works).
        target: content representation ``P`` (the content photo's features at the same layer), the same shape as
            ``features`` or broadcastable to it (for example (1, C, H, W) for a batch).
        convention: ``"notes"`` for ``Σ (F − P)²``, ``"gatys"`` for ``½ Σ (F − P)²`` (Gatys et al., eq. 1).

    Returns:
        A 0-d tensor: the sum over every element (batch included).
    """
    check_tensor(features, "features", floating=True)
    check_tensor(target, "target", floating=True)
    _check_convention(convention)
    try:
        shape = torch.broadcast_shapes(features.shape, target.shape)
    except RuntimeError as err:
        raise ValueError(f"target of shape {tuple(target.shape)} does not broadcast to features of shape "
                         f"{tuple(features.shape)}") from err
    if shape != features.shape:
        raise ValueError(f"target of shape {tuple(target.shape)} must broadcast to features of shape "
                         f"{tuple(features.shape)}, not enlarge it to {tuple(shape)}")
    loss = (features - target).pow(2).sum()
    return 0.5 * loss if convention == "gatys" else loss


def style_loss(features: Sequence[torch.Tensor], targets: Sequence[torch.Tensor],
               weights: Sequence[float] | None = None, convention: str = "notes") -> torch.Tensor:
    """Style loss over several layers (Notes §3.9.3).

    Args:
        features: one feature map per style layer of the image being optimised, each (B, C_l, H_l, W_l).
        targets: the style representation, one *unnormalised* Gram matrix ``S^l`` per layer, each (C_l, C_l) or
            (1 or B, C_l, C_l) (``gram_matrix`` of the style image's features at the same layers).
        weights: one weight per layer (γ_l in the notes, w_l in the paper); default 1 for every layer.
        convention: ``"notes"``: ``Σ_l γ_l Σ (G^l − S^l)²``; ``"gatys"``: ``Σ_l w_l Σ (G^l − S^l)² / (4 N_l² M_l²)``
            with ``N_l = C_l`` and ``M_l = H_l·W_l`` (Gatys et al., eq. 4–5).

    Returns:
        A 0-d tensor: the weighted sum over layers, each layer's term summed over its Gram entries and the batch.
    """
    _check_convention(convention)
    features, targets = list(features), list(targets)
    if len(features) == 0:
        raise ValueError("style_loss needs at least one layer, got an empty list of features")
    if len(features) != len(targets):
        raise ValueError(f"features and targets must have one entry per layer, got {len(features)} and "
                         f"{len(targets)}")
    if weights is None:
        weights = [1.0] * len(features)
    weights = [float(w) for w in weights]
    if len(weights) != len(features):
        raise ValueError(f"weights must have one entry per layer ({len(features)}), got {len(weights)}")
    total = features[0].new_zeros(())
    for i, (f, s, w) in enumerate(zip(features, targets, weights, strict=True)):
        check_tensor(f, f"features[{i}]", ndim=4, floating=True)
        check_tensor(s, f"targets[{i}]", ndim=(2, 3), floating=True)
        _, c, h, wd = f.shape
        if s.shape[-2:] != (c, c) or (s.dim() == 3 and s.shape[0] not in (1, f.shape[0])):
            raise ValueError(f"targets[{i}] must be a Gram matrix of shape ({c}, {c}) or (1 or {f.shape[0]}, {c}, "
                             f"{c}) for features of shape {tuple(f.shape)}, got {tuple(s.shape)}")
        term = (gram_matrix(f) - s).pow(2).sum()
        if convention == "gatys":
            term = term / (4.0 * c ** 2 * (h * wd) ** 2)
        total = total + w * term
    return total


def style_transfer(features_fn: Callable[[torch.Tensor, Sequence[str]], Mapping[str, torch.Tensor]],
                   content: torch.Tensor, style: torch.Tensor, content_layer: str = "conv4_2",
                   style_layers: Sequence[str] = ("conv1_2", "conv2_2", "conv3_3", "conv4_3"),
                   layer_weights: Sequence[float] | None = None, alpha: float = 1.0, beta: float = 1e3,
                   steps: int = 100, lr: float = 0.02, tv_weight: float = 0.0, init: str = "content",
                   convention: str = "gatys", every: int = 1,
                   generator: torch.Generator | None = None) -> Iterator[Frame]:
    """Gatys style transfer by gradient descent on the pixels; yields a frame per ``every`` steps (Notes §3.9.3).

    Minimises ``α · L_content + β · L_style (+ tv_weight · TV)`` over an image ``o`` in [0, 1] with Adam.

    Args:
        features_fn: ``(x, layers) -> {name: feature map}`` for images x (B, 3, H, W) in [0, 1] (e.g. the module
            ``dlcourse.pretrained.vgg16_features()``).
        content: content photo (3, H, W) or (1, 3, H, W) in [0, 1].
        style: style image (3, H', W') or (1, 3, H', W') in [0, 1], any size: its Gram matrices are rescaled to the
            content's number of positions (see :func:`style_targets`).
        content_layer, style_layers: names of the layers for the two representations.
        layer_weights: style weights per layer (γ_l / w_l); default equal weights ``1/len(style_layers)``.
        alpha, beta: weights of the content and the style loss.
        steps, lr: number of Adam steps and its learning rate.
        tv_weight: weight of a total-variation smoothness term (0: none).
        init: ``"content"`` starts from the content photo, ``"noise"`` from uniform noise.
        convention: loss convention, see :func:`content_loss` and :func:`style_loss`.
        every: yield a frame every ``every`` steps (and at the last step).
        generator: random generator for the noise start.

    Yields:
        :class:`~dlcourse.widgets.Frame`: the current image (3, H, W) in [0, 1] (detached, on the input's device), a
        caption, the ``step``, and ``scalars = {"content loss": …, "style loss": …}`` (the unweighted losses). The
        first frame is the start (step 0).
    """
    check_positive_int(steps, "steps")
    check_positive_int(every, "every")
    _check_convention(convention)
    if init not in ("content", "noise"):
        raise ValueError(f"init must be 'content' or 'noise', got {init!r}")
    content = _as_batch(content, "content")
    style = _as_batch(style, "style")
    style_layers = list(style_layers)
    if layer_weights is None:
        layer_weights = [1.0 / len(style_layers)] * len(style_layers)
    with torch.no_grad():
        fc = features_fn(content, list(dict.fromkeys([*style_layers, content_layer])))
        target_c = fc[content_layer].detach()
        targets_s = style_targets(features_fn, style, style_layers,
                                  positions=[fc[n].shape[-2] * fc[n].shape[-1] for n in style_layers])
    if init == "content":
        x = content.clone()
    else:
        x = torch.rand(content.shape, generator=generator, device="cpu").to(content.device)
    layers = list(dict.fromkeys([*style_layers, content_layer]))
    x.requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)

    def losses():
        feats = features_fn(x, layers)
        lc = content_loss(feats[content_layer], target_c, convention)
        ls = style_loss([feats[n] for n in style_layers], targets_s, layer_weights, convention)
        return lc, ls

    for step in range(steps + 1):
        lc, ls = losses()
        total = alpha * lc + beta * ls
        if tv_weight > 0:
            total = total + tv_weight * total_variation(x)
        if step % every == 0 or step == steps:
            yield Frame(x.detach()[0].clamp(0, 1).clone(),
                        f"step {step}: content {lc.item():.3g}, style {ls.item():.3g}",
                        {"content loss": lc.item(), "style loss": ls.item()}, step)
        if step == steps:
            break
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)


def style_targets(features_fn: Callable[[torch.Tensor, Sequence[str]], Mapping[str, torch.Tensor]],
                  style: torch.Tensor, layers: Sequence[str],
                  positions: Sequence[int] | None = None) -> list[torch.Tensor]:
    """The style representation ``S^l`` of a style image: one Gram matrix (C_l, C_l) per layer (Notes §3.9.3).

    An unnormalised Gram matrix grows with the number of positions ``M = H·W``, so it only compares images of the
    same size. With ``positions`` (the ``M_l`` of the image being optimised, one per layer) the style image's Gram
    matrices are rescaled to them: ``S^l = gram_matrix(F_style, normalize=True) · M_l``, the unnormalised Gram
    matrix of an image of that size with the same feature statistics. Without it they are left as they are.
    """
    style = _as_batch(style, "style")
    layers = list(layers)
    if positions is not None and len(positions) != len(layers):
        raise ValueError(f"positions must have one entry per layer ({len(layers)}), got {len(positions)}")
    with torch.no_grad():
        fs = features_fn(style, layers)
        if positions is None:
            return [gram_matrix(fs[n])[0].detach() for n in layers]
        return [(gram_matrix(fs[n], normalize=True)[0] * m).detach() for n, m in zip(layers, positions, strict=True)]
