"""Boxes: pairwise intersection over union and conversions between box formats (Notes §3.12)."""
from __future__ import annotations

import torch

from .._utils import check_tensor

__all__ = ["box_iou", "box_area", "xywh_to_xyxy", "cxcywh_to_xyxy", "xyxy_to_cxcywh"]


def _check_boxes(boxes, name: str) -> torch.Tensor:
    check_tensor(boxes, name, ndim=2, floating=True)
    if boxes.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) with (x1, y1, x2, y2) per row, got {tuple(boxes.shape)}")
    return boxes


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas (N,) of boxes (N, 4) in xyxy format: (x2 − x1)·(y2 − y1)."""
    _check_boxes(boxes, "boxes")
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r"""Intersection over union of every box of ``a`` with every box of ``b`` (Notes §3.12).

    .. math:: \mathrm{IoU}(A, B) = \frac{|A \cap B|}{|A \cup B|}

    Args:
        a: (N, 4) boxes ``(x1, y1, x2, y2)`` with x1 ≤ x2, y1 ≤ y2.
        b: (M, 4) boxes in the same format.

    Returns:
        (N, M) tensor; entry (i, j) is IoU(a[i], b[j]), 0 for boxes that do not touch (and for two empty boxes).
    """
    _check_boxes(a, "a")
    _check_boxes(b, "b")
    if a.device != b.device:
        raise ValueError(f"a and b must be on the same device, got {a.device} and {b.device}")
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])            # (N, M, 2)
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]                                      # |A ∩ B|
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter          # |A ∪ B| = |A| + |B| − |A ∩ B|
    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(inter.dtype).tiny), torch.zeros_like(inter))


def xywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """(x, y, w, h) with (x, y) the top-left corner → (x1, y1, x2, y2); shape (..., 4)."""
    check_tensor(boxes, "boxes")
    return torch.cat([boxes[..., :2], boxes[..., :2] + boxes[..., 2:]], dim=-1)


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """(c_x, c_y, w, h) with (c_x, c_y) the centre → (x1, y1, x2, y2); shape (..., 4)."""
    check_tensor(boxes, "boxes")
    half = boxes[..., 2:] / 2
    return torch.cat([boxes[..., :2] - half, boxes[..., :2] + half], dim=-1)


def xyxy_to_cxcywh(boxes: torch.Tensor) -> torch.Tensor:
    """(x1, y1, x2, y2) → (c_x, c_y, w, h); shape (..., 4)."""
    check_tensor(boxes, "boxes")
    return torch.cat([(boxes[..., :2] + boxes[..., 2:]) / 2, boxes[..., 2:] - boxes[..., :2]], dim=-1)
