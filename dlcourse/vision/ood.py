"""Out-of-distribution 28×28 gray images to test what a digit model does off its data (Notes §3.10.2–3.10.3).

:func:`ood_images` makes them deterministically from a seed, offline: geometric shapes, capital letters drawn with
Pillow's default font, gray patches of the bundled photos, and uniform noise.
"""
from __future__ import annotations

import numpy as np
import torch

from .._utils import check_positive_int

__all__ = ["OOD_KINDS", "ood_images"]

OOD_KINDS = ("shapes", "letters", "photos", "noise")


def _shapes(n: int, gen: torch.Generator) -> torch.Tensor:
    """White discs, rings, filled and outlined rectangles on black, random sizes and positions (vectorised)."""
    ii, jj = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    kind = torch.randint(0, 4, (n,), generator=gen)
    cy, cx = (torch.rand(2, n, generator=gen) * 10 + 9)[:, :, None, None]
    r = (torch.rand(n, generator=gen) * 5 + 4)[:, None, None]
    hw = (torch.rand(2, n, generator=gen) * 6 + 3)[:, :, None, None]
    d = ((ii - cy) ** 2 + (jj - cx) ** 2).sqrt()
    disc = d <= r
    ring = (d <= r) & (d >= r - 2)
    box = ((ii - cy).abs() <= hw[0]) & ((jj - cx).abs() <= hw[1])
    inner = ((ii - cy).abs() <= hw[0] - 2) & ((jj - cx).abs() <= hw[1] - 2)
    k = kind[:, None, None]
    img = torch.where(k == 0, disc, torch.where(k == 1, ring, torch.where(k == 2, box, box & ~inner)))
    return img.float()[:, None]


def _letters(n: int, gen: torch.Generator) -> torch.Tensor:
    """Capital letters A–Z in Pillow's default font (22 px), shifted by up to 2 pixels."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=22)
    except TypeError:  # Pillow < 10.1 has only the small bitmap font
        font = ImageFont.load_default()
    glyphs = []
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        img = Image.new("L", (28, 28), 0)
        draw = ImageDraw.Draw(img)
        left, top, right, bottom = draw.textbbox((0, 0), c, font=font)
        draw.text(((28 - (right - left)) / 2 - left, (28 - (bottom - top)) / 2 - top), c, fill=255, font=font)
        glyphs.append(torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0))
    glyphs = torch.stack(glyphs)
    idx = torch.randint(0, 26, (n,), generator=gen)
    shifts = torch.randint(-2, 3, (n, 2), generator=gen)
    out = torch.stack([torch.roll(glyphs[i], tuple(s.tolist()), dims=(0, 1))
                       for i, s in zip(idx, shifts, strict=True)])
    return out[:, None]


def _photos(n: int, gen: torch.Generator) -> torch.Tensor:
    """Gray 28×28 patches cut at random places from five bundled photos (shorter side resized to 112 px)."""
    from ..data import load_photo

    photos = [load_photo(name, size=112, gray=True)[0] for name in ("camera", "astronaut", "coffee", "chelsea",
                                                                     "rocket")]
    which = torch.randint(0, len(photos), (n,), generator=gen)
    out = []
    for p in which.tolist():
        img = photos[p]
        top = int(torch.randint(0, img.shape[0] - 27, (), generator=gen))
        left = int(torch.randint(0, img.shape[1] - 27, (), generator=gen))
        out.append(img[top:top + 28, left:left + 28])
    return torch.stack(out)[:, None]


def ood_images(kind: str, n: int = 200, seed: int = 0) -> torch.Tensor:
    """``n`` images (n, 1, 28, 28) in [0, 1] that are not digits: ``kind`` one of :data:`OOD_KINDS`.

    ``"shapes"`` (discs, rings, rectangles), ``"letters"`` (A–Z in Pillow's default font), ``"photos"`` (gray patches
    of scikit-image's photos), ``"noise"`` (uniform in [0, 1]). The same ``seed`` gives the same images.
    """
    if kind not in OOD_KINDS:
        raise ValueError(f"kind must be one of {OOD_KINDS}, got {kind!r}")
    n = check_positive_int(n, "n")
    gen = torch.Generator().manual_seed(seed)
    if kind == "noise":
        return torch.rand(n, 1, 28, 28, generator=gen)
    return {"shapes": _shapes, "letters": _letters, "photos": _photos}[kind](n, gen).clamp(0, 1)
