"""The 1,000 ImageNet (ILSVRC-2012) class names, shipped with the package, and a helper to read predictions."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import torch

from .._utils import check_positive_int, check_tensor

__all__ = ["imagenet_classes", "top_classes"]


@lru_cache(maxsize=1)
def _names() -> tuple[str, ...]:
    text = resources.files(__package__).joinpath("imagenet_classes.txt").read_text(encoding="utf-8")
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(names) != 1000:
        raise RuntimeError(f"imagenet_classes.txt must list 1000 names, found {len(names)}")
    return names


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet class names in the standard index order (0 'tench' … 281 'tabby cat' … 967 'espresso' …
    999 'toilet tissue'): the first WordNet synonym of each class, with the two duplicated names made unique
    ('crane (bird)' 134 / 'crane (machine)' 517, 'maillot' 638 / 'maillot (tank suit)' 639). A new list each call.
    """
    return list(_names())


def top_classes(logits: torch.Tensor, k: int = 5) -> list[list[tuple[str, float]]]:
    """The ``k`` most probable classes of each row of ``logits`` (B, 1000) or (1000,).

    Returns ``[[(name, probability), …], …]``, one list per row, most probable first.
    Probabilities are the softmax of the logits. A 1-D input gives a list with one entry.
    """
    check_tensor(logits, "logits", ndim=(1, 2), floating=True)
    k = check_positive_int(k, "k")
    logits = logits[None] if logits.dim() == 1 else logits
    if logits.shape[1] != 1000:
        raise ValueError(
            f"logits must have 1000 ImageNet classes in the last dimension, got shape {tuple(logits.shape)}"
        )
    if k > 1000:
        raise ValueError(f"k must be at most 1000, got {k}")
    p, idx = logits.detach().float().softmax(1).topk(k, dim=1)
    names = _names()
    return [
        [(names[i], float(q)) for i, q in zip(row_i.tolist(), row_p.tolist(), strict=True)]
        for row_i, row_p in zip(idx, p, strict=True)
    ]
