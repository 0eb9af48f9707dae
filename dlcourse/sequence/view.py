"""An attention view (Notes §5.3): the attention weights of a trained character model over an input text, one frame
per (layer, head), as a heat map whose axes are the characters themselves.

Live, the view recomputes the frames for the chosen example; on the static website it shows the precomputed frames
of every example (``LiveView`` presets), switched with a drop-down, without a kernel.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

__all__ = ["attention_maps", "attention_heatmap", "attention_view"]


def _show(c: str) -> str:
    return {" ": "␣", "\n": "↵", "\t": "⇥"}.get(c, c)


@torch.no_grad()
def attention_maps(model, vocab, text: str) -> torch.Tensor:
    """Run ``model`` (a :class:`~dlcourse.sequence.DecoderOnlyLM`) on ``text`` and return its attention weights,
    (num_layers, num_heads, n, n) on the CPU: entry [l, h, i, j] is how much character i attends to character j."""
    if not text or len(text) > model.context:
        raise ValueError(f"text must have 1 to {model.context} characters, got {len(text)}")
    dev = next(model.parameters()).device
    model.eval()
    model(vocab.encode(text)[None].to(dev))
    return model.attention_maps()[:, 0].cpu()


def attention_heatmap(weights: torch.Tensor, text: str, title: str = "", cell: int = 9) -> np.ndarray:
    """Render one (n, n) attention matrix as an RGB uint8 image: row i (a query, the character read) and column j
    (a key, the character attended to) form a square coloured by the weight (dark: 0, bright: the largest weight of
    the row), and the characters label the rows (left) and the columns (top; a space is drawn as _, a newline as /).
    Drawn with PIL: milliseconds."""
    from matplotlib import colormaps
    from PIL import Image, ImageDraw, ImageFont

    w = torch.as_tensor(weights).float()
    n = len(text)
    if w.shape != (n, n):
        raise ValueError(f"weights must have shape ({n}, {n}) for a text of {n} characters, got {tuple(w.shape)}")
    rgb = colormaps["magma"]((w / w.max(1, keepdim=True).values.clamp_min(1e-6)).numpy())[..., :3]   # per row
    grid = np.repeat(np.repeat((rgb * 255).astype(np.uint8), cell, 0), cell, 1)
    top = 14 + (14 if title else 0)
    left = 12
    img = Image.new("RGB", (left + n * cell + 2, top + n * cell + 2), "white")
    img.paste(Image.fromarray(grid), (left, top))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    if title:
        draw.text((left, 1), title, fill="black", font=font)
    for k, c in enumerate(text):
        label = "_" if c == " " else ("/" if c == "\n" else c)
        draw.text((left + k * cell + 1, top - 12), label, fill="black", font=font)
        draw.text((2, top + k * cell - 2), label, fill="black", font=font)
    return np.asarray(img)


def attention_view(model, vocab, examples: Sequence[str], title: str = "Attention weights"):
    """A :class:`~dlcourse.widgets.LiveView` of ``model``'s attention: a drop-down of ``examples`` (texts of at most
    ``model.context`` characters), one frame per (layer, head); every example is precomputed for the static site."""
    import ipywidgets as W

    from ..widgets import Frame, LiveView

    examples = list(examples)
    if not examples:
        raise ValueError("give at least one example text")

    def run(text):
        maps = attention_maps(model, vocab, text)
        L, H = maps.shape[:2]
        for layer in range(L):
            for head in range(H):
                w = maps[layer, head]
                top = int(w[-1].argmax())
                caption = (f"layer {layer + 1}, head {head + 1}: the last character {_show(text[-1])!r} attends most "
                           f"to {_show(text[top])!r} at position {top + 1} (weight {w[-1, top]:.2f})")
                yield Frame(attention_heatmap(w, text, f"layer {layer + 1}, head {head + 1}"), caption,
                            {"entropy of the last row (nats)": float(-(w[-1] * w[-1].clamp_min(1e-12).log()).sum())})

    controls = {"text": W.Dropdown(options=examples, value=examples[0], description="example")}
    return LiveView(run, controls, title=title, max_frames=64, scale=1, image_format="png",
                    presets=[{"text": e} for e in examples[1:]])
