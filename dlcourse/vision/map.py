"""Mean average precision of a detector (Notes §3.12): greedy matching at an IoU threshold, the precision–recall
curve, and its area with all-point interpolation (Pascal VOC 2010 on) or COCO's 101 recall points."""
from __future__ import annotations

import torch

from .boxes import box_iou

__all__ = ["match_detections", "average_precision", "mean_average_precision"]


def match_detections(pred_boxes: torch.Tensor, pred_scores: torch.Tensor, gt_boxes: torch.Tensor,
                     iou_threshold: float = 0.5) -> torch.Tensor:
    """Which detections of ONE image and ONE class are true positives: (k,) bool, in the order given.

    Detections are visited by decreasing score (ties in input order); each takes the not yet matched ground-truth
    box of highest IoU if that IoU is ≥ ``iou_threshold`` (a true positive), else it is a false positive (a duplicate
    of a matched object, a bad box, or a box on nothing).
    """
    k = pred_boxes.shape[0]
    tp = torch.zeros(k, dtype=torch.bool, device=pred_boxes.device)
    if k == 0 or gt_boxes.shape[0] == 0:
        return tp
    iou = box_iou(pred_boxes, gt_boxes)
    taken = torch.zeros(gt_boxes.shape[0], dtype=torch.bool, device=pred_boxes.device)
    for d in torch.sort(pred_scores, descending=True, stable=True).indices.tolist():   # greedy: order matters
        cand = torch.where(taken, -1.0, iou[d])
        best = int(cand.argmax())
        if cand[best] >= iou_threshold:
            tp[d] = True
            taken[best] = True
    return tp


def average_precision(scores: torch.Tensor, tp: torch.Tensor, n_gt: int, interpolation: str = "all") -> torch.Tensor:
    """Area under the precision–recall curve of one class.

    Args:
        scores: (k,) scores of all detections of the class (over all images).
        tp: (k,) bool, true positives (from :func:`match_detections`).
        n_gt: number of ground-truth boxes of the class.
        interpolation: ``"all"``: all-point interpolation, Σ (r_{i+1} − r_i) · p_interp(r_{i+1}) with
            p_interp(r) = max_{r' ≥ r} p(r'); ``"coco"``: the mean of p_interp at the 101 recalls 0, 0.01, …, 1.

    Returns:
        a 0-d float tensor (NaN when ``n_gt`` is 0).
    """
    if interpolation not in ("all", "coco"):
        raise ValueError(f"interpolation must be 'all' or 'coco', got {interpolation!r}")
    if scores.shape != tp.shape or scores.dim() != 1:
        raise ValueError(f"scores and tp must be (k,) tensors of one shape, got {tuple(scores.shape)} and "
                         f"{tuple(tp.shape)}")
    if n_gt == 0:
        return torch.tensor(float("nan"))
    if scores.numel() == 0:
        return torch.tensor(0.0)
    order = torch.sort(scores.detach().cpu().double(), descending=True, stable=True).indices
    hits = tp.detach().cpu()[order].double()
    tp_cum, fp_cum = hits.cumsum(0), (1 - hits).cumsum(0)
    recall = tp_cum / n_gt
    precision = tp_cum / (tp_cum + fp_cum).clamp(min=1)
    # p_interp(r) = max precision at any recall ≥ r: a running maximum from the right
    p_interp = precision.flip(0).cummax(0).values.flip(0)
    if interpolation == "all":
        r = torch.cat([torch.zeros(1, dtype=torch.double), recall])
        return ((r[1:] - r[:-1]) * p_interp).sum().float()
    thresholds = torch.linspace(0, 1, 101, dtype=torch.double)
    idx = torch.searchsorted(recall, thresholds, side="left")
    q = torch.where(idx < len(recall), p_interp[idx.clamp(max=len(recall) - 1)], torch.zeros_like(thresholds))
    return q.mean().float()


def mean_average_precision(preds: list, targets: list, iou_threshold: float = 0.5, num_classes: int | None = None,
                           interpolation: str = "all", per_class: bool = False):
    """mAP over images and classes (Notes §3.12): the mean over classes (those with ground truth) of the AP.

    Args:
        preds: per image ``{"boxes": (k, 4) xyxy, "scores": (k,), "labels": (k,)}`` (the format of torchmetrics).
        targets: per image ``{"boxes": (m, 4) xyxy, "labels": (m,)}``.
        iou_threshold: a detection is right when it overlaps an unmatched object of its class by IoU ≥ this.
        interpolation: ``"all"`` or ``"coco"`` (see :func:`average_precision`).
        per_class: also return the (C,) per-class APs (NaN for a class without ground truth).

    Returns:
        a 0-d tensor mAP, or ``(mAP, per-class AP)``.
    """
    if len(preds) != len(targets):
        raise ValueError(f"preds and targets must list the same images, got {len(preds)} and {len(targets)}")
    labels_seen = [t["labels"].reshape(-1) for t in targets] + [p["labels"].reshape(-1) for p in preds]
    if num_classes is None:
        num_classes = int(max((int(lab.max()) for lab in labels_seen if lab.numel()), default=-1)) + 1
    scores = [[] for _ in range(num_classes)]
    hits = [[] for _ in range(num_classes)]
    n_gt = [0] * num_classes
    for p, t in zip(preds, targets, strict=True):                # images have different numbers of boxes
        for c in range(num_classes):
            pm, tm = p["labels"] == c, t["labels"] == c
            n_gt[c] += int(tm.sum())
            if pm.any():
                scores[c].append(p["scores"][pm].detach().cpu())
                hits[c].append(match_detections(p["boxes"][pm].detach().cpu().float(), p["scores"][pm].detach().cpu(),
                                                t["boxes"][tm].detach().cpu().float(), iou_threshold))
    ap = torch.stack([average_precision(torch.cat(scores[c]) if scores[c] else torch.zeros(0),
                                        torch.cat(hits[c]) if hits[c] else torch.zeros(0, dtype=torch.bool),
                                        n_gt[c], interpolation) for c in range(num_classes)])
    present = ~ap.isnan()
    m = ap[present].mean() if present.any() else torch.tensor(float("nan"))
    return (m, ap) if per_class else m
