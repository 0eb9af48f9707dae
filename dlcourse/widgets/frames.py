"""Frames of a live view: one image, a caption and optional scalars per recorded step, stored as 1× uint8 arrays."""
from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import torch

__all__ = ["Frame", "as_frame", "to_uint8", "png_bytes", "png_data_uri", "data_uri", "even_indices"]


@dataclass
class Frame:
    """One step of a run.

    Attributes:
        image: what to show; any of: a tensor (3, H, W), (1, H, W), (H, W) or (1, 3, H, W) with floats in [0, 1]
            (clipped) or uint8 values; a NumPy array (H, W), (H, W, 3), (H, W, 4) (alpha dropped) or (3, H, W), float
            in [0, 1] or uint8. :func:`as_frame` converts it to a uint8 array (H, W) or (H, W, 3).
        caption: a line of text shown under the image ("step 20, loss 0.31").
        scalars: numbers recorded at this step, e.g. ``{"loss": 0.31}``; each key becomes a curve.
        step: index of the step in the run (filled in by the view when the generator leaves it ``None``).
    """

    image: Any
    caption: str = ""
    scalars: dict[str, float] = field(default_factory=dict)
    step: int | None = None

    @property
    def height(self) -> int:
        return int(np.asarray(self.image).shape[0])

    @property
    def width(self) -> int:
        return int(np.asarray(self.image).shape[1])


def to_uint8(image) -> np.ndarray:
    """Convert an image (see :class:`Frame`) to a uint8 array of shape (H, W) or (H, W, 3)."""
    if isinstance(image, torch.Tensor):
        arr = image.detach().to("cpu")
        arr = arr.float().numpy() if arr.dtype != torch.uint8 else arr.numpy()
        if arr.ndim == 4 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim == 3:
            if arr.shape[0] not in (1, 3):
                raise ValueError(
                    f"an image tensor must have shape (3, H, W), (1, H, W) or (H, W), got {tuple(image.shape)}"
                )
            arr = np.moveaxis(arr, 0, -1)
        elif arr.ndim != 2:
            raise ValueError(
                f"an image tensor must have shape (3, H, W), (1, H, W) or (H, W), got {tuple(image.shape)}"
            )
    elif isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4) and arr.shape[0] in (1, 3):
            arr = np.moveaxis(arr, 0, -1)
        if arr.ndim == 3 and arr.shape[-1] == 4:
            arr = arr[..., :3]
        if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (1, 3))):
            raise ValueError(
                f"an image array must have shape (H, W), (H, W, 3), (H, W, 4) or (3, H, W), got {image.shape}"
            )
    else:
        raise TypeError(f"a frame image must be a torch.Tensor or a NumPy array, got {type(image).__name__}")
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"a frame image must have a positive height and width, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.dtype == bool:
        return np.ascontiguousarray(arr.astype(np.uint8) * 255)
    if np.issubdtype(arr.dtype, np.integer):
        if arr.min() < 0 or arr.max() > 255:
            raise ValueError(f"an integer image must hold values in 0..255, got {arr.min()}..{arr.max()}")
        return np.ascontiguousarray(arr.astype(np.uint8))
    arr = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.ascontiguousarray(np.round(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8))


def as_frame(item) -> Frame:
    """Accept a :class:`Frame`, ``(image, caption)``, ``(image, caption, {name: value})`` or a bare image."""
    if isinstance(item, Frame):
        frame = Frame(item.image, item.caption, dict(item.scalars), item.step)
    elif isinstance(item, tuple):
        if not 1 <= len(item) <= 3:
            raise ValueError(
                f"a frame tuple must be (image, caption) or (image, caption, scalars), got {len(item)} items"
            )
        image, caption, scalars = tuple(item) + ("", {})[len(item) - 1:]
        frame = Frame(image, caption, scalars)
    else:
        frame = Frame(item)
    frame.image = to_uint8(frame.image)
    frame.caption = "" if frame.caption is None else str(frame.caption)
    if not isinstance(frame.scalars, Mapping):
        raise TypeError(f"frame scalars must be a dict {{name: number}}, got {type(frame.scalars).__name__}")
    scalars = {}
    for key, value in frame.scalars.items():
        value = float(value.detach().item() if isinstance(value, torch.Tensor) else value)
        scalars[str(key)] = value
    frame.scalars = scalars
    return frame


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of a uint8 image (H, W) or (H, W, 3)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """``data:image/png;base64,…`` for a uint8 image."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def data_uri(image: np.ndarray, image_format: str = "auto", quality: int = 90) -> str:
    """A data URI for a uint8 image: ``"png"`` (lossless), ``"jpeg"`` (small for photos) or ``"auto"``: PNG up to
    128×128 pixels (small images are enlarged pixel by pixel, where JPEG artefacts would show), JPEG above."""
    if image_format not in ("auto", "png", "jpeg"):
        raise ValueError(f"image_format must be 'auto', 'png' or 'jpeg', got {image_format!r}")
    if image_format == "png" or (image_format == "auto" and image.shape[0] * image.shape[1] <= 128 * 128):
        return png_data_uri(image)
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def even_indices(n: int, k: int) -> list[int]:
    """At most ``k`` indices spread evenly over ``range(n)``, always including the first and the last."""
    if n <= k:
        return list(range(n))
    if k == 1:
        return [n - 1]
    return sorted({int(math.floor(i * (n - 1) / (k - 1) + 0.5)) for i in range(k)})
