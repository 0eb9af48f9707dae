"""Questions of Part 3.11-3.12, segmentation and detection: box IoU, NMS, YOLO decoding, IoU k-means anchors, mean
IoU and average precision.

The wrong answers are written without the forbidden references (they are graded under the same ban as a student's
answer), with the small helpers of this module.
"""
from __future__ import annotations

import torch

from ...vision.anchors import kmeans_anchors
from ...vision.boxes import box_iou
from ...vision.map import average_precision
from ...vision.nms import nms
from ...vision.segmentation import mean_iou
from ...vision.yolo import yolo_decode
from ..registry import Case, Mistake, Question, register


def _int(gen: torch.Generator, low: int, high: int) -> int:
    return int(torch.randint(low, high + 1, (), generator=gen))


def _boxes(gen: torch.Generator, n: int, size: float = 20.0) -> torch.Tensor:
    """n xyxy boxes on a grid of half pixels (exact IoUs), some overlapping, some apart."""
    xy = torch.randint(0, int(2 * size), (n, 2), generator=gen).float() / 2
    wh = torch.randint(1, int(size), (n, 2), generator=gen).float() / 2
    return torch.cat([xy, xy + wh], 1)


def _iou(a, b, fmt="xyxy", clamp=True, union="ok"):
    """Pairwise IoU with switchable slips (used by the wrong answers)."""
    if fmt == "xywh":
        a = torch.cat([a[:, :2], a[:, :2] + a[:, 2:]], 1)
        b = torch.cat([b[:, :2], b[:, :2] + b[:, 2:]], 1)
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0) if clamp else (rb - lt)
    inter = wh[..., 0] * wh[..., 1]
    area_a = ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]))[:, None]
    area_b = ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[None, :]
    if union == "min":
        den = torch.minimum(area_a, area_b)
    elif union == "sum":
        den = area_a + area_b
    else:
        den = area_a + area_b - inter
    return inter / den


# ---------------------------------------------------------------------------------------------------------------------
# vision.box_iou(a, b) -> (N, M)

def _iou_case(gen: torch.Generator) -> Case:
    return Case(_boxes(gen, _int(gen, 1, 6)), _boxes(gen, _int(gen, 1, 6)))


_A = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 4.0, 3.0]])
_B = torch.tensor([[1.0, 1.0, 3.0, 3.0], [2.0, 0.0, 4.0, 2.0], [5.0, 5.0, 6.0, 7.0], [0.0, 0.0, 2.0, 2.0]])
register(Question(
    qid="vision.box_iou",
    reference=box_iou,
    cases=[Case(_A, _B, label="2 x 4 boxes: overlapping, touching along an edge, apart, identical"),
           Case(_A[:1], _A[:1], label="edge: a box with itself (IoU 1)"),
           Case(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([[3.0, 3.0, 4.0, 4.0], [2.0, -1.0, 5.0, 0.5]]),
                label="edge: boxes far apart (no intersection, not a negative one)"),
           Case(torch.tensor([[0.0, 0.0, 4.0, 4.0]]), torch.tensor([[1.0, 1.0, 2.0, 2.0]]),
                label="a small box inside a big one (IoU 1/16)")],
    random_case=_iou_case,
    mistakes=[
        Mistake("xywh", lambda a, b: _iou(a, b, fmt="xywh"),
                "The boxes are (x1, y1, x2, y2) corners, not (x, y, width, height)."),
        Mistake("no clamp", lambda a, b: _iou(a, b, clamp=False),
                "Boxes that do not overlap have intersection 0: clamp the overlap's width and height at 0 before "
                "multiplying (two negative sides make a positive 'area')."),
        Mistake("union is the sum", lambda a, b: _iou(a, b, union="sum"),
                "|A ∪ B| = |A| + |B| − |A ∩ B|: the sum of the areas counts the intersection twice."),
        Mistake("over the smaller box", lambda a, b: _iou(a, b, union="min"),
                "Divide by the union of the two boxes, not by the smaller box's area."),
    ],
    forbid=("dlcourse.vision.box_iou",),
    rtol=1e-5, atol=1e-6,
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.nms(boxes, scores, iou_threshold) -> kept indices (K,)


def _nms(boxes, scores, iou_threshold, order="desc", strict=True, positions=False):
    if order == "desc":
        idx = torch.sort(scores, descending=True, stable=True).indices
    elif order == "asc":
        idx = torch.sort(scores, stable=True).indices
    else:
        idx = torch.arange(len(scores))
    kept, pos = [], []
    alive = torch.ones(len(idx), dtype=torch.bool)
    for k in range(len(idx)):
        if not alive[k]:
            continue
        kept.append(int(idx[k]))
        pos.append(k)
        iou = _iou(boxes[idx[k]][None], boxes[idx])[0]
        alive &= ~((iou > iou_threshold) if strict else (iou >= iou_threshold))
        alive[k] = False
    return torch.tensor(pos if positions else kept, dtype=torch.int64)


def _nms_case(gen: torch.Generator) -> Case:
    n = _int(gen, 1, 12)
    boxes = _boxes(gen, n, size=10.0)
    scores = torch.randint(0, 6, (n,), generator=gen).float() / 5          # ties happen
    return Case(boxes, scores, [0.0, 0.25, 0.5, 0.7][_int(gen, 0, 3)])


_NB = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 1.0], [1.0, 0.0, 3.0, 2.0], [10.0, 10.0, 12.0, 12.0],
                    [0.0, 0.0, 2.0, 2.0]])
