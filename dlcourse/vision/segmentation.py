"""Semantic segmentation (Notes §3.11): mean IoU, the convolutionalized digit head, FCN-32s/16s/8s and U-Net."""
from __future__ import annotations

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor

__all__ = ["confusion_matrix", "per_class_iou", "mean_iou", "convolutionalize_head", "FCN", "UNet",
           "unet_output_size"]


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(C, C) int64 counts: entry (t, p) is the number of pixels of true class t predicted as p."""
    check_tensor(pred, "pred")
    check_tensor(target, "target")
    C = check_positive_int(num_classes, "num_classes")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    if pred.is_floating_point() or target.is_floating_point():
        raise TypeError("pred and target must hold integer class indices (take argmax over the class scores first)")
    t, p = target.reshape(-1).long(), pred.reshape(-1).long()
    if t.numel() and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= C):
        raise ValueError(f"class indices must lie in 0..{C - 1}")
    return torch.bincount(t * C + p, minlength=C * C).reshape(C, C)


def per_class_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """IoU of each class, |pred = c ∧ target = c| / |pred = c ∨ target = c|: (C,) float, NaN for a class that is in
    neither (nothing to score)."""
    cm = confusion_matrix(pred, target, num_classes).double()
    inter = cm.diagonal()
    union = cm.sum(0) + cm.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(inter, float("nan"))).float()


def mean_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Mean over classes of the per-class IoU (Notes §3.11), classes absent from both pred and target left out.

    Args:
        pred: integer class map of any shape, e.g. (N, H, W).
        target: the true classes, same shape.
        num_classes: C (background included if it is a class).

    Returns:
        0-d float tensor on the input's device.
    """
    iou = per_class_iou(pred, target, num_classes)
    return iou[~iou.isnan()].mean() if (~iou.isnan()).any() else torch.tensor(float("nan"), device=iou.device)


def convolutionalize_head(head: nn.Sequential, in_channels: int, in_size: int) -> nn.Sequential:
    """Rewrite a dense head ``Flatten, Linear(C·k·k, h), …, Linear(h, classes)`` as convolutions (Notes §3.11.1).

    The first Linear reads the whole (C, k, k) feature map, so it becomes a k×k convolution with its weights
    reshaped to (h, C, k, k); every later Linear acts on one vector, so it becomes a 1×1 convolution. ReLU and Dropout
    carry over unchanged. On a (C, k, k) input the result gives the same numbers in a (classes, 1, 1) map; on a larger
    map it slides, giving one score vector per window: a heat map.
    """
    layers = [m for m in head if not isinstance(m, nn.Flatten)]
    out, first = [], True
    for m in layers:
        if isinstance(m, nn.Linear):
            k = in_size if first else 1
            c_in = in_channels if first else m.in_features
            if m.in_features != c_in * k * k:
                raise ValueError(f"Linear({m.in_features}, …) does not read a ({c_in}, {k}, {k}) map")
            conv = nn.Conv2d(c_in, m.out_features, k)
            with torch.no_grad():
                conv.weight.copy_(m.weight.reshape(m.out_features, c_in, k, k))   # Flatten's order is (C, H, W)
                conv.bias.copy_(m.bias)
            out.append(conv)
            first = False
        else:
            out.append(m)
    return nn.Sequential(*out).to(next(head.parameters()).device)


def _double_conv(c_in: int, c_out: int, padding: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=padding), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=padding), nn.BatchNorm2d(c_out), nn.ReLU())


def _bilinear_kernel(channels: int, k: int) -> torch.Tensor:
    """Weights of a transposed convolution that does bilinear upsampling, per channel (the FCN initialisation)."""
    factor = (k + 1) // 2
    centre = factor - 1 if k % 2 == 1 else factor - 0.5
    og = torch.arange(k, dtype=torch.float32)
    filt = 1 - (og - centre).abs() / factor
    w = torch.zeros(channels, channels, k, k)
    w[range(channels), range(channels)] = filt[:, None] * filt[None, :]
    return w


