"""Gating maps and squeeze-and-excitation (Notes §5.3): attention as a learned weighting of the input.

A squeeze-and-excitation block (Hu et al., 2018) squeezes each channel of a feature map to one number (global
average pooling), passes the C numbers through a bottleneck MLP (down-sampling to C/r, ReLU, up-sampling to C) and a
sigmoid, and multiplies each channel by its weight in (0, 1).
"""
from __future__ import annotations

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor

__all__ = ["SqueezeExcitation", "SECNN"]


class SqueezeExcitation(nn.Module):
    """y = x ⊙ σ(W_2 ReLU(W_1 GAP(x))) per channel. ``x`` (B, C, H, W) → (B, C, H, W); the channel weights of the
    last call, (B, C), are kept in ``self.weights``."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        channels, reduction = check_positive_int(channels, "channels"), check_positive_int(reduction, "reduction")
        hidden = max(1, channels // reduction)
        self.fc = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid())
        self.channels = channels
        self.weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", ndim=4, floating=True)
        if x.shape[1] != self.channels:
            raise ValueError(f"x must have {self.channels} channels, got shape {tuple(x.shape)}")
        s = self.fc(x.mean(dim=(2, 3)))                  # squeeze (GAP), then excite: (B, C) in (0, 1)
        self.weights = s.detach()
        return x * s[:, :, None, None]


class SECNN(nn.Module):
    """A small digit CNN (1×28×28 → 10 classes) with an optional SE block after each of its two conv stages."""

    def __init__(self, width: int = 16, se: bool = True, reduction: int = 4):
        super().__init__()
        w = check_positive_int(width, "width")

        def stage(c_in, c_out):
            layers = [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]
            if se:
                layers.append(SqueezeExcitation(c_out, reduction))
            return nn.Sequential(*layers, nn.MaxPool2d(2))

        self.features = nn.Sequential(stage(1, w), stage(w, 2 * w))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * w * 49, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