register(Question(
    qid="vision.nms",
    reference=nms,
    cases=[Case(_NB, torch.tensor([0.2, 0.9, 0.6, 0.5, 0.1]), 0.4,
                label="five boxes, scores not in order"),
           Case(_NB[:2], torch.tensor([0.9, 0.8]), 0.5,
                label="edge: IoU exactly equal to the threshold (0.5): the box is kept (only IoU > t is removed)"),
           Case(_NB, torch.tensor([0.5, 0.5, 0.5, 0.5, 0.5]), 0.3, label="edge: equal scores (ties go by index)"),
           Case(_NB, torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5]), 1.0, label="edge: threshold 1 keeps every box"),
           Case(_NB[:1], torch.tensor([0.3]), 0.5, label="edge: one box")],
    random_case=_nms_case,
    mistakes=[
        Mistake("not sorted", lambda boxes, scores, t: _nms(boxes, scores, t, order="none"),
                "Step 1 of the algorithm: visit the boxes by DECREASING score, not in the order given."),
        Mistake("ascending", lambda boxes, scores, t: _nms(boxes, scores, t, order="asc"),
                "Sort by decreasing score: the best box is popped first (torch.sort(..., descending=True))."),
        Mistake(">=", lambda boxes, scores, t: _nms(boxes, scores, t, strict=False),
                "Remove the boxes with IoU > t; a box whose IoU equals t is kept (as torchvision.ops.nms does)."),
        Mistake("sorted positions", lambda boxes, scores, t: _nms(boxes, scores, t, positions=True),
                "Return indices into the ORIGINAL boxes, not positions in the sorted order."),
    ],
    forbid=("dlcourse.vision.nms", "dlcourse.vision.batched_nms"),
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.yolo_decode(t, anchors) -> (N, S, S, B, 4)


def _decode(t, anchors, swap=False, centre="sigmoid", size="exp", offset=True):
    S_r, S_c = t.shape[1], t.shape[2]
    rows = torch.arange(S_r, dtype=t.dtype).view(1, -1, 1, 1)
    cols = torch.arange(S_c, dtype=t.dtype).view(1, 1, -1, 1)
    if swap:   # b_x gets the row index, b_y the column index
        rows = torch.arange(S_c, dtype=t.dtype).view(1, 1, -1, 1)
        cols = torch.arange(S_r, dtype=t.dtype).view(1, -1, 1, 1)
    f = torch.sigmoid if centre == "sigmoid" else (lambda v: v)
    g = torch.exp if size == "exp" else torch.sigmoid
    bx = (cols if offset else 0) + f(t[..., 0])
    by = (rows if offset else 0) + f(t[..., 1])
    return torch.stack([bx, by, anchors[:, 0] * g(t[..., 2]), anchors[:, 1] * g(t[..., 3])], dim=-1)


def _decode_case(gen: torch.Generator) -> Case:
    n, S, B = _int(gen, 1, 2), _int(gen, 2, 5), _int(gen, 1, 3)
    return Case(torch.randn(n, S, S, B, 4, generator=gen), torch.rand(B, 2, generator=gen) * 3 + 0.2)