def _upsample(channels: int, factor: int) -> nn.ConvTranspose2d:
    """A learnable ×factor transposed convolution, initialised to bilinear interpolation."""
    up = nn.ConvTranspose2d(channels, channels, 2 * factor, stride=factor, padding=factor // 2, bias=False)
    with torch.no_grad():
        up.weight.copy_(_bilinear_kernel(channels, 2 * factor))
    return up


class FCN(nn.Module):
    """A small fully convolutional network with FCN-32s/16s/8s heads (Notes §3.11.1, Long et al. 2015).

    Five stages of two 3×3 convolutions each followed by 2× max pooling (64 px → 2 px at stride 32). ``variant=32``:
    score the stride-32 map and upsample ×32 by a transposed convolution. ``16``: upsample that score ×2, add the
    score of the stride-16 map (a skip connection) and upsample ×16. ``8``: once more with the stride-8 map, ×8.
    Output: (N, num_classes, H, W), the input's size (H, W divisible by 32).
    """

    def __init__(self, num_classes: int = 4, variant: int = 8, width: int = 16, in_channels: int = 3) -> None:
        super().__init__()
        if variant not in (32, 16, 8):
            raise ValueError(f"variant must be 32, 16 or 8, got {variant}")
        C, w = check_positive_int(num_classes, "num_classes"), check_positive_int(width, "width")
        self.variant = variant
        widths = [w, 2 * w, 4 * w, 4 * w, 4 * w]
        stages, c_in = [], in_channels
        for c in widths:
            stages.append(nn.Sequential(_double_conv(c_in, c, 1), nn.MaxPool2d(2)))
            c_in = c
        self.stages = nn.ModuleList(stages)
        self.score32 = nn.Conv2d(widths[4], C, 1)
        self.score16 = nn.Conv2d(widths[3], C, 1)
        self.score8 = nn.Conv2d(widths[2], C, 1)
        self.up2_a, self.up2_b = _upsample(C, 2), _upsample(C, 2)
        self.up_final = _upsample(C, variant)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"FCN needs a height and width divisible by 32, got {tuple(x.shape[-2:])}")
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        score = self.score32(feats[4])                          # stride 32
        if self.variant <= 16:
            score = self.up2_a(score) + self.score16(feats[3])  # stride 16: skip from pool4
        if self.variant == 8:
            score = self.up2_b(score) + self.score8(feats[2])   # stride 8: skip from pool3
        return self.up_final(score)


def unet_output_size(size: int, depth: int = 4) -> int:
    """Output side of the original, unpadded U-Net (Notes §3.11.2, Ronneberger et al. 2015) for an input side ``size``.

    Each of the ``depth`` encoder levels applies two 3×3 valid convolutions (−2 pixels each) and a 2×2 max pooling
    (÷2, which needs an even size); the bottom level two more convolutions; each decoder level a 2×2 up-convolution
    (×2) and two convolutions. The paper's 572 × 572 input gives 388 × 388 with depth 4.
    """
    size, depth = check_positive_int(size, "size"), check_positive_int(depth, "depth")
    s = size
    for level in range(depth):
        s -= 4
        if s <= 0 or s % 2:
            raise ValueError(f"input size {size} does not fit an unpadded U-Net of depth {depth}: "
                             f"{s} pixels reach pooling {level + 1}")
        s //= 2
    s -= 4
    if s <= 0:
        raise ValueError(f"input size {size} is too small for depth {depth}")
    for _ in range(depth):
        s = 2 * s - 4
    return s


def _center_crop(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


class UNet(nn.Module):
    """U-Net (Notes §3.11.2): an encoder of double 3×3 convolutions and max poolings finds *what* is in the image; a
    decoder of 2×2 transposed convolutions, each followed by a concatenation with the encoder map of the same level
    (a skip connection) and a double convolution, finds *where*.

    ``padding=True`` (default): 'same' convolutions, output size = input size (sides divisible by 2**depth).
    ``padding=False``: the paper's valid convolutions, the skips centre-cropped; see :func:`unet_output_size`.
    ``skips=False``: the decoder gets no encoder maps (the "what" without the "where").
    Output: (N, num_classes, H_out, W_out) class scores.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 4, width: int = 16, depth: int = 3,
                 padding: bool = True, skips: bool = True) -> None:
        super().__init__()
        w, self.depth = check_positive_int(width, "width"), check_positive_int(depth, "depth")
        C = check_positive_int(num_classes, "num_classes")
        pad, self.skips = (1 if padding else 0), bool(skips)
        widths = [w * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList()
        c_in = in_channels
        for c in widths[:-1]:
            self.down.append(_double_conv(c_in, c, pad))
            c_in = c
        self.bottom = _double_conv(widths[-2], widths[-1], pad)
        self.ups, self.dec = nn.ModuleList(), nn.ModuleList()
        for c in reversed(widths[:-1]):
            self.ups.append(nn.ConvTranspose2d(2 * c, c, 2, stride=2))
            self.dec.append(_double_conv(2 * c if skips else c, c, pad))
        self.out = nn.Conv2d(w, C, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", ndim=4)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.bottom(x)
        for up, dec, skip in zip(self.ups, self.dec, reversed(skips), strict=True):
            x = up(x)
            if self.skips:
                x = torch.cat([_center_crop(skip, *x.shape[-2:]), x], dim=1)
            x = dec(x)
        return self.out(x)
