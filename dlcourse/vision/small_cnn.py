"""A small CNN trained by the package and cached, for transfer learning (Notes §3.6).

:func:`pretrained_digit_cnn` trains :class:`SmallCNN` on the MNIST-5k training digits of some classes (by default
0–4) once, saves the weights under the course's cache folder (``$DLCOURSE_CACHE``, default ``~/.cache/dlcourse``) and
loads them on later calls, so every page that reuses the network gets the same weights.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from .._utils import check_positive_int

__all__ = ["SmallCNN", "cache_dir", "pretrained_digit_cnn"]


class SmallCNN(nn.Module):
    """``backbone`` (two strided convolutions, 28×28 → 7×7×32, flattened) + ``head`` (dense ``feature_dim`` → classes).

    Shape: input (N, 1, 28, 28), output logits (N, num_classes); ``backbone(x)`` gives features (N, 1568).
    """

    def __init__(self, num_classes: int = 5, feature_dim: int = 64) -> None:
        super().__init__()
        num_classes = check_positive_int(num_classes, "num_classes")
        feature_dim = check_positive_int(feature_dim, "feature_dim")
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.ReLU(),          # 28 -> 14
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),         # 14 -> 7
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Linear(32 * 7 * 7, feature_dim), nn.ReLU(), nn.Linear(feature_dim, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def cache_dir() -> Path:
    """The folder where the package caches trained weights: ``$DLCOURSE_CACHE`` or ``~/.cache/dlcourse``."""
    path = Path(os.environ.get("DLCOURSE_CACHE", Path.home() / ".cache" / "dlcourse")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def pretrained_digit_cnn(classes: Sequence[int] = (0, 1, 2, 3, 4), epochs: int = 4, seed: int = 0,
                         device: torch.device | str | None = None, retrain: bool = False) -> SmallCNN:
    """A :class:`SmallCNN` trained on the MNIST-5k training digits of ``classes`` (labels renumbered 0…k−1).

    The first call trains it (a few seconds on a CPU: Adam, ``epochs`` epochs) and saves the weights in
    :func:`cache_dir`; later calls with the same arguments load them. Returned in eval mode on ``device``.
    """
    from .._utils import device as default_device
    from ..data import load_mnist5k
    from ..train import fit

    classes = sorted(int(c) for c in classes)
    if not classes or len(set(classes)) != len(classes) or not all(0 <= c <= 9 for c in classes):
        raise ValueError(f"classes must be distinct digits 0-9, got {classes}")
    epochs = check_positive_int(epochs, "epochs")
    dev = torch.device(device) if device is not None else default_device()
    path = cache_dir() / f"digit_cnn_v2_{''.join(map(str, classes))}_e{epochs}_s{seed}.pt"
    torch.manual_seed(seed)
    model = SmallCNN(num_classes=len(classes))
    if path.exists() and not retrain:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model.to(dev).eval()
    X, y = load_mnist5k("train")
    keep = torch.isin(y, torch.tensor(classes))
    X, y = X[keep], torch.searchsorted(torch.tensor(classes), y[keep])
    model = model.to(dev)
    fit(model, X.to(dev), y.to(dev), epochs=epochs, lr=2e-3, batch_size=64, seed=seed, desc="pretraining")
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, tmp)
    os.replace(tmp, path)
    return model.eval()
