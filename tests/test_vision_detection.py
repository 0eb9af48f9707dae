"""Tests of the detection pieces (Notes §3.12): box IoU, NMS, anchors, YOLO decoding/targets/loss, mAP, scenes."""
import math
import random
import sys
import types

import numpy as np
import pytest
import torch

from dlcourse.data import SHAPE_CLASSES, make_digit_canvas, make_shapes
from dlcourse.vision import (TinyYOLO, average_precision, batched_nms, box_iou, cxcywh_to_xyxy, kmeans_anchors,
                             match_detections, mean_average_precision, nms, wh_iou, xywh_to_xyxy, xyxy_to_cxcywh,
                             yolo_decode, yolo_detect, yolo_loss, yolo_loss_parts, yolo_targets)


def random_boxes(n, gen, size=50.0):
    xy = torch.rand(n, 2, generator=gen, dtype=torch.float64) * size
    wh = torch.rand(n, 2, generator=gen, dtype=torch.float64) * size / 2 + 0.5
    return torch.cat([xy, xy + wh], 1)


def iou_loop(a, b):
    """An independent pairwise IoU, one pair at a time, in plain Python."""
    out = torch.zeros(len(a), len(b), dtype=torch.float64)
    for i, (ax1, ay1, ax2, ay2) in enumerate(a.tolist()):
        for j, (bx1, by1, bx2, by2) in enumerate(b.tolist()):
            iw, ih = max(0.0, min(ax2, bx2) - max(ax1, bx1)), max(0.0, min(ay2, by2) - max(ay1, by1))
            inter = iw * ih
            union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


