"""A small conditional U-Net G(x_t, ᾱ_t) that predicts the noise of a diffusion model (Notes §4.4, "a conditional
U-net for denoising works well as the generator").

Two resolutions down and back up (16 → 8 → 4), residual blocks with GroupNorm and SiLU, skip connections by
concatenation, and the signal ratio ᾱ_t fed to every block through a sinusoidal embedding. With ``patch=2`` the
network first folds 2×2 pixels into channels (a stride-2 convolution) and unfolds them at the end (a stride-2
transposed convolution), so a 28 px image (padded to 32) costs what a 16 px one does.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._utils import check_positive_int

__all__ = ["DiffusionUNet", "noise_level_embedding"]


def noise_level_embedding(alpha_bar: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the noise level, shape (B,) → (B, dim).

    The level is τ = 1000 · (2/π) · arccos(√ᾱ) ∈ [0, 1000]: about the timestep t on the cosine schedule, and a
    smooth increasing function of the noise on any schedule, so one network serves every schedule.
    """
    tau = 1000 * (2 / math.pi) * torch.arccos(alpha_bar.clamp(0, 1).sqrt())
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=alpha_bar.device, dtype=tau.dtype) / half)
    angles = tau[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class _ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(min(groups, c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]  # the noise level shifts every channel
        h = self.conv2(self.act(self.norm2(h)))
        return h + self.skip(x)


class DiffusionUNet(nn.Module):
    """ε̂ = G(x_t, ᾱ_t): a U-Net with two down- and two up-sampling stages, conditioned on the signal ratio.

    Args:
        width: channels at full resolution (then 2·width and 2·width below).
        in_channels: image channels.
        emb_dim: size of the noise-level embedding.
        groups: GroupNorm groups (at most the channel count).
        patch: 1 (the U-Net works at the image's resolution) or 2 (at half of it, see the module's docstring).

    Shape:
        - x_t: (B, C, H, W); H and W are padded (by replication) to a multiple of 4·patch and the output cropped
        - alpha_bar: (B,) signal ratios in [0, 1]
        - output: (B, C, H, W), the predicted noise
    """

    def __init__(self, width: int = 16, in_channels: int = 1, emb_dim: int = 64, groups: int = 8, patch: int = 1):
        super().__init__()
        width = check_positive_int(width, "width")
        if patch not in (1, 2):
            raise ValueError(f"patch must be 1 or 2, got {patch!r}")
        self.patch = patch
        self.width, self.emb_dim = width, check_positive_int(emb_dim, "emb_dim")
        w1, w2 = width, 2 * width
        self.emb_mlp = nn.Sequential(nn.Linear(emb_dim, 2 * emb_dim), nn.SiLU(), nn.Linear(2 * emb_dim, emb_dim))
        self.stem = nn.Conv2d(in_channels, w1, 3, padding=1) if patch == 1 else nn.Conv2d(in_channels, w1, 2, stride=2)
        self.down1 = _ResBlock(w1, w1, emb_dim, groups)
        self.pool1 = nn.Conv2d(w1, w1, 3, stride=2, padding=1)
        self.down2 = _ResBlock(w1, w2, emb_dim, groups)
        self.pool2 = nn.Conv2d(w2, w2, 3, stride=2, padding=1)
        self.mid = _ResBlock(w2, w2, emb_dim, groups)
        self.up2 = _ResBlock(w2 + w2, w2, emb_dim, groups)
        self.up1 = _ResBlock(w2 + w1, w1, emb_dim, groups)
        last = (nn.Conv2d(w1, in_channels, 3, padding=1) if patch == 1
                else nn.ConvTranspose2d(w1, in_channels, 2, stride=2))
        self.head = nn.Sequential(nn.GroupNorm(min(groups, w1), w1), nn.SiLU(), last)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x_t: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
        if x_t.dim() != 4:
            raise ValueError(f"x_t must have shape (B, C, H, W), got {tuple(x_t.shape)}")
        H, W = x_t.shape[-2:]
        m = 4 * self.patch
        pad_h, pad_w = -H % m, -W % m
        if pad_h or pad_w:  # 28 → 32: replicate the border, crop it off the output
            x_t = F.pad(x_t, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), mode="replicate")
        alpha_bar = torch.as_tensor(alpha_bar, dtype=x_t.dtype, device=x_t.device)
        if alpha_bar.dim() == 0:
            alpha_bar = alpha_bar.expand(x_t.shape[0])
        if alpha_bar.shape != (x_t.shape[0],):
            raise ValueError(f"alpha_bar must have shape ({x_t.shape[0]},), got {tuple(alpha_bar.shape)}")
        emb = self.emb_mlp(noise_level_embedding(alpha_bar, self.emb_dim))
        h1 = self.down1(self.stem(x_t), emb)               # (B, w, H, W)
        h2 = self.down2(self.pool1(h1), emb)               # (B, 2w, H/2, W/2)
        h = self.mid(self.pool2(h2), emb)                  # (B, 2w, H/4, W/4)
        h = self.up2(torch.cat([self.upsample(h), h2], 1), emb)
        h = self.up1(torch.cat([self.upsample(h), h1], 1), emb)
        out = self.head(h)
        return out[..., pad_h // 2: pad_h // 2 + H, pad_w // 2: pad_w // 2 + W]

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, image_size: int | None = None,
               steps: int = 100, eta="fresh") -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1] drawn by the reverse process (Notes §4.4.2), the interface every generative
        model of the course shares.

        ``generator`` (on the CPU) draws x_T and the seed of the fresh noise; ``image_size`` defaults to the size
        the model was trained at (``self.config``, set by :func:`~dlcourse.generative.diffusion16` and
        :func:`~dlcourse.generative.diffusion28`); ``steps`` and ``eta`` as in :func:`~dlcourse.generative.sample`.
        """
        from .diffusion import sample as reverse_process

        n = check_positive_int(n, "n")
        if image_size is None:
            image_size = getattr(self, "config", {}).get("image_size")
            if image_size is None:
                raise ValueError("image_size is needed: this model has no config recording its training size")
        image_size = check_positive_int(image_size, "image_size")
        channels = self.stem.in_channels
        x_T = torch.randn(n, channels, image_size, image_size, generator=generator)
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        was_training = self.training
        self.eval()
        out = reverse_process(self, n, image_size, steps=steps, eta=eta, seed=seed,
                              device=next(self.parameters()).device, x_T=x_T)
        self.train(was_training)
        return out
