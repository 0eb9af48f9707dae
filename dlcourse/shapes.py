"""Synthetic scenes made on the fly, the same for a seed on every machine: coloured shapes with boxes, labels and
masks (segmentation and detection, Notes §3.11–3.12), and canvases of several MNIST digits (convolutionalization,
Notes §3.11.1).

Re-exported by :mod:`dlcourse.data`. Drawing is vectorised: every object of every image is tested against every pixel
in one broadcast per object slot (at most ``max_objects`` slots), with a seeded CPU :class:`torch.Generator`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ._utils import check_positive_int

__all__ = ["Scenes", "make_shapes", "SHAPE_CLASSES", "make_digit_canvas"]

SHAPE_CLASSES = ("circle", "square", "triangle")
# Several colours, none of which tells the class: the network has to read the shape.
_PALETTE = torch.tensor([[0.95, 0.25, 0.2], [0.2, 0.75, 0.3], [0.25, 0.45, 0.95], [0.95, 0.85, 0.2],
                         [0.85, 0.35, 0.9], [0.2, 0.85, 0.9], [0.98, 0.6, 0.15], [0.9, 0.9, 0.9]])


@dataclass
class Scenes:
    """A batch of shape scenes.

    Attributes:
        images: (N, 3, H, W) float32 in [0, 1].
        masks: (N, H, W) int64: 0 background, ``1 + class`` where a shape is visible (later shapes cover earlier ones).
        boxes: list of N tensors (k_i, 4), float32, xyxy in pixels (x along the columns, y along the rows).
        labels: list of N tensors (k_i,), int64 class indices into :data:`SHAPE_CLASSES`.
    """

    images: torch.Tensor
    masks: torch.Tensor
    boxes: list
    labels: list

    def __len__(self) -> int:
        return len(self.images)

    def to(self, device) -> "Scenes":
        return Scenes(self.images.to(device), self.masks.to(device), [b.to(device) for b in self.boxes],
                      [lab.to(device) for lab in self.labels])


def _inside(kind: torch.Tensor, x0: torch.Tensor, y0: torch.Tensor, s: torch.Tensor, xs: torch.Tensor,
            ys: torch.Tensor) -> torch.Tensor:
    """Which pixel centres (xs, ys) fall inside each shape; parameters (N, K, 1, 1), result (N, K, H, W)."""
    u, v = xs - x0, ys - y0                                          # position inside the s×s bounding square
    in_box = (u >= 0) & (u < s) & (v >= 0) & (v < s)
    r = s / 2
    circle = (u - r) ** 2 + (v - r) ** 2 <= r ** 2
    triangle = (u - r).abs() <= v / 2                                # apex at the top centre, base at the bottom
    return in_box & torch.where(kind == 0, circle, torch.where(kind == 1, torch.ones_like(circle), triangle))


def make_shapes(n: int, size: int = 64, max_objects: int = 6, min_size: int = 4, max_size: int = 24,
                seed: int = 0, min_visible: float = 0.5) -> Scenes:
    """``n`` scenes of 1 to ``max_objects`` circles, squares and triangles on a noisy dark background
    (Notes §3.11–3.12).

    Each shape has a colour from a palette of 8 (colour says nothing about the class) and a side (diameter) drawn
    uniformly in ``[min_size, max_size]`` pixels; shapes may overlap, and a shape of which less than ``min_visible``
    of its pixels would stay visible is left out of the scene. Same arguments, same scenes, on every machine.

    Returns :class:`Scenes`: images (n, 3, size, size), masks (n, size, size), per-image boxes (k, 4) xyxy and labels.
    """
    n, size, max_objects = (check_positive_int(v, name) for v, name in
                            ((n, "n"), (size, "size"), (max_objects, "max_objects")))
    min_size, max_size = check_positive_int(min_size, "min_size"), check_positive_int(max_size, "max_size")
    if not min_size <= max_size <= size:
        raise ValueError(f"need min_size <= max_size <= size, got {min_size}, {max_size}, {size}")
    if not 0.0 <= min_visible <= 1.0:
        raise ValueError(f"min_visible must lie in [0, 1], got {min_visible}")
    gen = torch.Generator().manual_seed(int(seed))
    K = max_objects
    count = torch.randint(1, K + 1, (n, 1), generator=gen)
    present = torch.arange(K)[None] < count                                         # (n, K)
    kind = torch.randint(0, len(SHAPE_CLASSES), (n, K), generator=gen)
    s = torch.randint(min_size, max_size + 1, (n, K), generator=gen).float()
    x0 = (torch.rand(n, K, generator=gen) * (size - s + 1)).floor()
    y0 = (torch.rand(n, K, generator=gen) * (size - s + 1)).floor()
    colour = _PALETTE[torch.randint(0, len(_PALETTE), (n, K), generator=gen)]       # (n, K, 3)
    noise = torch.rand(n, 1, size, size, generator=gen)
    brightness = 0.6 + 0.4 * torch.rand(n, K, 1, generator=gen)

    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")

    def paint(keep: torch.Tensor) -> torch.Tensor:
        """Index of the topmost kept shape at each pixel, -1 for background; (n, H, W). One broadcast per slot."""
        top = torch.full((n, size, size), -1, dtype=torch.int64)
        for k in range(K):
            p = [t[:, k, None, None] for t in (kind, x0, y0, s)]
            top = torch.where(_inside(*p, xs, ys) & keep[:, k, None, None], k, top)
        return top

    area = torch.where(kind == 0, torch.pi * (s / 2) ** 2, torch.where(kind == 1, s * s, s * s / 2))
    keep = present.clone()
    top = paint(keep)
    visible = torch.stack([(top == k).flatten(1).sum(1) for k in range(K)], dim=1)   # (n, K) visible pixels
    keep &= visible >= min_visible * area
    top = paint(keep)                                                               # dropping shapes only uncovers

    kind_at = torch.where(top >= 0, kind.gather(1, top.clamp(min=0).flatten(1)).view_as(top), -1)
    masks = kind_at + 1
    shade = (colour * brightness).gather(1, top.clamp(min=0).flatten(1)[..., None].expand(-1, -1, 3))
    shade = shade.view(n, size, size, 3).permute(0, 3, 1, 2)
    background = 0.08 + 0.12 * noise
    images = torch.where((top >= 0)[:, None], shade, background.expand(-1, 3, -1, -1)).float()

    xyxy = torch.stack([x0, y0, x0 + s, y0 + s], dim=-1)                            # (n, K, 4)
    boxes = [xyxy[i][keep[i]].float() for i in range(n)]
    labels = [kind[i][keep[i]].long() for i in range(n)]
    return Scenes(images.clamp(0, 1), masks.long(), boxes, labels)


def make_digit_canvas(n: int, grid: int = 3, cell: int = 36, seed: int = 0, fill: float = 0.7):
    """``n`` canvases of ``grid``×``grid`` cells, each cell holding a real MNIST-5k test digit (with probability
    ``fill``) at a random offset, for convolutionalization (Notes §3.11.1).

    Returns ``(canvas, boxes, labels)``: canvas (n, 1, grid·cell, grid·cell) in [0, 1]; per canvas, boxes (k, 4) xyxy
    of the 28×28 digit patches and their labels (k,).
    """
    from .data import load_mnist5k

    n, grid, cell = (check_positive_int(v, name) for v, name in ((n, "n"), (grid, "grid"), (cell, "cell")))
    if cell < 28:
        raise ValueError(f"cell must be at least 28 pixels (a digit), got {cell}")
    X, y = load_mnist5k("test")
    gen = torch.Generator().manual_seed(int(seed))
    slots = grid * grid
    pick = torch.randint(0, len(X), (n, slots), generator=gen)
    used = torch.rand(n, slots, generator=gen) < fill
    off = torch.randint(0, cell - 28 + 1, (n, slots, 2), generator=gen)
    H = grid * cell
    canvas = torch.zeros(n, 1, H, H)
    rows, cols = torch.arange(slots) // grid, torch.arange(slots) % grid
    top = rows[None] * cell + off[..., 0]
    left = cols[None] * cell + off[..., 1]
    for k in range(slots):   # one slot of every canvas at a time; cells do not overlap
        r, c = int(rows[k]) * cell, int(cols[k]) * cell
        patch = torch.zeros(n, 1, cell, cell)
        dig = X[pick[:, k]] * used[:, k, None, None, None]
        # each canvas's digit at its own offset inside the cell: read the 28×28 digit through shifted indices
        idx_r = torch.arange(cell)[None] - off[:, k, 0:1]                        # (n, cell)
        idx_c = torch.arange(cell)[None] - off[:, k, 1:2]
        valid = (idx_r >= 0) & (idx_r < 28)
        valid_c = (idx_c >= 0) & (idx_c < 28)
        g = dig[:, 0][torch.arange(n)[:, None, None], idx_r.clamp(0, 27)[:, :, None], idx_c.clamp(0, 27)[:, None, :]]
        patch[:, 0] = g * (valid[:, :, None] & valid_c[:, None, :])
        canvas[:, :, r:r + cell, c:c + cell] = patch
    boxes, labels = [], []
    for i in range(n):
        u = used[i]
        boxes.append(torch.stack([left[i], top[i], left[i] + 28, top[i] + 28], dim=-1)[u].float())
        labels.append(y[pick[i]][u])
    return canvas, boxes, labels
