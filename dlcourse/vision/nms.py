"""Non-maximum suppression (Notes §3.12.3)."""
from __future__ import annotations

import torch

from .._utils import check_tensor
from .boxes import box_iou

__all__ = ["nms", "batched_nms"]


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression with the semantics of ``torchvision.ops.nms`` (Notes §3.12.3).

    Sort the boxes by decreasing score (equal scores keep their input order); repeatedly take the first remaining box
    as a detection and drop every remaining box whose IoU with it is **greater than** ``iou_threshold``.

    Args:
        boxes: (N, 4) xyxy boxes.
        scores: (N,) scores.
        iou_threshold: boxes overlapping a kept box by more than this are suppressed.

    Returns:
        int64 tensor (K,) of the kept boxes' indices into ``boxes``, by decreasing score, on the input's device.

    One step per KEPT box, each a tensor operation over all the boxes still in play (the loop runs K times, not N²).
    """
    check_tensor(boxes, "boxes", ndim=2, floating=True)
    check_tensor(scores, "scores", ndim=1)
    if boxes.shape[1] != 4 or scores.shape[0] != boxes.shape[0]:
        raise ValueError(f"expected boxes (N, 4) and scores (N,), got {tuple(boxes.shape)} and {tuple(scores.shape)}")
    if not isinstance(iou_threshold, (int, float)) or isinstance(iou_threshold, bool):
        raise TypeError(f"iou_threshold must be a number, got {type(iou_threshold).__name__}")
    order = torch.sort(scores, descending=True, stable=True).indices    # 1. sort by score; ties by index
    kept = []
    while order.numel() > 0:                                            # 2. while boxes remain
        best = order[0]                                                 # a) pop the first box p
        kept.append(best)                                               # b) p is a detection
        rest = order[1:]
        iou = box_iou(boxes[best][None], boxes[rest])[0]
        order = rest[iou <= iou_threshold]                              # c) remove every s with IoU(p, s) > t
    if not kept:
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)
    return torch.stack(kept).to(torch.int64)


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """NMS per class (the notes' BB_c): boxes of different ``labels`` never suppress each other.

    Shifts each class's boxes by a class-dependent offset so that boxes of different classes cannot overlap, then runs
    :func:`nms` once. Returns kept indices (K,) by decreasing score.
    """
    check_tensor(labels, "labels", ndim=1)
    if labels.shape[0] != boxes.shape[0]:
        raise ValueError(f"labels must have shape ({boxes.shape[0]},), got {tuple(labels.shape)}")
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)
    offset = labels.to(boxes.dtype)[:, None] * (boxes.max() - boxes.min() + 1)
    return nms(boxes + offset, scores, iou_threshold)
