"""The sample judge: how many generated digits a classifier would call a digit, and which ones (Notes §4).

A plain digit CNN is no judge: it is confident on pure noise. The judge is a :class:`~dlcourse.vision.DigitCNN` with
an eleventh class, "not a digit", trained on the MNIST-5k training digits and on images that are not digits (uniform
and Gaussian noise, smooth blobs, strokes at random, digits with their pixels shuffled) and with *mixup* between two
digits, whose soft label teaches it to doubt a blend. It ships trained (``dlcourse/checkpoints/judge.pt``, made by
``scripts/train_judge.py``, sha256-checked), so every page scores its samples with the same weights.

:func:`judge_score` turns its verdicts into the two numbers the generative pages report: the share of samples judged
confidently as some digit, and the number of digit classes among them (a model that draws only ones covers one).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._utils import check_tensor
from ..cache import shipped_checkpoint
from ..vision.small_cnn import DigitCNN

__all__ = ["judge", "judge_score", "JudgeScore", "non_digits", "train_judge", "NOT_A_DIGIT"]

NOT_A_DIGIT = 10


def non_digits(n: int, digits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``n`` images (n, 1, 28, 28) in [0, 1] that are not digits: uniform noise, Gaussian noise, smooth blobs,
    random strokes, and ``digits`` with their pixels shuffled (the same ink, no shape)."""
    kinds = torch.randint(0, 5, (n,), generator=generator)
    out = torch.rand(n, 1, 28, 28, generator=generator)                                          # 0: uniform
    gauss = (0.5 + 0.25 * torch.randn(n, 1, 28, 28, generator=generator)).clamp(0, 1)
    out = torch.where((kinds == 1).view(-1, 1, 1, 1), gauss, out)                                # 1: Gaussian
    coarse = torch.rand(n, 1, 7, 7, generator=generator) ** 3
    blobs = F.interpolate(coarse, size=(28, 28), mode="bicubic", align_corners=False).clamp(0, 1)
    out = torch.where((kinds == 2).view(-1, 1, 1, 1), blobs, out)                                # 2: blobs
    # 3: strokes: a few random line segments drawn as distance fields
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    grid = torch.stack([xx, yy], -1).view(1, 1, 28, 28, 2)
    ends = torch.rand(n, 3, 2, 2, generator=generator) * 24 + 2                                  # 3 segments
    a, b = ends[:, :, 0].view(n, 3, 1, 1, 2), ends[:, :, 1].view(n, 3, 1, 1, 2)
    ab = b - a
    t = (((grid - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-6)).clamp(0, 1)
    dist = (grid - (a + t.unsqueeze(-1) * ab)).norm(dim=-1)                                      # (n, 3, 28, 28)
    strokes = (1.6 - dist).clamp(0, 1).amax(1, keepdim=True)
    out = torch.where((kinds == 3).view(-1, 1, 1, 1), strokes, out)
    # 4: shuffled digits
    pick = digits[torch.randint(0, len(digits), (n,), generator=generator)].view(n, -1)
    perm = torch.argsort(torch.rand(n, 784, generator=generator), dim=1)
    shuffled = pick.gather(1, perm).view(n, 1, 28, 28)
    return torch.where((kinds == 4).view(-1, 1, 1, 1), shuffled, out)


def train_judge(model: DigitCNN, X: torch.Tensor, y: torch.Tensor, epochs: int = 12, seed: int = 0,
                progress: bool = True) -> list[float]:
    """Train the judge in place on digits ``X`` (N, 1, 28, 28), labels ``y`` (N,): each batch is a third plain
    digits (shifted by up to 2 pixels), a third mixup of two digits (soft labels), a third non-digits (class 10).
    Returns the loss per epoch."""
    from tqdm.auto import tqdm

    dev = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    batch = 96
    steps = epochs * math.ceil(len(X) / (batch // 3))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    losses = []
    for _ in tqdm(range(epochs), desc="training the judge", disable=not progress, leave=False):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(X), generator=gen).split(batch // 3):
            k = len(idx)
            digits = X[idx]
            dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()
            digits = torch.roll(digits, shifts=(dy, dx), dims=(2, 3))
            target = F.one_hot(y[idx], 11).float()
            other = torch.randint(0, len(X), (k,), generator=gen)
            lam = torch.rand(k, generator=gen).mul(0.6).add(0.2).view(-1, 1)                 # λ in [0.2, 0.8]
            mixed = lam.view(-1, 1, 1, 1) * X[idx] + (1 - lam.view(-1, 1, 1, 1)) * X[other]
            mixed_target = lam * target + (1 - lam) * F.one_hot(y[other], 11).float()
            noise = non_digits(k, X, gen)
            noise_target = F.one_hot(torch.full((k,), NOT_A_DIGIT), 11).float()
            xb = torch.cat([digits, mixed, noise]).to(dev)
            tb = torch.cat([target, mixed_target, noise_target]).to(dev)
            loss = torch.sum(-tb * F.log_softmax(model(xb), dim=1), dim=1).mean()   # cross-entropy, soft labels
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * k
        losses.append(total / len(X))
    return losses


_JUDGE: dict[str, nn.Module] = {}


def judge(device: torch.device | str | None = None) -> DigitCNN:
    """The shipped, trained judge in eval mode on ``device`` (``None``: :func:`dlcourse.device`): logits (N, 11),
    classes 0–9 the digits and 10 "not a digit"."""
    from .._utils import device as default_device

    dev = torch.device(device) if device is not None else default_device()
    key = str(dev)
    if key not in _JUDGE:
        model = DigitCNN(num_classes=11)
        model.load_state_dict(shipped_checkpoint("judge")["state_dict"])
        _JUDGE[key] = model.to(dev).eval()
    return _JUDGE[key]


@dataclass
class JudgeScore:
    """The judge's verdict on a batch: ``confident`` share judged confidently as some digit, ``classes`` the number
    of digit classes among those, ``counts`` per digit, ``labels`` (N,) the digit or −1, ``confidence`` (N,) the top
    digit probability."""

    confident: float
    classes: int
    counts: list[int]
    labels: torch.Tensor
    confidence: torch.Tensor
    threshold: float

    def __str__(self) -> str:
        return (f"{100 * self.confident:.1f} % judged confidently (p ≥ {self.threshold:g}) as a digit, "
                f"{self.classes} of 10 classes covered")


@torch.no_grad()
def judge_score(images: torch.Tensor, threshold: float = 0.9, device: torch.device | str | None = None,
                batch_size: int = 500) -> JudgeScore:
    """Score ``images`` (N, 1, H, W) in [0, 1] (resized to 28×28 when H, W differ): a sample counts when the judge
    gives one digit a probability ≥ ``threshold``."""
    check_tensor(images, "images", ndim=4, floating=True)
    if images.shape[1] != 1 or len(images) == 0:
        raise ValueError(f"images must have shape (N, 1, H, W) with N ≥ 1, got {tuple(images.shape)}")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")
    lo, hi = images.min().item(), images.max().item()
    if lo < -1e-3 or hi > 1 + 1e-3:
        raise ValueError(f"images must hold values in [0, 1], got {lo:.3f}..{hi:.3f} (map them to [0, 1] first)")
    net = judge(device if device is not None else images.device)
    dev = next(net.parameters()).device
    probs = []
    for chunk in images.split(batch_size):
        x = chunk.to(dev).clamp(0, 1)
        if x.shape[-2:] != (28, 28):
            x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False, antialias=True)
        probs.append(net(x).softmax(dim=1).cpu())
    p = torch.cat(probs)[:, :NOT_A_DIGIT]
    confidence, digit = p.max(dim=1)
    labels = torch.where(confidence >= threshold, digit, torch.full_like(digit, -1))
    counts = torch.bincount(labels[labels >= 0], minlength=10).tolist()
    return JudgeScore(confident=float((labels >= 0).float().mean()), classes=int(sum(c > 0 for c in counts)),
                      counts=counts, labels=labels, confidence=confidence, threshold=threshold)
