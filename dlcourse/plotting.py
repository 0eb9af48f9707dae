"""Figure helpers the pages share: image grids, training curves, decision boundaries, 2-D loss surfaces.

Every helper returns the matplotlib ``Figure`` (or draws on a given ``Axes``) and sets a title and axis labels.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["to_numpy_image", "show_images", "plot_curves", "plot_decision_boundary", "plot_loss_surface"]


def to_numpy_image(img: torch.Tensor | np.ndarray) -> np.ndarray:
    """Turn an image tensor (C, H, W) or (H, W), or an array (H, W[, C]), into an (H, W[, 3]) array for ``imshow``."""
    if isinstance(img, torch.Tensor):
        img = img.detach().float().cpu()
        if img.dim() == 3:
            img = img.permute(1, 2, 0) if img.shape[0] in (1, 3) else img
        img = img.numpy()
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3):
        raise ValueError(f"expected an image of shape (C, H, W), (H, W) or (H, W, C), got {img.shape}")
    return img


def show_images(images, titles: Sequence[str] | None = None, ncols: int = 8, suptitle: str | None = None,
                cmap: str = "gray", size: float = 1.6, vmin: float | None = 0.0, vmax: float | None = 1.0):
    """Show a batch of images (B, C, H, W) or a list of images in a grid; returns the figure."""
    images = list(images)
    n = len(images)
    if n == 0:
        raise ValueError("show_images needs at least one image")
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(to_numpy_image(images[i]), cmap=cmap, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_curves(curves: Mapping[str, Sequence[float]], xlabel: str = "epoch", ylabel: str = "loss",
                title: str | None = None, ax=None, logy: bool = False):
    """Plot named curves (name -> values) on one axes; returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for name, values in curves.items():
        values = np.asarray([float(v) for v in values])
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_decision_boundary(predict: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, y: torch.Tensor,
                           ax=None, title: str | None = None, resolution: int = 200, margin: float = 0.5):
    """Shade the regions where ``predict`` (M, 2) -> (M,) returns each class, and scatter the points (N, 2)."""
    X = torch.as_tensor(X).detach().float().cpu()
    y = torch.as_tensor(y).detach().cpu()
    if X.dim() != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {tuple(X.shape)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    lo, hi = X.min(0).values - margin, X.max(0).values + margin
    gx, gy = torch.meshgrid(torch.linspace(lo[0], hi[0], resolution), torch.linspace(lo[1], hi[1], resolution),
                            indexing="xy")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    with torch.no_grad():
        z = torch.as_tensor(predict(grid)).detach().float().cpu().reshape(gx.shape)
    ax.contourf(gx.numpy(), gy.numpy(), z.numpy(), levels=np.linspace(z.min().item() - 0.5, z.max().item() + 0.5, 3)
                if z.unique().numel() <= 2 else 20, cmap="RdBu", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y.numpy(), cmap="RdBu", edgecolors="k", s=60, vmin=y.min().item(),
               vmax=max(y.max().item(), y.min().item() + 1))
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_loss_surface(loss: Callable[[torch.Tensor], torch.Tensor], xlim: tuple[float, float],
                      ylim: tuple[float, float], trajectories: Mapping[str, Sequence] | None = None, ax=None,
                      title: str | None = None, resolution: int = 200, levels: int = 30, logscale: bool = True):
    """Contours of a 2-D loss ``loss`` (M, 2) -> (M,) with optional named trajectories (each (T, 2)) on top."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    gx, gy = torch.meshgrid(torch.linspace(*xlim, resolution), torch.linspace(*ylim, resolution), indexing="xy")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    with torch.no_grad():
        z = torch.as_tensor(loss(grid)).detach().float().reshape(gx.shape).numpy()
    if logscale:
        z = np.log10(z - z.min() + 1e-3)
    ax.contour(gx.numpy(), gy.numpy(), z, levels=levels, cmap="viridis", linewidths=0.8)
    for name, path in (trajectories or {}).items():
        path = np.asarray(torch.as_tensor(np.asarray(path, dtype=np.float32)))
        ax.plot(path[:, 0], path[:, 1], "o-", ms=2.5, lw=1.2, label=name)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    if title:
        ax.set_title(title)
    if trajectories:
        ax.legend(fontsize=8)
    return ax
