r"""A convolutional autoencoder for 28×28 digits, trained without labels and cached (Notes §3.10.2–3.10.3).

The encoder projects an image to a code :math:`\mathbf{z}\in\mathbb{R}^k` of much lower dimension (the
*bottleneck*), the decoder maps the code back to an image; training minimises the reconstruction error
:math:`\lVert \mathbf{x} - g(h(\mathbf{x}))\rVert^2` on the images alone. With ``noise > 0`` the input is corrupted
and the target stays clean: a denoising autoencoder (Vincent et al., 2008).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._utils import check_positive_int, check_tensor
from ..cache import cached_model
from ..data import load_mnist5k

__all__ = ["Autoencoder", "psnr", "reconstruction_error", "trained_autoencoder"]


class Autoencoder(nn.Module):
    r"""Convolutional autoencoder: ``encoder`` 28×28 → ``bottleneck`` numbers, ``decoder`` back to 28×28.

    - ``encoder``: Conv(1→w, 3×3, stride 2) → ReLU → Conv(w→2w, 3×3, stride 2) → ReLU → Flatten → Linear(2w·7·7 → k)
      (28 → 14 → 7 pixels);
    - ``decoder``: Linear(k → 2w·7·7) → ReLU → ConvTranspose(2w→w, 4×4, stride 2) → ReLU →
      ConvTranspose(w→1, 4×4, stride 2) → sigmoid (7 → 14 → 28 pixels, values in (0, 1)).

    Shape: input (N, 1, 28, 28) in [0, 1]; :meth:`encode` gives (N, k), :meth:`decode` (N, 1, 28, 28); ``forward``
    is ``decode(encode(x))``.
    """

    def __init__(self, bottleneck: int = 16, width: int = 16) -> None:
        super().__init__()
        self.bottleneck = check_positive_int(bottleneck, "bottleneck")
        width = check_positive_int(width, "width")
        self.encoder = nn.Sequential(
            nn.Conv2d(1, width, 3, stride=2, padding=1), nn.ReLU(),               # 28 -> 14
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),       # 14 -> 7
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, self.bottleneck),
        )
        self.decoder = nn.Sequential(
            nn.Linear(self.bottleneck, 2 * width * 7 * 7), nn.ReLU(), nn.Unflatten(1, (2 * width, 7, 7)),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.ReLU(),     # 7 -> 14
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1), nn.Sigmoid(),         # 14 -> 28
        )

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", ndim=4, floating=True)
        if x.shape[1:] != (1, 28, 28):
            raise ValueError(f"Autoencoder expects images of shape (N, 1, 28, 28), got {tuple(x.shape)}")
        return x

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes (N, k) of images (N, 1, 28, 28)."""
        return self.encoder(self._check(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, 1, 28, 28) in (0, 1) from codes (N, k)."""
        check_tensor(z, "z", ndim=2, floating=True)
        if z.shape[1] != self.bottleneck:
            raise ValueError(f"codes must have {self.bottleneck} numbers each, shape (N, {self.bottleneck}); "
                             f"got {tuple(z.shape)}")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def reconstruction_error(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    r"""Per-image mean squared error :math:`\frac1D\sum_d (x_d - \hat x_d)^2`, shape (N,) for inputs (N, …)
    (Notes §3.10.3: the anomaly score of an autoencoder)."""
    check_tensor(x, "x", floating=True)
    check_tensor(x_hat, "x_hat", floating=True)
    if x.shape != x_hat.shape or x.dim() < 1:
        raise ValueError(f"x and x_hat must have the same shape (N, ...), "
                         f"got {tuple(x.shape)} and {tuple(x_hat.shape)}")
    return (x - x_hat).pow(2).reshape(x.shape[0], -1).mean(1)


def psnr(x: torch.Tensor, reference: torch.Tensor, max_value: float = 1.0) -> torch.Tensor:
    r"""Peak signal-to-noise ratio per image in dB, :math:`10\log_{10}(\text{max}^2/\text{MSE})`, shape (N,)."""
    mse = reconstruction_error(x, reference)
    return 10 * torch.log10(max_value ** 2 / mse.clamp_min(1e-12))


def trained_autoencoder(bottleneck: int = 16, noise: float = 0.0, epochs: int = 6, seed: int = 0,
                        device: torch.device | str | None = None, retrain: bool = False) -> Autoencoder:
    r"""An :class:`Autoencoder` trained on the 3,500 MNIST-5k ``"fit"`` digits, without their labels; cached.

    Adam (one-cycle schedule, peak learning rate 5·10⁻³) on the mean squared reconstruction error, batches of 64,
    ``epochs`` epochs. With ``noise`` > 0 each training input is corrupted with Gaussian noise of standard
    deviation ``noise``
    (clipped to [0, 1]) while the target stays the clean digit (denoising autoencoder). Trained once through
    :func:`dlcourse.cache.cached_model`, then loaded; ``model.cache_info["summary"]`` holds the loss of each epoch.
    Notes §3.10.3.
    """
    bottleneck = check_positive_int(bottleneck, "bottleneck")
    epochs = check_positive_int(epochs, "epochs")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
        raise ValueError(f"noise must be a standard deviation in [0, 1], got {noise!r}")
    noise = float(noise)

    def build() -> Autoencoder:
        torch.manual_seed(seed)
        return Autoencoder(bottleneck)

    def train(model: Autoencoder) -> dict:
        X, _ = load_mnist5k("fit")                      # the labels are never used: self-supervised
        dev = next(model.parameters()).device
        X = X.to(dev)
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.Adam(model.parameters(), lr=5e-3)
        batches = (len(X) + 63) // 64
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=5e-3, total_steps=epochs * batches)
        losses = []
        for _ in range(epochs):
            model.train()
            total = 0.0
            for idx in torch.randperm(len(X), generator=gen).split(64):
                target = X[idx.to(dev)]
                inputs = target
                if noise > 0:
                    inputs = (target + noise * torch.randn(target.shape, generator=gen).to(dev)).clamp(0, 1)
                loss = F.mse_loss(model(inputs), target)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item() * len(idx)
            losses.append(total / len(X))
        return {"train_mse": losses}

    name = f"autoencoder_k{bottleneck}" + (f"_noise{round(100 * noise)}" if noise else "")
    return cached_model(name, build, train, {"bottleneck": bottleneck, "noise": noise, "epochs": epochs, "seed": seed},
                        device=device, retrain=retrain)
