"""YOLOv3 in small (Notes §3.12.1): the prediction tensor S×S×B×(5+C), decoding, target assignment, the notes' loss,
a tiny network for 64-pixel scenes, and detections after non-maximum suppression.
"""
from __future__ import annotations

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor
from .anchors import wh_iou
from .boxes import cxcywh_to_xyxy
from .nms import batched_nms

__all__ = ["yolo_decode", "yolo_targets", "yolo_loss_parts", "yolo_loss", "TinyYOLO", "yolo_detect", "to_grid"]


def to_grid(raw: torch.Tensor, num_anchors: int) -> torch.Tensor:
    """A head's output (N, B·(5+C), S, S) as the prediction tensor (N, S, S, B, 5+C), indexed [n, row, col, anchor]."""
    check_tensor(raw, "raw", ndim=4)
    n, ch, s_h, s_w = raw.shape
    if ch % num_anchors:
        raise ValueError(f"{ch} channels do not split into {num_anchors} anchors of 5 + C values")
    return raw.permute(0, 2, 3, 1).reshape(n, s_h, s_w, num_anchors, ch // num_anchors)


def yolo_decode(t: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    r"""Boxes from the predicted offsets (Notes §3.12.1), in grid units.

    .. math:: b_x = c_x + \sigma(t_x),\quad b_y = c_y + \sigma(t_y),\quad b_w = p_w e^{t_w},\quad b_h = p_h e^{t_h}

    Args:
        t: (N, S, S, B, 4) offsets ``(t_x, t_y, t_w, t_h)`` indexed ``[n, row, col, anchor]``.
        anchors: (B, 2) anchor shapes ``(p_w, p_h)`` in grid units.

    Returns:
        (N, S, S, B, 4) boxes ``(b_x, b_y, b_w, b_h)``: centre and size in grid units, with c_x the column index and
        c_y the row index of the cell.
    """
    check_tensor(t, "t", ndim=5, floating=True)
    check_tensor(anchors, "anchors", ndim=2, floating=True)
    if t.shape[-1] != 4 or anchors.shape != (t.shape[3], 2):
        raise ValueError(f"expected t (N, S, S, B, 4) and anchors (B, 2), got {tuple(t.shape)} and "
                         f"{tuple(anchors.shape)}")
    rows = torch.arange(t.shape[1], device=t.device, dtype=t.dtype).view(1, -1, 1, 1)   # c_y
    cols = torch.arange(t.shape[2], device=t.device, dtype=t.dtype).view(1, 1, -1, 1)   # c_x
    b_x = cols + torch.sigmoid(t[..., 0])
    b_y = rows + torch.sigmoid(t[..., 1])
    b_w = anchors[:, 0].to(t) * torch.exp(t[..., 2])
    b_h = anchors[:, 1].to(t) * torch.exp(t[..., 3])
    return torch.stack([b_x, b_y, b_w, b_h], dim=-1)


def yolo_targets(boxes: list, labels: list, anchors: torch.Tensor, grid_size: int, image_size: int,
                 num_classes: int, use: list | None = None):
    """Targets of one prediction tensor: each ground-truth box is predicted by ONE cell, the one holding its centre,
    and ONE anchor of that cell, the one of highest IoU with the box's shape (Notes §3.12.1, training).

    Args:
        boxes: per image a (k, 4) tensor of xyxy boxes in pixels.
        labels: per image a (k,) tensor of class indices.
        anchors: (B, 2) anchors (p_w, p_h) in grid units.
        grid_size: S; a cell is ``image_size / S`` pixels.
        image_size: side of the (square) images in pixels.
        num_classes: C.
        use: optional per image a (k,) bool tensor: the boxes this prediction tensor is responsible for (a feature
            pyramid gives each box to one level).

    Returns:
        ``(obj, box, cls)``: obj (N, S, S, B) bool, the responsible predictions 1^obj_ij; box (N, S, S, B, 4) the target
        ``(x̂, ŷ, ŵ, ĥ)`` (centre and size) in grid units; cls (N, S, S, B, C) the one-hot classes p̂(c).
    """
    S, C = check_positive_int(grid_size, "grid_size"), check_positive_int(num_classes, "num_classes")
    if len(boxes) != len(labels):
        raise ValueError(f"boxes and labels must list the same images, got {len(boxes)} and {len(labels)}")
    check_tensor(anchors, "anchors", ndim=2, floating=True)
    n, B, dev = len(boxes), anchors.shape[0], anchors.device
    obj = torch.zeros(n, S, S, B, dtype=torch.bool, device=dev)
    box = torch.zeros(n, S, S, B, 4, device=dev)
    cls = torch.zeros(n, S, S, B, C, device=dev)
    if n == 0:
        return obj, box, cls
    img = torch.cat([torch.full((len(b),), i, dtype=torch.long) for i, b in enumerate(boxes)]).to(dev)
    xyxy = torch.cat([b.reshape(-1, 4) for b in boxes]).to(dev).float()
    lab = torch.cat([lab.reshape(-1) for lab in labels]).to(dev).long()
    if use is not None:
        keep = torch.cat([u.reshape(-1) for u in use]).to(dev).bool()
        img, xyxy, lab = img[keep], xyxy[keep], lab[keep]
    cell = image_size / S
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2 / cell                      # (x̂, ŷ) in grid units
    size = (xyxy[:, 2:] - xyxy[:, :2]) / cell                            # (ŵ, ĥ)
    col = centre[:, 0].floor().long().clamp(0, S - 1)                    # c_x: the column of the centre
    row = centre[:, 1].floor().long().clamp(0, S - 1)                    # c_y: its row
    best = wh_iou(size, anchors.float()).argmax(dim=1)                  # the anchor of highest IoU
    obj[img, row, col, best] = True
    box[img, row, col, best] = torch.cat([centre, size], dim=1)
    cls[img, row, col, best] = nn.functional.one_hot(lab, C).float()
    return obj, box, cls


def yolo_loss_parts(pred: torch.Tensor, obj: torch.Tensor, box: torch.Tensor, cls: torch.Tensor,
                    anchors: torch.Tensor, lambda_coord: float = 5.0, lambda_noobj: float = 0.5):
    r"""The notes' localisation and classification losses (Notes §3.12.1), summed over cells and anchors and
    averaged over the images of the batch.

    .. math::
        \mathcal{L}_{loc} = \lambda_{coord}\sum_{i,j} 1^{obj}_{ij}\big[(x_i-\hat x_i)^2 + (y_i-\hat y_i)^2
        + (\sqrt{w_i}-\sqrt{\hat w_i})^2 + (\sqrt{h_i}-\sqrt{\hat h_i})^2\big]

        \mathcal{L}_{cls} = \sum_{i,j}\big(1^{obj}_{ij} + \lambda_{noobj}(1-1^{obj}_{ij})\big)(C_{ij}-\hat C_{ij})^2
        + \sum_{i,j} 1^{obj}_{ij}\sum_c (p_{ij}(c)-\hat p_{ij}(c))^2

    Args:
        pred: (N, S, S, B, 5 + C) raw predictions ``(t_x, t_y, t_w, t_h, t_o, t_1 … t_C)``; C_ij = σ(t_o) and
            p_ij(c) = σ(t_c) (YOLOv3's independent sigmoids, not a softmax).
        obj, box, cls: the targets of :func:`yolo_targets`; Ĉ_ij = 1^obj_ij.
        anchors: (B, 2) in grid units.

    Returns:
        ``(loc, cls_loss)``, two scalars.

    The class term is per responsible (cell, anchor) pair, as YOLOv3 predicts classes per anchor.
    """
    check_tensor(pred, "pred", ndim=5, floating=True)
    if pred.shape[:4] != obj.shape or pred.shape[-1] != 5 + cls.shape[-1]:
        raise ValueError(f"pred {tuple(pred.shape)} does not match targets obj {tuple(obj.shape)}, "
                         f"cls {tuple(cls.shape)}")
    n = pred.shape[0]
    m = obj.to(pred.dtype)
    xywh = yolo_decode(pred[..., :4], anchors)
    sq = ((xywh[..., 0] - box[..., 0]) ** 2 + (xywh[..., 1] - box[..., 1]) ** 2
          + (xywh[..., 2].sqrt() - box[..., 2].sqrt()) ** 2 + (xywh[..., 3].sqrt() - box[..., 3].sqrt()) ** 2)
    loc = lambda_coord * (m * sq).sum()
    conf = torch.sigmoid(pred[..., 4])
    conf_term = ((m + lambda_noobj * (1 - m)) * (conf - m) ** 2).sum()
    class_term = (m[..., None] * (torch.sigmoid(pred[..., 5:]) - cls) ** 2).sum()
    return loc / n, (conf_term + class_term) / n


def yolo_loss(pred, obj, box, cls, anchors, lambda_coord: float = 5.0, lambda_noobj: float = 0.5) -> torch.Tensor:
    """L = L_loc + L_cls (Notes §3.12.1); see :func:`yolo_loss_parts`."""
    loc, cls_loss = yolo_loss_parts(pred, obj, box, cls, anchors, lambda_coord, lambda_noobj)
    return loc + cls_loss


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.1))


