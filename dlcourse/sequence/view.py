"""An attention view (Notes §5.3): the attention weights of a trained character model over an input text, one frame
per (layer, head), as a heat map whose axes are the characters themselves, with one query's weights highlighted on
the text.

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


def attention_heatmap(weights: torch.Tensor, text: str, title: str = "", cell: int = 9,
                      query: int | None = None) -> np.ndarray:
    """Render one (n, n) attention matrix as an RGB uint8 image: row i (a query, the character read) and column j
    (a key, the character attended to) form a square coloured by the weight (dark: 0, bright: the largest weight of
    the row), and the characters label the rows (left) and the columns (top; a space is drawn as _, a newline as /).

    With ``query`` (a row index), that row is outlined and, under the map, the text is written once more with every
    character highlighted by how much the query attends to it (white: 0, orange: the row's largest weight).
    Drawn with PIL: milliseconds."""
    from matplotlib import colormaps
    from PIL import Image, ImageDraw, ImageFont

    w = torch.as_tensor(weights).float()
    n = len(text)
    if w.shape != (n, n):
        raise ValueError(f"weights must have shape ({n}, {n}) for a text of {n} characters, got {tuple(w.shape)}")
    if query is not None and not 0 <= query < n:
        raise ValueError(f"query must be a row index in [0, {n - 1}], got {query}")
    relative = w / w.max(1, keepdim=True).values.clamp_min(1e-6)                      # each row scaled to its max
    rgb = colormaps["magma"](relative.numpy())[..., :3]
    grid = np.repeat(np.repeat((rgb * 255).astype(np.uint8), cell, 0), cell, 1)
    top = 14 + (14 if title else 0)
    left = 12
    strip = 0 if query is None else 2 * cell + 6
    img = Image.new("RGB", (left + n * cell + 2, top + n * cell + 2 + strip), "white")
    img.paste(Image.fromarray(grid), (left, top))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    if title:
        draw.text((left, 1), title, fill="black", font=font)
    for k, c in enumerate(text):
        label = "_" if c == " " else ("/" if c == "\n" else c)
        draw.text((left + k * cell + 1, top - 12), label, fill="black", font=font)
        draw.text((2, top + k * cell - 2), label, fill="black", font=font)
    if query is not None:
        draw.rectangle([left - 1, top + query * cell - 1, left + n * cell, top + (query + 1) * cell], outline="cyan")
        y = top + n * cell + 6
        for k, c in enumerate(text):
            a = float(relative[query, k])                               # white → orange with the weight
            shade = (255, int(255 - 90 * a), int(255 - 255 * a))
            draw.rectangle([left + k * cell, y, left + (k + 1) * cell - 1, y + 2 * cell - 2], fill=shade)
            draw.text((left + k * cell + 1, y + 2), "_" if c == " " else ("/" if c == "\n" else c),
                      fill="blue" if k == query else "black", font=font)
    return np.asarray(img)


def attention_view(model, vocab, examples: Sequence[str], title: str = "Attention weights"):
    """A :class:`~dlcourse.widgets.LiveView` of ``model``'s attention: a drop-down of ``examples`` (texts of at most
    ``model.context`` characters) and a query position (counted back from the last character), one frame per
    (layer, head) whose caption names them; the query's row is outlined and its weights highlight the text under the
    map. Every example is precomputed (query: the last character) for the static site."""
    import ipywidgets as W

    from ..widgets import Frame, LiveView

    examples = list(examples)
    if not examples:
        raise ValueError("give at least one example text")

    def run(text, back):
        maps = attention_maps(model, vocab, text)
        L, H = maps.shape[:2]
        q = max(0, len(text) - 1 - int(back))                           # the query row
        for layer in range(L):
            for head in range(H):
                w = maps[layer, head]
                top = int(w[q].argmax())
                entropy = float(-(w[q] * w[q].clamp_min(1e-12).log()).sum())
                caption = (f"layer {layer + 1}, head {head + 1}: {_show(text[q])!r} at position {q + 1} attends "
                           f"most to {_show(text[top])!r} at position {top + 1} (weight {w[q, top]:.2f})")
                yield Frame(attention_heatmap(w, text, f"layer {layer + 1}, head {head + 1}", query=q), caption,
                            {"entropy of the query's weights (nats)": entropy})

    controls = {"text": W.Dropdown(options=examples, value=examples[0], description="example"),
                "back": W.IntSlider(value=0, min=0, max=model.context - 1, description="query: back")}
    return LiveView(run, controls, title=title, max_frames=64, scale=1, image_format="png",
                    presets=[{"text": e} for e in examples[1:]])