def nms_loop(boxes, scores, t):
    """The notes' algorithm with Python lists (pop the best, drop IoU > t)."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    iou = iou_loop(boxes, boxes)
    kept = []
    while order:
        p = order.pop(0)
        kept.append(p)
        order = [s for s in order if iou[p, s] <= t]
    return kept


# ------------------------------------------------------------------------------------------------------------ boxes
def test_box_iou_against_a_loop_and_torchvision():
    gen = torch.Generator().manual_seed(0)
    a, b = random_boxes(7, gen), random_boxes(5, gen)
    torch.testing.assert_close(box_iou(a, b), iou_loop(a, b))
    try:
        from torchvision.ops import box_iou as tv_box_iou
    except ImportError:
        return
    torch.testing.assert_close(box_iou(a, b), tv_box_iou(a, b))


def test_box_iou_known_values_and_errors():
    a = torch.tensor([[0.0, 0, 2, 2]])
    b = torch.tensor([[1.0, 1, 3, 3], [2.0, 0, 4, 2], [0.0, 0, 2, 2], [5.0, 5, 6, 6]])
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[1 / 7, 0.0, 1.0, 0.0]]))
    assert box_iou(a, torch.zeros(0, 4)).shape == (1, 0)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        box_iou(torch.zeros(3, 5), a)
    with pytest.raises(TypeError):
        box_iou(torch.zeros(3, 4, dtype=torch.long), a)


def test_box_conversions_round_trip():
    xyxy = torch.tensor([[1.0, 2, 5, 8]])
    assert torch.equal(xyxy_to_cxcywh(xyxy), torch.tensor([[3.0, 5, 4, 6]]))
    assert torch.equal(cxcywh_to_xyxy(xyxy_to_cxcywh(xyxy)), xyxy)
    assert torch.equal(xywh_to_xyxy(torch.tensor([[1.0, 2, 4, 6]])), xyxy)


# ------------------------------------------------------------------------------------------------------------ nms
@pytest.mark.parametrize("seed", range(5))
def test_nms_matches_the_notes_loop_and_torchvision(seed):
    gen = torch.Generator().manual_seed(seed)
    boxes = random_boxes(60, gen, size=30.0)
    scores = torch.randint(0, 8, (60,), generator=gen).double()        # many ties: broken by index
    for t in (0.0, 0.3, 0.5, 0.9):
        assert nms(boxes, scores, t).tolist() == nms_loop(boxes, scores, t)
        try:
            from torchvision.ops import nms as tv_nms
        except ImportError:
            continue
        assert torch.equal(nms(boxes, scores, t), tv_nms(boxes, scores, t))


def test_nms_threshold_is_strict_and_edge_cases():
    boxes = torch.tensor([[0.0, 0, 2, 2], [1.0, 0, 3, 2], [10.0, 10, 11, 11]])   # IoU(0, 1) = 1/3
    scores = torch.tensor([0.9, 0.8, 0.1])
    assert nms(boxes, scores, 1 / 3).tolist() == [0, 1, 2]       # IoU equal to the threshold: kept
    assert nms(boxes, scores, 0.33).tolist() == [0, 2]
    assert nms(torch.zeros(0, 4), torch.zeros(0), 0.5).shape == (0,)
    assert batched_nms(boxes, scores, torch.tensor([0, 1, 0]), 0.1).tolist() == [0, 1, 2]
    with pytest.raises(ValueError):
        nms(boxes, scores[:2], 0.5)


# ------------------------------------------------------------------------------------------------------------ anchors
def test_wh_iou_and_kmeans_anchors():
    torch.testing.assert_close(wh_iou(torch.tensor([[2.0, 2.0]]), torch.tensor([[1.0, 4.0]])),
                               torch.tensor([[2 / 6]]))
    gen = torch.Generator().manual_seed(0)
    # three tight clusters of shapes: k-means with the IoU distance finds them
    centres = torch.tensor([[4.0, 4.0], [10.0, 20.0], [30.0, 12.0]])
    wh = (centres[torch.arange(300) % 3] * (1 + 0.05 * torch.randn(300, 2, generator=gen))).float()
    anchors = kmeans_anchors(wh, 3, seed=0)
    assert anchors.shape == (3, 2)
    torch.testing.assert_close(anchors, centres, atol=0.5, rtol=0.05)
    assert torch.equal(kmeans_anchors(wh, 3, seed=0), anchors)       # deterministic
    # every centre is the mean of the boxes assigned to it by highest IoU (a fixed point of Lloyd's iterations)
    anchors5 = kmeans_anchors(wh, 5, seed=1)
    assign = wh_iou(wh, anchors5).argmax(1)
    for c in range(5):
        if (assign == c).any():
            torch.testing.assert_close(anchors5[c], wh[assign == c].mean(0))
    with pytest.raises(ValueError):
        kmeans_anchors(wh[:2], 3)
    with pytest.raises(ValueError):
        kmeans_anchors(-wh, 3)


# ------------------------------------------------------------------------------------------------------------ yolo
def test_yolo_decode_formula_rows_and_columns():
    gen = torch.Generator().manual_seed(0)
    t = torch.randn(2, 3, 4, 2, 4, generator=gen)      # non-square grid: rows and columns cannot be swapped
    anchors = torch.tensor([[1.0, 2.0], [3.0, 0.5]])
    out = yolo_decode(t, anchors)
    for n, r, c, b in [(0, 0, 0, 0), (1, 2, 3, 1), (0, 1, 2, 1), (1, 0, 3, 0)]:
        tx, ty, tw, th = t[n, r, c, b].tolist()
        want = [c + 1 / (1 + math.exp(-tx)), r + 1 / (1 + math.exp(-ty)),
                anchors[b, 0].item() * math.exp(tw), anchors[b, 1].item() * math.exp(th)]
        torch.testing.assert_close(out[n, r, c, b], torch.tensor(want))
    with pytest.raises(ValueError):
        yolo_decode(t, anchors[:1])


def test_yolo_targets_centre_cell_and_best_anchor():
    anchors = torch.tensor([[0.5, 0.5], [2.0, 2.0]])                  # grid units, 8-pixel cells
    boxes = [torch.tensor([[10.0, 20.0, 14.0, 24.0], [30.0, 2.0, 50.0, 18.0]])]
    obj, box, cls = yolo_targets(boxes, [torch.tensor([2, 0])], anchors, 8, 64, 3)
    assert obj.sum() == 2
    assert obj[0, 2, 1, 0] and obj[0, 1, 5, 1]       # centre (12, 22) → row 2, col 1; (40, 10) → row 1, col 5
    torch.testing.assert_close(box[0, 2, 1, 0], torch.tensor([1.5, 2.75, 0.5, 0.5]))
    assert cls[0, 2, 1, 0].tolist() == [0, 0, 1] and cls[0, 1, 5, 1].tolist() == [1, 0, 0]


def test_yolo_loss_on_a_hand_made_case():
    """One image, a 2×2 grid, one anchor, one object: the notes' formula evaluated by hand."""
    anchors = torch.tensor([[1.0, 1.0]])
    pred = torch.zeros(1, 2, 2, 1, 5 + 2)            # σ(0) = 0.5 everywhere, e^0 = 1
    obj, box, cls = yolo_targets([torch.tensor([[0.0, 0.0, 16.0, 32.0]])], [torch.tensor([1])], anchors, 2, 32, 2)
    # the object: centre (8, 16) px = (0.5, 1.0) cells → row 1, col 0; size (1, 2) cells
    assert obj[0, 1, 0, 0] and obj.sum() == 1
    loc, cls_loss = yolo_loss_parts(pred, obj, box, cls, anchors)
    # prediction: x = 0 + 0.5, y = 1 + 0.5, w = h = 1
    want_loc = 5 * ((0.5 - 0.5) ** 2 + (1.5 - 1.0) ** 2 + (1 - 1) ** 2 + (1 - math.sqrt(2)) ** 2)
    want_cls = (1 * (0.5 - 1) ** 2 + 3 * 0.5 * (0.5 - 0) ** 2) + ((0.5 - 0) ** 2 + (0.5 - 1) ** 2)
    torch.testing.assert_close(loc, torch.tensor(want_loc))
    torch.testing.assert_close(cls_loss, torch.tensor(want_cls))
    torch.testing.assert_close(yolo_loss(pred, obj, box, cls, anchors), torch.tensor(want_loc + want_cls))


