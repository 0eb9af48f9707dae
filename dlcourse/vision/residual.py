"""Residual learning (Notes §3.5): residual blocks (convolutional and dense) and deep stacks with or without skips.

A residual block computes ``relu(F(x) + shortcut(x))`` where ``F`` is two 3×3 convolutions (each optionally followed
by batch normalization, with a ReLU between them) and ``shortcut`` is the identity, or a 1×1 convolution (a
*projection*) when the block changes the number of channels or the resolution (He et al., 2016).
"""
from __future__ import annotations

import torch
from torch import nn

from .._utils import check_nonnegative_int, check_positive_int, check_tensor
from .batchnorm import BatchNorm2d

__all__ = ["ResidualBlock", "DenseResidualBlock", "deep_mlp"]


class ResidualBlock(nn.Module):
    r"""Basic residual block ``y = relu(F(x) + shortcut(x))`` (Notes §3.5).

    ``F(x) = conv3x3 → [BN] → ReLU → conv3x3 → [BN]``, the first convolution with stride ``stride``.
    ``shortcut`` is the identity when ``in_channels == out_channels`` and ``stride == 1``, otherwise a 1×1
    convolution with that stride (followed by BN if ``batch_norm``). With ``skip=False`` there is no shortcut at all,
    ``y = relu(F(x))``: the *plain* block with exactly the same layers in ``F``, for comparisons.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output (defaults to ``in_channels``).
        stride: stride of the first 3×3 convolution and of the projection.
        batch_norm: put a :class:`~dlcourse.vision.BatchNorm2d` after each convolution of ``F`` (the convolutions
            then have no bias, which BN would cancel).
        skip: add the shortcut (``True``) or build the plain block (``False``).

    Shape:
        input (N, in_channels, H, W), output (N, out_channels, ⌈H / stride⌉, ⌈W / stride⌉).
    """

    def __init__(self, in_channels: int, out_channels: int | None = None, stride: int = 1, batch_norm: bool = True,
                 skip: bool = True) -> None:
        super().__init__()
        in_channels = check_positive_int(in_channels, "in_channels")
        out_channels = in_channels if out_channels is None else check_positive_int(out_channels, "out_channels")
        stride = check_positive_int(stride, "stride")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.skip = bool(skip)
        bias = not batch_norm
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=bias)
        self.bn1 = BatchNorm2d(out_channels) if batch_norm else nn.Identity()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=bias)
        self.bn2 = BatchNorm2d(out_channels) if batch_norm else nn.Identity()
        self.relu = nn.ReLU()
        if not self.skip:
            self.shortcut = None
        elif stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Identity()
        else:  # projection shortcut: match channels and resolution with a 1×1 convolution
            proj = [nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias)]
            if batch_norm:
                proj.append(BatchNorm2d(out_channels))
            self.shortcut = nn.Sequential(*proj)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch ``F(x)`` alone, shape (N, out_channels, H', W')."""
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", ndim=4, floating=True)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x must have {self.in_channels} channels (dimension 1), got shape {tuple(x.shape)}")
        out = self.residual(x)
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)

    @torch.no_grad()
    def zero_residual_(self) -> "ResidualBlock":
        """Make ``F = 0``: zero the last convolution (and its bias, and the last BN's scale and shift); returns self.

        With an identity shortcut the block then returns ``relu(x)``, which is ``x`` itself for the non-negative
        output of a previous ReLU block.
        """
        self.conv2.weight.zero_()
        if self.conv2.bias is not None:
            self.conv2.bias.zero_()
        if isinstance(self.bn2, BatchNorm2d) and self.bn2.affine:
            self.bn2.weight.zero_()
            self.bn2.bias.zero_()
        return self

    def extra_repr(self) -> str:
        return f"skip={self.skip}"


class DenseResidualBlock(nn.Module):
    """The residual block with dense layers: ``y = relu(F(x) + x)``, ``F(x) = W2 relu(W1 x + b1) + b2`` (Notes §3.5).

    With ``skip=False`` it is the plain block ``y = relu(F(x))`` with the same layers. Cheap enough to train stacks
    of dozens of layers on a CPU in seconds.

    Shape:
        input (N, width), output (N, width).
    """

    def __init__(self, width: int, skip: bool = True) -> None:
        super().__init__()
        width = check_positive_int(width, "width")
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)
        self.skip = bool(skip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.fc2(torch.relu(self.fc1(x)))
        return torch.relu(f + x if self.skip else f)

    def extra_repr(self) -> str:
        return f"skip={self.skip}"


def deep_mlp(in_features: int, width: int, num_blocks: int, num_classes: int, skip: bool = True) -> nn.Sequential:
    """A deep, narrow classifier: ``Linear(in, width) → ReLU → num_blocks blocks → Linear(width, classes)``.

    The blocks are :class:`DenseResidualBlock` with (``skip=True``) or without (``skip=False``) shortcuts, so the
    two nets have identical layers and parameter counts and differ only by the skips. There are
    ``2 * num_blocks + 2`` weight layers. Input (N, in_features), output logits (N, num_classes).
    """
    in_features = check_positive_int(in_features, "in_features")
    width = check_positive_int(width, "width")
    num_blocks = check_nonnegative_int(num_blocks, "num_blocks")
    num_classes = check_positive_int(num_classes, "num_classes")
    return nn.Sequential(nn.Linear(in_features, width), nn.ReLU(),
                         *[DenseResidualBlock(width, skip=skip) for _ in range(num_blocks)],
                         nn.Linear(width, num_classes))
