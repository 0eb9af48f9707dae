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


def attention_heatmap(weights: torch.Tensor, text: str, title: str = "", size: float = 4.2) -> np.ndarray:
    """Render one (n, n) attention matrix as an RGB uint8 image: rows are the queries (the characters read), columns
    the keys they attend to, both labelled with the characters (space ␣, newline ↵)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    w = torch.as_tensor(weights).float()
    n = len(text)
    if w.shape != (n, n):
        raise ValueError(f"weights must have shape ({n}, {n}) for a text of {n} characters, got {tuple(w.shape)}")
    fig = plt.Figure(figsize=(size, size), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(w.numpy(), cmap="magma", vmin=0, vmax=max(float(w.max()), 1e-6))
    labels = [_show(c) for c in text]
    ax.set_xticks(range(n), labels, fontsize=7, family="monospace")
    ax.set_yticks(range(n), labels, fontsize=7, family="monospace")
    ax.set_xlabel("key: character attended to", fontsize=8)
    ax.set_ylabel("query: character read", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


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
    return LiveView(run, controls, title=title, max_frames=64, scale=1,
                    presets=[{"text": e} for e in examples[1:]])
