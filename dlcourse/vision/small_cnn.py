"""Small digit CNNs trained by the package and cached (:mod:`dlcourse.cache`), so every page that reuses one gets
the same weights: :func:`pretrained_digit_cnn` for transfer learning (Notes §3.6) and :func:`digit_classifier`, the
10-class network of the pages on attacks and convolutionalization (Notes §3.10, §3.11.1).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .._utils import check_positive_int
from ..cache import cached_model
from ..data import load_mnist5k
from ..loop import fit

__all__ = ["SmallCNN", "DigitCNN", "pretrained_digit_cnn", "digit_classifier"]


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


class DigitCNN(nn.Module):
    """The course's 10-class digit classifier: ``features`` (3×3 convolutions and max pooling, 28×28 → 64×7×7) and a
    dense ``head`` (flatten, 3136 → 128, ReLU, dropout, 128 → 10).

    Shape: input (N, 1, 28, 28) in [0, 1], output logits (N, 10). The dense head is what Notes §3.11.1 rewrites as
    convolutions: the 3136 → 128 layer is a 7×7 convolution and the 128 → 10 layer a 1×1 convolution.
    """

    def __init__(self, num_classes: int = 10, width: int = 32, hidden: int = 128, dropout: float = 0.25) -> None:
        super().__init__()
        num_classes, width, hidden = (check_positive_int(v, n) for v, n in
                                      ((num_classes, "num_classes"), (width, "width"), (hidden, "hidden")))
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),              # 28 -> 14
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),          # 14 -> 7
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * 7 * 7, hidden), nn.ReLU(), nn.Dropout(dropout),
                                  nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"DigitCNN expects images of shape (N, 1, 28, 28), got {tuple(x.shape)}")
        return self.head(self.features(x))


def pretrained_digit_cnn(classes: Sequence[int] = (0, 1, 2, 3, 4), epochs: int = 4, seed: int = 0,
                         device: torch.device | str | None = None, retrain: bool = False) -> SmallCNN:
    """A :class:`SmallCNN` trained on the MNIST-5k training digits of ``classes`` (labels renumbered 0…k−1).

    Trained once (a few seconds on a CPU: Adam, ``epochs`` epochs) through :func:`dlcourse.cache.cached_model` and
    loaded on later calls. Returned in eval mode on ``device`` (``None``: :func:`dlcourse.device`).
    """
    classes = sorted(int(c) for c in classes)
    if not classes or len(set(classes)) != len(classes) or not all(0 <= c <= 9 for c in classes):
        raise ValueError(f"classes must be distinct digits 0-9, got {classes}")
    epochs = check_positive_int(epochs, "epochs")

    def build() -> SmallCNN:
        torch.manual_seed(seed)
        return SmallCNN(num_classes=len(classes))

    def train(model: SmallCNN) -> dict:
        X, y = load_mnist5k("train")
        keep = torch.isin(y, torch.tensor(classes))
        X, y = X[keep], torch.searchsorted(torch.tensor(classes), y[keep])
        dev = next(model.parameters()).device
        hist = fit(model, X.to(dev), y.to(dev), epochs=epochs, lr=2e-3, batch_size=64, seed=seed, desc="pretraining")
        return {"train_acc": hist.train_acc}

    name = f"digit_cnn_{''.join(map(str, classes))}"
    return cached_model(name, build, train, {"classes": classes, "epochs": epochs, "seed": seed}, device=device,
                        retrain=retrain)


def digit_classifier(device: torch.device | str | None = None, retrain: bool = False) -> DigitCNN:
    """The course's 10-class digit CNN, a :class:`DigitCNN` trained on the
    MNIST-5k ``"fit"`` digits with light shift augmentation, the epoch picked on the ``"val"`` digits.

    Used where a page needs a good digit classifier to attack, to convolutionalize or to explain (Notes §3.10,
    §3.11.1). Trained once through :func:`dlcourse.cache.cached_model` (about 40 s on two CPU cores); its held-out
    test accuracy is 97.6 %. ``model.cache_info["summary"]`` holds the validation curve and the chosen epoch.
    """

    def build() -> DigitCNN:
        torch.manual_seed(0)
        return DigitCNN()

    def train(model: DigitCNN) -> dict:
        X, y = load_mnist5k("fit")
        Xv, yv = load_mnist5k("val")
        dev = next(model.parameters()).device
        X, y, Xv, yv = X.to(dev), y.to(dev), Xv.to(dev), yv.to(dev)
        gen = torch.Generator().manual_seed(0)
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        epochs = 10
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * ((len(X) + 63) // 64))
        best, best_state, val_acc = -1.0, None, []
        for _ in range(epochs):
            model.train()
            for idx in torch.randperm(len(X), generator=gen).split(64):
                xb = X[idx.to(dev)]
                # shifts of up to 2 pixels: the digits of MNIST-5k are few, and a shift changes no label
                dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()
                xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
                loss = nn.functional.cross_entropy(model(xb), y[idx.to(dev)])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
            model.eval()
            with torch.no_grad():
                acc = (model(Xv).argmax(1) == yv).float().mean().item()
            val_acc.append(acc)
            if acc > best:
                best, best_state = acc, {k: v.clone() for k, v in model.state_dict().items()}
        model.load_state_dict(best_state)
        return {"val_acc": val_acc, "best_epoch": int(val_acc.index(best)) + 1}

    return cached_model("digit_classifier", build, train, {"epochs": 10}, device=device,
                        retrain=retrain)