def test_tiny_yolo_shapes_and_detect():
    net = TinyYOLO(3, 3, width=4, fpn=True).eval()
    outs = net(torch.rand(2, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 16, 1, 8), (2, 8, 8, 2, 8)]
    dets = yolo_detect(outs, torch.tensor([[4.0, 4], [10, 10], [20, 20]]), 64)
    assert len(dets) == 2 and dets[0]["boxes"].shape[1] == 4
    assert (dets[0]["scores"][:-1] >= dets[0]["scores"][1:]).all()


# ------------------------------------------------------------------------------------------------------------ mAP
def ap_all_points_loop(scores, tp, n_gt):
    """VOC all-point AP with Python loops."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    tps = fps = 0
    rec, prec = [], []
    for i in order:
        tps += tp[i]
        fps += 1 - tp[i]
        rec.append(tps / n_gt)
        prec.append(tps / (tps + fps))
    mrec, mpre = [0.0] + rec + [1.0], [0.0] + prec + [0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum((mrec[i + 1] - mrec[i]) * mpre[i + 1] for i in range(len(mrec) - 1))


def test_average_precision_all_points_against_a_loop():
    rng = random.Random(0)
    for _ in range(20):
        k = rng.randint(1, 30)
        scores = [rng.random() for _ in range(k)]
        tp = [int(rng.random() < 0.6) for _ in range(k)]
        n_gt = sum(tp) + rng.randint(0, 4)
        if n_gt == 0:
            continue
        ours = average_precision(torch.tensor(scores), torch.tensor(tp, dtype=torch.bool), n_gt)
        assert abs(ours.item() - ap_all_points_loop(scores, tp, n_gt)) < 1e-6
    assert average_precision(torch.tensor([0.9, 0.8]), torch.tensor([True, True]), 2).item() == 1.0
    assert math.isnan(average_precision(torch.zeros(0), torch.zeros(0, dtype=torch.bool), 0).item())


def test_match_detections_greedy_by_score():
    gt = torch.tensor([[0.0, 0, 10, 10]])
    preds = torch.tensor([[0.0, 0, 10, 9], [0.0, 0, 10, 10]])
    tp = match_detections(preds, torch.tensor([0.5, 0.9]), gt, 0.5)
    assert tp.tolist() == [False, True]                   # the higher score takes the object; the other is a duplicate
    assert match_detections(preds, torch.tensor([0.5, 0.9]), gt, 0.95).tolist() == [False, True]


def _random_detections(seed, n_img=12, C=3):
    gen = torch.Generator().manual_seed(seed)
    preds, targets = [], []
    for _ in range(n_img):
        m = int(torch.randint(0, 5, (), generator=gen))
        gt = random_boxes(m, gen, size=40.0).float()
        gl = torch.randint(0, C, (m,), generator=gen)
        # detections: jittered copies of the objects (some with a wrong class) and a few boxes on nothing
        jit = gt + torch.randn(m, 4, generator=gen) * 2
        jit = torch.cat([jit[:, :2], torch.maximum(jit[:, 2:], jit[:, :2] + 0.5)], 1)   # keep x2 > x1, y2 > y1
        extra = random_boxes(int(torch.randint(0, 4, (), generator=gen)), gen, size=40.0).float()
        pb = torch.cat([jit, extra])
        pl = torch.cat([torch.where(torch.rand(m, generator=gen) < 0.8, gl, (gl + 1) % C),
                        torch.randint(0, C, (len(extra),), generator=gen)])
        ps = torch.rand(len(pb), generator=gen)
        preds.append({"boxes": pb, "scores": ps, "labels": pl})
        targets.append({"boxes": gt, "labels": gl})
    return preds, targets


@pytest.mark.parametrize("seed", range(3))
def test_map_equals_pycocotools(seed):
    """COCO's own evaluation (the backend of torchmetrics' MeanAveragePrecision) at one IoU threshold."""
    pytest.importorskip("pycocotools", reason="pycocotools is not installed (pip install pycocotools)")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    import contextlib
    import io

    preds, targets = _random_detections(seed)
    images, anns, dets = [], [], []
    for i, (p, t) in enumerate(zip(preds, targets, strict=True)):
        images.append({"id": i, "width": 64, "height": 64})
        for b, lab in zip(t["boxes"].tolist(), t["labels"].tolist(), strict=True):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": lab, "bbox": [b[0], b[1], w, h],
                         "area": w * h, "iscrowd": 0})
        for b, lab, s in zip(p["boxes"].tolist(), p["labels"].tolist(), p["scores"].tolist(), strict=True):
            dets.append({"image_id": i, "category_id": lab, "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                         "score": s})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": c} for c in range(3)]}
        gt.createIndex()
        dt = gt.loadRes(dets) if dets else COCO()
        ev = COCOeval(gt, dt, "bbox")
        ev.params.iouThrs = np.array([0.5])
        ev.evaluate()
        ev.accumulate()
    prec = ev.eval["precision"][0, :, :, 0, -1]           # (recall thresholds, classes) for area "all", 100 dets
    coco = [prec[:, c].mean() if (prec[:, c] > -1).all() else float("nan") for c in range(3)]
    ours_map, ours = mean_average_precision(preds, targets, 0.5, 3, interpolation="coco", per_class=True)
    np.testing.assert_allclose(ours.numpy(), np.array(coco), atol=1e-6)
    # all-point interpolation is the exact area; COCO samples 101 recalls: close, not equal
    assert abs(mean_average_precision(preds, targets, 0.5, 3).item() - ours_map.item()) < 0.03


def _xyxy_to_xywh(boxes, in_fmt, out_fmt):
    """The one torchvision helper that torchmetrics' MeanAveragePrecision calls (`torchvision.ops.box_convert`)."""
    assert (in_fmt, out_fmt) == ("xyxy", "xywh"), (in_fmt, out_fmt)
    return torch.cat([boxes[..., :2], boxes[..., 2:] - boxes[..., :2]], -1)


