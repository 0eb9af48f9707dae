"""Batch normalization from scratch (Notes §3.8), equal to ``F.batch_norm`` and ``nn.BatchNorm2d``.

For a batch ``x`` of shape (N, C, H, W), every channel ``c`` is normalised with the mean and variance of its
N·H·W values, then scaled and shifted by learned parameters:

    y[:, c] = weight[c] * (x[:, c] - mean_c) / sqrt(var_c + eps) + bias[c]

``var_c`` is the *biased* variance (divide by N·H·W). During training the module also keeps exponential moving
averages of the statistics, which replace the batch statistics in evaluation mode. PyTorch updates the running
variance with the *unbiased* batch variance (divide by N·H·W − 1); this module does the same.
"""
from __future__ import annotations

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor

__all__ = ["batch_norm2d", "BatchNorm2d"]


def _check_affine(x: torch.Tensor, weight, bias) -> None:
    c = x.shape[1]
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        check_tensor(p, name, ndim=1)
        if p.shape[0] != c:
            raise ValueError(f"{name} must have shape ({c},) to match the {c} channels of x, got {tuple(p.shape)}")


def _normalize(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, weight, bias, eps: float) -> torch.Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias with per-channel (C,) statistics broadcast over (N, C, H, W)."""
    shape = (1, -1, 1, 1)
    y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + eps)
    if weight is not None:
        y = y * weight.view(shape)
    if bias is not None:
        y = y + bias.view(shape)
    return y


def batch_norm2d(x: torch.Tensor, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None,
                 eps: float = 1e-5) -> torch.Tensor:
    """Training-mode batch normalization of a batch of feature maps (Notes §3.8).

    Args:
        x: input of shape (N, C, H, W).
        weight: per-channel scale γ of shape (C,), or ``None`` for 1.
        bias: per-channel shift β of shape (C,), or ``None`` for 0.
        eps: added to the variance before the square root.

    Returns:
        Tensor of shape (N, C, H, W): each channel normalised with its own mean and biased variance over
        (N, H, W), then ``weight * x̂ + bias``. Equal to
        ``F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)``.
    """
    check_tensor(x, "x", ndim=4, floating=True)
    _check_affine(x, weight, bias)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    if x.shape[0] * x.shape[2] * x.shape[3] < 2:
        raise ValueError(f"batch_norm2d needs more than one value per channel, got x of shape {tuple(x.shape)}")
    mean = x.mean(dim=(0, 2, 3))
    var = x.var(dim=(0, 2, 3), unbiased=False)
    return _normalize(x, mean, var, weight, bias, eps)


class BatchNorm2d(nn.Module):
    r"""Batch normalization over the channels of 4-D input, written from scratch (Notes §3.8).

    Same arguments, parameters, buffers and behaviour as :class:`torch.nn.BatchNorm2d`:

    * training mode: normalise with the batch mean and biased variance over (N, H, W); update
      ``running_mean ← (1 − momentum)·running_mean + momentum·mean`` and the same for ``running_var`` with the
      **unbiased** batch variance; count ``num_batches_tracked``. With ``momentum=None`` the running statistics are
      a cumulative average (momentum = 1 / num_batches_tracked).
    * evaluation mode: normalise with the running statistics (if tracked; otherwise with the batch statistics).

    Shape:
        input (N, C, H, W), output (N, C, H, W).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1] or None, got {momentum}")
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Set the running mean to 0, the running variance to 1 and the batch counter to 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", ndim=4, floating=True)
        if x.shape[1] != self.num_features:
            raise ValueError(f"x must have {self.num_features} channels (dimension 1), got shape {tuple(x.shape)}")
        use_batch_stats = self.training or not self.track_running_stats
        if not use_batch_stats:
            return _normalize(x, self.running_mean, self.running_var, self.weight, self.bias, self.eps)
        n = x.shape[0] * x.shape[2] * x.shape[3]
        if n < 2:
            raise ValueError(
                f"BatchNorm2d needs more than one value per channel in training, got shape {tuple(x.shape)}"
            )
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        if self.training and self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))  # unbiased, as PyTorch does
        return _normalize(x, mean, var, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")
