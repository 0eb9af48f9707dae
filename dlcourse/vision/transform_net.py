"""Feed-forward style transfer: an image transformation network trained with perceptual losses (Notes §3.9.3).

Johnson et al. (2016) replace Gatys's per-image optimisation by a network ``f_W`` trained once per style: the loss
network (a fixed pretrained CNN) scores ``y = f_W(x)`` with the same content and style losses, against the content
of ``x`` itself (``y_c = x``) and the Gram matrices of one style image ``y_s``. After training, stylising a new
photo is a single forward pass.

The network here is a narrow version of theirs: a 9×9 convolution, two stride-2 convolutions down, residual
blocks, two upsampling stages (nearest neighbour + convolution, which avoids the checkerboard artefacts of
transposed convolutions) and a 9×9 convolution back to RGB, with instance normalisation and reflection padding.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._utils import check_positive_int, check_tensor
from .style import content_loss, style_loss, style_targets

__all__ = ["TransformNet", "train_transform_net", "random_crops"]


def _conv(cin: int, cout: int, k: int, stride: int = 1, norm: bool = True, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride)]
    if norm:
        layers.append(nn.InstanceNorm2d(cout, affine=True))
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _Residual(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(_conv(c, c, 3), _conv(c, c, 3, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TransformNet(nn.Module):
    """Image transformation network (Johnson et al. 2016, narrowed): RGB [0, 1] in, RGB [0, 1] out, same size.

    Args:
        width: channels of the first layer (doubled twice on the way down); Johnson et al. use 32.
        n_residual: number of residual blocks at 1/4 resolution; Johnson et al. use 5.

    Shape:
        - Input: (B, 3, H, W) in [0, 1], H and W multiples of 4.
        - Output: (B, 3, H, W) in [0, 1]: ``sigmoid(logit(x) + g(x))`` with ``g`` the convolutional stack, whose
          last layer starts at zero, so the untrained network is the identity (a skip connection that Johnson et
          al. do not have; it makes short training runs work).
    """

    def __init__(self, width: int = 16, n_residual: int = 3):
        super().__init__()
        check_positive_int(width, "width")
        check_positive_int(n_residual, "n_residual")
        w = width
        self.down = nn.Sequential(_conv(3, w, 9), _conv(w, 2 * w, 3, 2), _conv(2 * w, 4 * w, 3, 2))
        self.res = nn.Sequential(*[_Residual(4 * w) for _ in range(n_residual)])
        self.up1 = _conv(4 * w, 2 * w, 3)
        self.up2 = _conv(2 * w, w, 3)
        self.out = _conv(w, 3, 9, norm=False, relu=False)
        # A skip connection from the input in logit space: with the last convolution at zero the network starts as
        # the identity, so a short training run is spent on the style rather than on relearning the photo.
        nn.init.zeros_(self.out[1].weight)
        nn.init.zeros_(self.out[1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", ndim=4, floating=True)
        if x.shape[1] != 3 or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"x must have shape (B, 3, H, W) with H and W multiples of 4, got {tuple(x.shape)}")
        h = self.res(self.down(x))
        h = self.up1(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.up2(F.interpolate(h, scale_factor=2, mode="nearest"))
        return torch.sigmoid(torch.logit(x.clamp(1e-3, 1 - 1e-3)) + self.out(h))


def random_crops(images: Sequence[torch.Tensor], n: int, size: int,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` random ``size``×``size`` crops (n, 3, size, size) drawn from a list of images (3, H, W), H, W ≥ size."""
    check_positive_int(n, "n")
    check_positive_int(size, "size")
    images = list(images)
    if not images:
        raise ValueError("random_crops needs at least one image")
    for i, im in enumerate(images):
        check_tensor(im, f"images[{i}]", ndim=3)
        if im.shape[1] < size or im.shape[2] < size:
            raise ValueError(f"images[{i}] of shape {tuple(im.shape)} is smaller than the crop size {size}")
    out = []
    picks = torch.randint(len(images), (n,), generator=generator)
    for k in picks.tolist():
        im = images[k]
        top = int(torch.randint(im.shape[1] - size + 1, (1,), generator=generator))
        left = int(torch.randint(im.shape[2] - size + 1, (1,), generator=generator))
        out.append(im[:, top:top + size, left:left + size])
    return torch.stack(out)


def train_transform_net(net: nn.Module,
                        features_fn: Callable[[torch.Tensor, Sequence[str]], Mapping[str, torch.Tensor]],
                        style: torch.Tensor, contents: torch.Tensor, steps: int = 100, batch_size: int = 4,
                        lr: float = 1e-2, alpha: float = 1.0, beta: float = 1e4, content_layer: str = "conv3_3",
                        style_layers: Sequence[str] = ("conv1_2", "conv2_2", "conv3_3"),
                        layer_weights: Sequence[float] | None = None, convention: str = "gatys",
                        generator: torch.Generator | None = None, progress: bool = True) -> dict[str, list[float]]:
    """Train ``net`` for one style with perceptual losses (Johnson et al. 2016; Notes §3.9.3), in place.

    Each step draws a batch of content images, computes ``y = net(x)`` and minimises
    ``α · L_content(Θ(y), Θ(x)) / B + β · L_style(Θ(y), S) / B`` with Adam, where Θ is the loss network
    ``features_fn`` (kept fixed) and ``S`` the Gram matrices of ``style``.

    Args:
        net: the transformation network (e.g. :class:`TransformNet`), trained in place.
        features_fn: ``(x, layers) -> {name: tensor}``, the loss network.
        style: the style image (3, H, W) in [0, 1].
        contents: training content images (N, 3, h, w) in [0, 1] (e.g. :func:`random_crops`).
        steps, batch_size, lr: optimisation settings.
        alpha, beta, content_layer, style_layers, layer_weights, convention: the losses (see
            :func:`~dlcourse.vision.style_transfer`).
        generator: random generator for the batches.
        progress: show a tqdm progress bar.

    Returns:
        ``{"content": [...], "style": [...]}``: the unweighted per-image losses at each step.
    """
    check_positive_int(steps, "steps")
    check_positive_int(batch_size, "batch_size")
    check_tensor(style, "style", ndim=3, floating=True)
    check_tensor(contents, "contents", ndim=4, floating=True)
    style_layers = list(style_layers)
    if layer_weights is None:
        layer_weights = [1.0 / len(style_layers)] * len(style_layers)
    layers = list(dict.fromkeys([*style_layers, content_layer]))
    with torch.no_grad():
        fc = features_fn(contents[:1], style_layers)
        targets = style_targets(features_fn, style, style_layers,
                                positions=[fc[n].shape[-2] * fc[n].shape[-1] for n in style_layers])
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    history: dict[str, list[float]] = {"content": [], "style": []}
    from tqdm.auto import tqdm

    net.train()
    for _ in tqdm(range(steps), desc="training the transformation network", disable=not progress):
        idx = torch.randint(contents.shape[0], (batch_size,), generator=generator).to(contents.device)
        x = contents[idx]
        y = net(x)
        with torch.no_grad():
            target_c = features_fn(x, [content_layer])[content_layer]
        feats = features_fn(y, layers)
        lc = content_loss(feats[content_layer], target_c, convention) / batch_size
        ls = style_loss([feats[n] for n in style_layers], targets, layer_weights, convention) / batch_size
        loss = alpha * lc + beta * ls
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history["content"].append(lc.item())
        history["style"].append(ls.item())
    net.eval()
    return history
