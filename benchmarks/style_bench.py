"""Timing helpers for style transfer (Notes §3.9.3): one optimisation step versus one pass of a transformation net.

``style_step_seconds(size)`` times one Gatys step (forward through VGG16 up to the deepest layer used, backward to
the pixels, Adam update); ``transform_net_seconds(size)`` times one forward pass of :class:`TransformNet`. Both use
random images of ``size``×``size`` pixels, so they need no training and measure cost only.
"""
from __future__ import annotations

import time
from typing import Sequence

import torch

from dlcourse._utils import check_positive_int
from dlcourse.timing import synchronize, timeit
from dlcourse.vision import TransformNet, style_transfer

__all__ = ["style_step_seconds", "transform_net_seconds"]

DEFAULT_STYLE_LAYERS = ("conv1_2", "conv2_2", "conv3_3")
DEFAULT_CONTENT_LAYER = "conv3_3"



def style_step_seconds(size: int = 128, steps: int = 3, device: torch.device | str | None = None,
                       style_layers: Sequence[str] = DEFAULT_STYLE_LAYERS,
                       content_layer: str = DEFAULT_CONTENT_LAYER, features=None) -> float:
    """Median seconds of one style-transfer optimisation step on a ``size``×``size`` image.

    ``features``: the loss network (default: ``dlcourse.pretrained.vgg16_features(device)``). One warm-up step is
    not counted.
    """
    check_positive_int(size, "size")
    check_positive_int(steps, "steps")
    if features is None:
        from dlcourse.pretrained import vgg16_features

        features = vgg16_features(device).requires_grad_(False)
    dev = next(features.parameters()).device
    g = torch.Generator().manual_seed(0)
    content = torch.rand(3, size, size, generator=g).to(dev)
    style = torch.rand(3, size, size, generator=g).to(dev)
    times = []
    run = style_transfer(features, content, style, content_layer, style_layers, steps=steps + 1)
    synchronize(dev)
    t = time.perf_counter()
    for _ in run:  # one frame per step: the time between frames is one step
        synchronize(dev)
        now = time.perf_counter()
        times.append(now - t)
        t = now
    times = sorted(times[2:])  # the first frame comes before any step, the second after the warm-up step
    return times[len(times) // 2]


def transform_net_seconds(size: int = 128, repeats: int = 5, device: torch.device | str | None = None,
                          net: torch.nn.Module | None = None) -> float:
    """Median seconds of one forward pass of the transformation network on one ``size``×``size`` image.

    ``net``: a trained network to time (default: an untrained :class:`TransformNet`, which costs the same).
    """
    check_positive_int(size, "size")
    check_positive_int(repeats, "repeats")
    if net is None:
        from dlcourse import device as default_device

        net = TransformNet().to(default_device() if device is None else torch.device(device)).eval()
    dev = next(net.parameters()).device
    x = torch.rand(1, 3, size - size % 4, size - size % 4, device=dev)
    with torch.no_grad():
        return timeit(lambda: net(x), repeat=repeats, warmup=1, device=dev)