_T = torch.randn(2, 3, 3, 2, 4, generator=torch.Generator().manual_seed(11))
register(Question(
    qid="vision.yolo_decode",
    reference=yolo_decode,
    cases=[Case(torch.zeros(1, 2, 2, 1, 4), torch.tensor([[1.0, 2.0]]),
                label="t = 0 everywhere: each box sits at its cell's centre with its anchor's size"),
           Case(_T, torch.tensor([[1.0, 1.5], [3.0, 0.5]]), label="2 images, a 3x3 grid, 2 anchors"),
           Case(_T[:1, :, :, :1], torch.tensor([[0.5, 0.5]]), label="one anchor")],
    random_case=_decode_case,
    mistakes=[
        Mistake("rows and columns swapped", lambda t, anchors: _decode(t, anchors, swap=True),
                "t is indexed [n, row, col, anchor]: b_x adds the COLUMN index c_x, b_y the ROW index c_y."),
        Mistake("no sigmoid on the centre", lambda t, anchors: _decode(t, anchors, centre="raw"),
                "b_x = c_x + σ(t_x): the sigmoid keeps the centre inside its cell."),
        Mistake("sigmoid on the size", lambda t, anchors: _decode(t, anchors, size="sigmoid"),
                "b_w = p_w · exp(t_w): the size scales the anchor by an exponential, not a sigmoid."),
        Mistake("no cell offset", lambda t, anchors: _decode(t, anchors, offset=False),
                "The centre is relative to its cell: add the cell's column (c_x) and row (c_y)."),
    ],
    forbid=("dlcourse.vision.yolo_decode",),
    rtol=1e-5, atol=1e-5,
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.kmeans_anchors(wh, k, seed=0) -> (k, 2)


def _kmeans(wh, k, seed=0, dist="iou", update="mean", sort=True, iters=100):
    gen = torch.Generator().manual_seed(seed)
    centres = wh[torch.randperm(len(wh), generator=gen)[:k]].clone()
    assign = None
    for _ in range(iters):
        if dist == "iou":
            inter = (torch.minimum(wh[:, None, 0], centres[None, :, 0])
                     * torch.minimum(wh[:, None, 1], centres[None, :, 1]))
            score = inter / ((wh[:, 0] * wh[:, 1])[:, None] + (centres[:, 0] * centres[:, 1])[None] - inter)
            new = score.argmax(1)
        else:
            new = ((wh[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        if assign is not None and torch.equal(new, assign):
            break
        assign = new
        for c in range(k):
            members = wh[assign == c]
            if len(members):
                centres[c] = members.mean(0) if update == "mean" else members.median(0).values
    return centres[(centres[:, 0] * centres[:, 1]).argsort()] if sort else centres


def _kmeans_case(gen: torch.Generator) -> Case:
    n = _int(gen, 8, 40)
    wh = torch.exp(torch.randn(n, 2, generator=gen) * 0.6 + 2.0)
    return Case(wh, _int(gen, 2, 4), _int(gen, 0, 5))


_g = torch.Generator().manual_seed(5)
_WH = torch.cat([torch.tensor([[4.0, 4.0]]) * (1 + 0.2 * torch.rand(10, 2, generator=_g)),
                 torch.tensor([[12.0, 6.0]]) * (1 + 0.3 * torch.rand(10, 2, generator=_g)),
                 torch.tensor([[30.0, 40.0]]) * (1 + 0.3 * torch.rand(10, 2, generator=_g))])
register(Question(
    qid="vision.kmeans_anchors",
    reference=kmeans_anchors,
    cases=[Case(_WH, 3, 0, label="30 boxes in three groups of shapes, k = 3"),
           Case(_WH, 2, 1, label="the same boxes, k = 2, seed 1"),
           Case(_WH[::3], 4, 2, label="10 boxes, k = 4")],
    random_case=_kmeans_case,
    mistakes=[
        Mistake("Euclidean distance", lambda wh, k, seed=0: _kmeans(wh, k, seed, dist="euclid"),
                "Assign each box to the centre of HIGHEST IoU (distance 1 − IoU), not to the nearest in (w, h)."),
        Mistake("median", lambda wh, k, seed=0: _kmeans(wh, k, seed, update="median"),
                "Move each centre to the MEAN (w, h) of its boxes (k-means), not the median."),
        Mistake("not sorted", lambda wh, k, seed=0: _kmeans(wh, k, seed, sort=False),
                "Return the anchors sorted by area w·h, the smallest first."),
        Mistake("one iteration", lambda wh, k, seed=0: _kmeans(wh, k, seed, iters=1),
                "Repeat assignment and update until no box changes cluster."),
    ],
    forbid=("dlcourse.vision.kmeans_anchors",),
    rtol=1e-4, atol=1e-4,
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.mean_iou(pred, target, num_classes) -> 0-d tensor


def _miou(pred, target, num_classes, absent="skip", den="union", per_image=False):
    if per_image:
        return torch.stack([_miou(p, t, num_classes) for p, t in zip(pred, target, strict=True)]).mean()
    ious = []
    for c in range(num_classes):
        p, t = pred == c, target == c
        inter = (p & t).sum().float()
        if den == "union":
            d = (p | t).sum().float()
        elif den == "accuracy":
            return (pred == target).float().mean()
        else:
            d = p.sum().float() + t.sum().float()
        if d == 0:
            if absent == "zero":
                ious.append(torch.tensor(0.0))
            continue
        ious.append(inter / d)
    return torch.stack(ious).mean()


def _miou_case(gen: torch.Generator) -> Case:
    C, n = _int(gen, 2, 5), _int(gen, 1, 3)
    target = torch.randint(0, C, (n, 6, 6), generator=gen)
    target[target == C - 1] = 0 if _int(gen, 0, 1) else C - 1      # sometimes a class is absent
    noise = torch.randint(0, C - 1, (n, 6, 6), generator=gen)
    pred = torch.where(torch.rand(n, 6, 6, generator=gen) < 0.6, target, noise)
    return Case(pred, target, C)


_t = torch.tensor([[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 0]], [[0, 0, 0, 0], [0, 2, 2, 0], [0, 0, 0, 0]]])
_p = torch.tensor([[[0, 1, 1, 1], [0, 0, 1, 1], [2, 2, 0, 0]], [[0, 0, 0, 0], [0, 2, 0, 0], [0, 0, 0, 0]]])
register(Question(
    qid="vision.mean_iou",
    reference=mean_iou,
    cases=[Case(_p, _t, 3, label="two 3x4 maps, three classes"),
           Case(_p, _t, 4, label="edge: class 3 appears nowhere (left out of the mean)"),
           Case(_t, _t, 3, label="edge: a perfect prediction (mean IoU 1)")],
    random_case=_miou_case,
    mistakes=[
        Mistake("pixel accuracy", lambda pred, target, num_classes: _miou(pred, target, num_classes, den="accuracy"),
                "IoU per class is |pred = c AND target = c| / |pred = c OR target = c|; the share of right pixels "
                "(pixel accuracy) is another metric, dominated by the background."),
        Mistake("absent class counts 0", lambda pred, target, num_classes:
                _miou(pred, target, num_classes, absent="zero"),
                "Leave out a class that is in neither map: it has no IoU (0/0), so it must not pull the mean to 0."),
        Mistake("sum of the areas", lambda pred, target, num_classes: _miou(pred, target, num_classes, den="sum"),
                "The union is |P| + |T| − |P ∩ T|; dividing by |P| + |T| counts the intersection twice."),
        Mistake("mean over images", lambda pred, target, num_classes:
                _miou(pred, target, num_classes, per_image=True),
                "Count intersections and unions over ALL the pixels of the batch, then divide, not one mean IoU per "
                "image averaged."),
    ],
    forbid=("dlcourse.vision.mean_iou",),
    rtol=1e-5, atol=1e-6,
))

# ---------------------------------------------------------------------------------------------------------------------
# vision.average_precision(scores, tp, n_gt) -> 0-d tensor (all-point interpolation)


def _ap(scores, tp, n_gt, interp=True, order="desc", den="gt"):
    idx = torch.sort(scores, descending=True, stable=True).indices if order == "desc" else torch.arange(len(scores))
    hits = tp[idx].double()
    tps, fps = hits.cumsum(0), (1 - hits).cumsum(0)
    recall = tps / (n_gt if den == "gt" else len(scores))
    precision = tps / (tps + fps)
    if interp:
        precision = precision.flip(0).cummax(0).values.flip(0)
    r = torch.cat([torch.zeros(1, dtype=torch.double), recall])
    return ((r[1:] - r[:-1]) * precision).sum().float()


def _ap_case(gen: torch.Generator) -> Case:
    k = _int(gen, 2, 15)
    tp = torch.rand(k, generator=gen) < 0.6
    return Case(torch.rand(k, generator=gen), tp, int(tp.sum()) + _int(gen, 0, 3) or 1)


register(Question(
    qid="vision.average_precision",
    reference=lambda scores, tp, n_gt: average_precision(scores, tp, n_gt),
    cases=[Case(torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5]), torch.tensor([True, False, True, False, True]), 4,
                label="five detections by decreasing score, four objects"),
           Case(torch.tensor([0.3, 0.9, 0.5, 0.8]), torch.tensor([True, False, True, True]), 3,
                label="scores in no order: sort them first"),
           Case(torch.tensor([0.9, 0.8]), torch.tensor([True, True]), 2, label="edge: a perfect detector (AP 1)"),
           Case(torch.tensor([0.9, 0.8, 0.7]), torch.tensor([False, True, True]), 5,
                label="edge: the best-scored detection is wrong, and objects are missed")],
    random_case=_ap_case,
    mistakes=[
        Mistake("no interpolation", lambda scores, tp, n_gt: _ap(scores, tp, n_gt, interp=False),
                "All-point interpolation uses p_interp(r) = max precision at any recall ≥ r (a running maximum "
                "from the right), not the raw precision."),
        Mistake("not sorted", lambda scores, tp, n_gt: _ap(scores, tp, n_gt, order="none"),
                "Sort the detections by DECREASING score before accumulating true and false positives."),
        Mistake("recall over detections", lambda scores, tp, n_gt: _ap(scores, tp, n_gt, den="det"),
                "Recall is TP / (number of ground-truth objects): missed objects count too."),
    ],
    forbid=("dlcourse.vision.average_precision",),
    rtol=1e-5, atol=1e-6,
))
