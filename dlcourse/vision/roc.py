r"""ROC curves and the area under them, from scratch (Notes §3.10.3: anomaly detection by reconstruction error).

A score ranks inputs from "normal" (low) to "anomalous" (high). Sweeping a threshold over the scores gives, for each
threshold, the true-positive rate (share of anomalies flagged) and the false-positive rate (share of normal inputs
flagged): the ROC curve. Its area, the ROC AUC, is the probability that a random anomaly scores higher than a random
normal input (ties count one half).
"""
from __future__ import annotations

import torch

from .._utils import check_tensor

__all__ = ["roc_auc", "roc_curve"]


def _check(scores, labels) -> tuple[torch.Tensor, torch.Tensor]:
    check_tensor(scores, "scores", ndim=1)
    check_tensor(labels, "labels", ndim=1)
    if scores.shape != labels.shape:
        raise ValueError(f"scores and labels must have the same shape (N,), got {tuple(scores.shape)} and "
                         f"{tuple(labels.shape)}")
    labels = labels.to(torch.long) if labels.dtype == torch.bool else labels
    if labels.is_floating_point() or not bool(((labels == 0) | (labels == 1)).all()):
        raise ValueError("labels must be 0 (normal) or 1 (anomaly)")
    n_pos = int(labels.sum())
    if n_pos == 0 or n_pos == len(labels):
        raise ValueError(f"labels need both classes, got {n_pos} anomalies among {len(labels)} inputs")
    return scores.double(), labels


def roc_curve(scores: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(fpr, tpr, thresholds)``: one point per distinct score, from the strictest threshold to the loosest, plus
    the point (0, 0) first (threshold +inf). An input is flagged when its score is >= the threshold.

    Shapes: ``scores`` (N,) floats, ``labels`` (N,) 0/1 (1: anomaly); outputs (T + 1,) for T distinct scores.
    """
    scores, labels = _check(scores, labels)
    order = torch.argsort(scores, descending=True)
    s, y = scores[order], labels[order].double()
    tp, fp = torch.cumsum(y, 0), torch.cumsum(1 - y, 0)
    last = torch.ones_like(s, dtype=torch.bool)          # the last position of each run of tied scores
    last[:-1] = s[1:] != s[:-1]
    tp, fp, thr = tp[last], fp[last], s[last]
    zero = s.new_zeros(1)
    tpr = torch.cat([zero, tp / tp[-1]])                 # TPR = TP / P
    fpr = torch.cat([zero, fp / fp[-1]])                 # FPR = FP / N
    return fpr, tpr, torch.cat([s.new_full((1,), float("inf")), thr])


def roc_auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    r"""Area under the ROC curve by the trapezoidal rule, :math:`\sum_t (F_t - F_{t-1})(T_t + T_{t-1})/2`; equal to
    :math:`P(s_{\text{anomaly}} > s_{\text{normal}}) + \tfrac12 P(s_{\text{anomaly}} = s_{\text{normal}})`."""
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2).sum())