@pytest.fixture
def torchmetrics_map(monkeypatch):
    """torchmetrics' MeanAveragePrecision class, running on this CPU torch even where torchvision cannot.

    PyPI's torchvision wheels link against a CUDA libtorch and fail to import beside a CPU build of torch. The metric
    uses torchvision for one thing, converting xyxy boxes to COCO's xywh; where torchvision does not import, that
    conversion is supplied here (a two-line tensor op) and everything else is torchmetrics' and COCO's own code.
    """
    mean_ap = pytest.importorskip("torchmetrics.detection.mean_ap", reason="torchmetrics is not installed")
    try:
        import torchvision.ops  # noqa: F401
    except Exception:  # missing, or a wheel built for another torch (RuntimeError, OSError)
        ops = types.ModuleType("torchvision.ops")
        ops.box_convert = _xyxy_to_xywh
        package = types.ModuleType("torchvision")
        package.ops = ops
        monkeypatch.setitem(sys.modules, "torchvision", package)
        monkeypatch.setitem(sys.modules, "torchvision.ops", ops)
        monkeypatch.setattr(mean_ap, "_TORCHVISION_AVAILABLE", True)
    return mean_ap.MeanAveragePrecision


@pytest.mark.parametrize("backend", ["pycocotools", "faster_coco_eval"])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_map_equals_torchmetrics(torchmetrics_map, backend, seed):
    """torchmetrics.detection.MeanAveragePrecision on the same detections, with both of its COCO backends."""
    pytest.importorskip(backend, reason=f"{backend} is not installed")
    preds, targets = _random_detections(seed)
    metric = torchmetrics_map(iou_thresholds=[0.5], backend=backend, class_metrics=True)
    metric.update(preds, targets)
    ref = metric.compute()
    ours_map, ours = mean_average_precision(preds, targets, 0.5, 3, interpolation="coco", per_class=True)
    assert abs(ours_map.item() - ref["map"].item()) < 1e-6
    np.testing.assert_allclose(ours.numpy(), ref["map_per_class"].numpy(), atol=1e-6)


