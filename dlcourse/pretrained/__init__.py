"""Pretrained ImageNet networks that load offline: their weights ship inside pip packages and are verified by SHA-256.

- :func:`efficientnet_lite0`: ImageNet classifier (EfficientNet-Lite0), RGB in [0, 1] → 1,000 logits, with named
  intermediate activations (:meth:`EfficientNetLite0.features`). Notes §3.7 (transfer learning), §3.9.
- :func:`vgg16_features`: VGG16's conv stack, RGB in [0, 1] → ``{"conv1_1": …, …, "conv5_3": …}`` (offline: HED's
  VGG16, ImageNet weights fine-tuned for edges; torchvision's ImageNet VGG16 when available). Notes §3.9.3.
- :func:`imagenet_classes`, :func:`top_classes`: class names and readable predictions.
"""
from ._weights import PretrainedWeightsError
from .efficientnet import EfficientNetLite0, efficientnet_lite0
from .imagenet import imagenet_classes, top_classes
from .vgg import VGG16_LAYERS, VGG16Features, vgg16_features

__all__ = [
    "efficientnet_lite0",
    "EfficientNetLite0",
    "vgg16_features",
    "VGG16Features",
    "VGG16_LAYERS",
    "imagenet_classes",
    "top_classes",
    "PretrainedWeightsError",
]