class TinyYOLO(nn.Module):
    """A small fully convolutional YOLO for 64-pixel scenes: three 2× poolings (stride 8, an 8×8 grid), then a 1×1
    convolution to B·(5 + C) channels per cell.

    With ``fpn=True`` it also predicts on a 16×16 grid (stride 4), whose features get the coarse level's features
    upsampled and added (top-down injection, Notes §3.12.2); ``anchors_per_level`` then says how many of the anchors
    (sorted by area, the small ones first) the fine level takes.

    ``forward`` returns a list of prediction tensors (N, S, S, B_level, 5 + C), the finest level first.
    """

    def __init__(self, num_classes: int = 3, num_anchors: int = 3, width: int = 16, fpn: bool = False,
                 anchors_per_level: int | None = None) -> None:
        super().__init__()
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.num_anchors = check_positive_int(num_anchors, "num_anchors")
        w = check_positive_int(width, "width")
        self.fpn = bool(fpn)
        fine = (anchors_per_level if anchors_per_level is not None else num_anchors // 2) if fpn else 0
        if fpn and not 0 < fine < num_anchors:
            raise ValueError(f"anchors_per_level must lie in 1..{num_anchors - 1}, got {fine}")
        self.split = (fine, num_anchors - fine) if fpn else (num_anchors,)
        self.strides = (4, 8) if fpn else (8,)
        out = 5 + num_classes
        self.stem = nn.Sequential(_block(3, w), nn.MaxPool2d(2), _block(w, 2 * w), nn.MaxPool2d(2),
                                  _block(2 * w, 2 * w))                                      # stride 4
        self.down = nn.Sequential(nn.MaxPool2d(2), _block(2 * w, 4 * w), _block(4 * w, 4 * w))  # stride 8
        self.head8 = nn.Conv2d(4 * w, self.split[-1] * out, 1)
        if fpn:
            self.lateral = nn.Conv2d(2 * w, 4 * w, 1)
            self.smooth = _block(4 * w, 2 * w)
            self.head4 = nn.Conv2d(2 * w, self.split[0] * out, 1)

    def forward(self, x: torch.Tensor) -> list:
        c4 = self.stem(x)
        c8 = self.down(c4)
        outs = [to_grid(self.head8(c8), self.split[-1])]
        if self.fpn:
            top_down = nn.functional.interpolate(c8, scale_factor=2, mode="nearest")   # inject the coarse level
            p4 = self.smooth(self.lateral(c4) + top_down)
            outs.insert(0, to_grid(self.head4(p4), self.split[0]))
        return outs


@torch.no_grad()
def yolo_detect(preds: list, anchors: torch.Tensor, image_size: int, split: tuple | None = None,
                conf_threshold: float = 0.05, iou_threshold: float = 0.5, max_detections: int = 100) -> list:
    """Detections from prediction tensors: decode, score = objectness × class probability, per-class NMS.

    Args:
        preds: list of (N, S, S, B_l, 5 + C) raw prediction tensors (one per level).
        anchors: (sum B_l, 2) anchors in PIXELS, split over the levels in order (``split`` gives the counts).
        image_size: side of the images in pixels.

    Returns:
        per image a dict ``{"boxes": (k, 4) xyxy pixels, "scores": (k,), "labels": (k,)}``, best first.
    """
    split = split or tuple(p.shape[3] for p in preds)
    per_level = torch.split(anchors, list(split))
    all_boxes, all_scores, all_labels = [], [], []
    for p, anc in zip(preds, per_level, strict=True):
        cell = image_size / p.shape[1]
        xywh = yolo_decode(p[..., :4], anc / cell) * cell                    # grid units → pixels
        probs = torch.sigmoid(p[..., 4:5]) * torch.sigmoid(p[..., 5:])       # P(object) · P(class | object)
        score, label = probs.max(dim=-1)
        n = p.shape[0]
        all_boxes.append(cxcywh_to_xyxy(xywh).reshape(n, -1, 4))
        all_scores.append(score.reshape(n, -1))
        all_labels.append(label.reshape(n, -1))
    boxes, scores, labels = (torch.cat(t, dim=1) for t in (all_boxes, all_scores, all_labels))
    out = []
    for b, s, lab in zip(boxes, scores, labels, strict=True):      # images carry different numbers of detections
        keep = s > conf_threshold
        b, s, lab = b[keep], s[keep], lab[keep]
        idx = batched_nms(b, s, lab, iou_threshold)[:max_detections]
        out.append({"boxes": b[idx], "scores": s[idx], "labels": lab[idx]})
    return out