def test_map_perfect_and_empty():
    t = [{"boxes": torch.tensor([[0.0, 0, 5, 5]]), "labels": torch.tensor([1])}]
    p = [{"boxes": torch.tensor([[0.0, 0, 5, 5]]), "scores": torch.tensor([0.7]), "labels": torch.tensor([1])}]
    assert mean_average_precision(p, t, 0.5).item() == 1.0
    empty = [{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.long)}]
    assert mean_average_precision(empty, t, 0.5).item() == 0.0
    with pytest.raises(ValueError):
        mean_average_precision(p, t + t)


# ------------------------------------------------------------------------------------------------------------ scenes
def test_shapes_are_deterministic_and_consistent():
    a, b = make_shapes(16, seed=3), make_shapes(16, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert all(torch.equal(x, y) for x, y in zip(a.boxes, b.boxes, strict=True))
    assert not torch.equal(a.images, make_shapes(16, seed=4).images)
    assert a.images.shape == (16, 3, 64, 64) and a.masks.shape == (16, 64, 64)
    for img_mask, boxes, labels in zip(a.masks, a.boxes, a.labels, strict=True):
        assert 1 <= len(boxes) <= 6 and len(boxes) == len(labels)
        wh = boxes[:, 2:] - boxes[:, :2]
        assert (wh >= 4).all() and (wh <= 24).all() and (boxes >= 0).all() and (boxes <= 64).all()
        # every object's class shows somewhere inside its box
        for bx, lab in zip(boxes.long().tolist(), labels.tolist(), strict=True):
            assert (img_mask[bx[1]:bx[3], bx[0]:bx[2]] == lab + 1).any()
    assert set(torch.cat(a.labels).tolist()) <= set(range(len(SHAPE_CLASSES)))


def test_digit_canvas():
    canvas, boxes, labels = make_digit_canvas(2, grid=2, cell=30, seed=0, fill=1.0)
    assert canvas.shape == (2, 1, 60, 60) and len(boxes[0]) == 4 and len(labels[0]) == 4
    for bx in boxes[0].long().tolist():
        assert canvas[0, 0, bx[1]:bx[3], bx[0]:bx[2]].sum() > 10       # a digit's ink inside its box
    with pytest.raises(ValueError):
        make_digit_canvas(1, cell=20)
