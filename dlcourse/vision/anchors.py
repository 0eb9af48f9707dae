"""Anchor boxes by k-means on box shapes with 1 − IoU as the distance (Notes §3.12.1, YOLOv2/v3)."""
from __future__ import annotations

import torch

from .._utils import check_positive_int, check_tensor

__all__ = ["wh_iou", "kmeans_anchors"]


def wh_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of box shapes (N, 2) and (M, 2) given as (w, h), the boxes placed with a common centre: (N, M).

    min(w)·min(h) is the intersection of two boxes that share their centre (or a corner).
    """
    check_tensor(a, "a", ndim=2, floating=True)
    check_tensor(b, "b", ndim=2, floating=True)
    if a.shape[1] != 2 or b.shape[1] != 2:
        raise ValueError(f"expected (N, 2) and (M, 2) widths and heights, got {tuple(a.shape)} and {tuple(b.shape)}")
    inter = torch.minimum(a[:, None, 0], b[None, :, 0]) * torch.minimum(a[:, None, 1], b[None, :, 1])
    union = (a[:, 0] * a[:, 1])[:, None] + (b[:, 0] * b[:, 1])[None, :] - inter
    return inter / union.clamp(min=torch.finfo(a.dtype).tiny)


def kmeans_anchors(wh: torch.Tensor, k: int, seed: int = 0, iters: int = 100) -> torch.Tensor:
    """``k`` anchor shapes: k-means on the (w, h) of the training boxes with d(box, centre) = 1 − IoU(box, centre).

    Plain Euclidean k-means lets large boxes dominate (an error of 5 pixels costs a 40-pixel box little and a 5-pixel
    box everything); 1 − IoU is scale-free. Lloyd's iterations: assign every box to the centre of highest IoU, move
    each centre to the mean (w, h) of its boxes (an empty cluster keeps its centre), stop when nothing moves.

    Args:
        wh: (N, 2) positive widths and heights, N ≥ k.
        k: number of anchors.
        seed: seeds the initial centres (``k`` distinct boxes drawn at random).
        iters: maximum number of iterations.

    Returns:
        (k, 2) anchors (p_w, p_h), sorted by area, on the input's device.
    """
    check_tensor(wh, "wh", ndim=2, floating=True)
    k = check_positive_int(k, "k")
    if wh.shape[1] != 2:
        raise ValueError(f"wh must have shape (N, 2) as (w, h), got {tuple(wh.shape)}")
    if wh.shape[0] < k:
        raise ValueError(f"need at least k={k} boxes, got {wh.shape[0]}")
    if (wh <= 0).any():
        raise ValueError("widths and heights must be positive")
    gen = torch.Generator().manual_seed(int(seed))
    centres = wh[torch.randperm(wh.shape[0], generator=gen)[:k].to(wh.device)].clone()
    assign = None
    for _ in range(check_positive_int(iters, "iters")):
        new = wh_iou(wh, centres).argmax(dim=1)                       # nearest centre: smallest 1 − IoU
        if assign is not None and torch.equal(new, assign):
            break
        assign = new
        one_hot = torch.nn.functional.one_hot(assign, k).to(wh.dtype)  # (N, k)
        count = one_hot.sum(0)
        mean = one_hot.T @ wh / count.clamp(min=1)[:, None]
        centres = torch.where(count[:, None] > 0, mean, centres)
    return centres[(centres[:, 0] * centres[:, 1]).argsort()]
