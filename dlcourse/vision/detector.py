"""Training a :class:`~dlcourse.vision.TinyYOLO` on the synthetic shape scenes, and the cached detector that the
pages on YOLO and non-maximum suppression share (Notes §3.12.1, §3.12.3)."""
from __future__ import annotations

import torch

from .._utils import check_positive_int
from ..cache import cached_model
from ..shapes import make_shapes
from .anchors import kmeans_anchors, wh_iou
from .yolo import TinyYOLO, yolo_loss, yolo_targets

__all__ = ["level_targets", "train_yolo", "shapes_yolo", "SHAPES_TRAIN_SEED", "SHAPES_TEST_SEED"]

SHAPES_TRAIN_SEED, SHAPES_TEST_SEED = 1, 2


def level_targets(net: TinyYOLO, boxes: list, labels: list, anchors: torch.Tensor, image_size: int) -> list:
    """Targets ``(obj, box, cls)`` for each output level of ``net``. ``anchors`` (B, 2) in pixels, sorted by area
    and split over the levels (finest first). Each box goes to the level of its best anchor over ALL anchors
    (YOLOv3's rule), then to the centre cell and that anchor there."""
    best = [wh_iou(b[:, 2:] - b[:, :2], anchors).argmax(1) if len(b) else b.new_zeros(0, dtype=torch.long)
            for b in boxes]
    out, lo = [], 0
    for stride, k in zip(net.strides, net.split, strict=True):
        use = [(bi >= lo) & (bi < lo + k) for bi in best]
        out.append(yolo_targets(boxes, labels, anchors[lo:lo + k] / stride, image_size // stride, image_size,
                                net.num_classes, use=use))
        lo += k
    return out


def train_yolo(net: TinyYOLO, scenes, anchors: torch.Tensor, steps: int, batch_size: int = 32, lr: float = 4e-3,
               seed: int = 0, lambda_coord: float = 5.0, lambda_noobj: float = 0.5, progress: bool = True) -> list:
    """Adam with a one-cycle learning rate on mini-batches drawn from ``scenes`` (random horizontal flips), the
    notes' loss summed over the levels. Returns the loss of every step."""
    from tqdm.auto import tqdm

    steps, batch_size = check_positive_int(steps, "steps"), check_positive_int(batch_size, "batch_size")
    dev = next(net.parameters()).device
    size = scenes.images.shape[-1]
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.2)
    anchors = anchors.to(dev)
    losses = []
    net.train()
    for _ in tqdm(range(steps), desc="training YOLO", disable=not progress, mininterval=2):
        idx = torch.randint(0, len(scenes), (batch_size,), generator=gen).tolist()
        x = scenes.images[idx].to(dev)
        boxes = [scenes.boxes[i].to(dev) for i in idx]
        if bool(torch.rand((), generator=gen) < 0.5):                  # a mirrored scene is a new scene
            x = x.flip(-1)
            boxes = [torch.stack([size - b[:, 2], b[:, 1], size - b[:, 0], b[:, 3]], 1) for b in boxes]
        targets = level_targets(net, boxes, [scenes.labels[i].to(dev) for i in idx], anchors, size)
        loss = sum(yolo_loss(p, *t, anchors[lo:lo + k] / s, lambda_coord, lambda_noobj)
                   for p, t, s, k, lo in zip(net(x), targets, net.strides, net.split,
                                             [sum(net.split[:j]) for j in range(len(net.split))], strict=True))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    net.eval()
    return losses


def shapes_yolo(device: torch.device | str | None = None, fpn: bool = True, steps: int = 600, n_train: int = 2000,
                retrain: bool = False):
    """The course's small YOLO on the shape scenes: 3 IoU k-means anchors; with ``fpn=True`` (default) it predicts,
    like YOLOv3, at two scales (a 16×16 grid for the smallest anchor, an 8×8 grid for the two others, the coarse
    features injected top-down), with ``fpn=False`` on the 8×8 grid only. ``steps`` Adam steps of 32 scenes drawn
    from ``n_train`` training scenes (seed 1). Cached (:func:`dlcourse.cache.cached_model`); ``model.anchors`` holds
    its anchors in pixels and ``model.cache_info["summary"]["losses"]`` every 10th step's loss."""

    def anchors_of(scenes) -> torch.Tensor:
        b = torch.cat(scenes.boxes)
        return kmeans_anchors(b[:, 2:] - b[:, :2], 3, seed=0)

    def build() -> TinyYOLO:
        torch.manual_seed(0)
        net = TinyYOLO(num_classes=3, num_anchors=3, width=16, fpn=fpn, anchors_per_level=1 if fpn else None)
        net.register_buffer("anchors", torch.zeros(3, 2))
        return net

    def train(net: TinyYOLO) -> dict:
        scenes = make_shapes(n_train, seed=SHAPES_TRAIN_SEED)
        anchors = anchors_of(scenes)
        net.anchors.copy_(anchors)
        losses = train_yolo(net, scenes, anchors, steps)
        return {"losses": losses[::10]}

    return cached_model("shapes_yolo_fpn" if fpn else "shapes_yolo", build, train,
                        {"steps": steps, "n_train": n_train, "fpn": fpn}, device=device, retrain=retrain)
