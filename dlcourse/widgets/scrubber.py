"""A self-contained HTML frame scrubber: frames as PNG data URIs, a range slider, a play button, no external files.

This is what the static website shows for a live view (the browser has no kernel to run it). Notes: used by the
§3.9 and §4.4 pages (gradient ascent, style transfer, diffusion sampling).
"""
from __future__ import annotations

import hashlib
import html
import itertools
import json
from typing import Iterable, Mapping, Sequence

import numpy as np

from .._utils import check_positive_int
from .frames import Frame, as_frame, data_uri, even_indices

__all__ = ["Scrubber", "scrubber_html", "auto_scale"]

_counter = itertools.count()
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd")

_SCRIPT = """(function () {
  var me = document.currentScript;
  var box = me && me.parentNode && me.parentNode.classList.contains("dlcourse-scrubber") ? me.parentNode
          : document.getElementById(%(uid)s);
  if (!box || box.dataset.ready) return;
  box.dataset.ready = "1";
  var data = JSON.parse(box.querySelector("script.dlcourse-scrubber-data").textContent);
  var img = box.querySelector("img"), range = box.querySelector("input[type=range]");
  var cap = box.querySelector(".dlcourse-scrubber-caption"), count = box.querySelector(".dlcourse-scrubber-count");
  var marker = box.querySelector(".dlcourse-scrubber-marker"), play = box.querySelector("button");
  var n = data.frames.length, timer = null;
  function show(k) {
    k = Math.max(0, Math.min(n - 1, k | 0));
    img.src = data.frames[k];
    img.alt = data.alt + ": frame " + (k + 1) + " of " + n;
    img.style.width = data.widths[k] + "px";
    cap.textContent = data.captions[k];
    count.textContent = (k + 1) + " / " + n;
    if (marker && data.marks) { marker.setAttribute("x1", data.marks[k]); marker.setAttribute("x2", data.marks[k]); }
    if (String(range.value) !== String(k)) range.value = String(k);
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } play.textContent = "\\u25B6"; play.setAttribute("aria-label", "Play"); }
  range.addEventListener("input", function () { show(Number(range.value)); });
  range.addEventListener("change", function () { show(Number(range.value)); });
  play.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (Number(range.value) >= n - 1) show(0);
    play.textContent = "\\u275A\\u275A"; play.setAttribute("aria-label", "Pause");
    timer = setInterval(function () {
      var k = Number(range.value) + 1;
      if (k >= n) { stop(); return; }
      show(k);
    }, %(interval)d);
  });
})();"""


def auto_scale(width: int, target: int = 288) -> int:
    """An integer upscaling factor that shows an image ``width`` pixels wide at roughly ``target`` CSS pixels."""
    return max(1, int(round(target / max(1, width))))


def _history_from_frames(frames: Sequence[Frame]) -> dict[str, tuple[list[int], list[float]]]:
    history: dict[str, tuple[list[int], list[float]]] = {}
    for k, f in enumerate(frames):
        step = k if f.step is None else f.step
        for name, value in f.scalars.items():
            history.setdefault(name, ([], []))
            history[name][0].append(step)
            history[name][1].append(value)
    return history


def wants_log_scale(values) -> bool:
    """Curves of very different sizes (a style loss beside a content loss) need a log axis to both be readable."""
    v = np.asarray(list(values), dtype=float)
    v = v[np.isfinite(v)]
    return v.size > 1 and bool((v > 0).all()) and v.max() / v.min() > 100


def _curve_svg(history: Mapping[str, tuple[Sequence[int], Sequence[float]]], frame_steps: Sequence[int],
               width: int = 260, height: int = 150) -> tuple[str, list[float]]:
    """An inline SVG line plot of the recorded scalars, and the x position of each frame's step on it."""
    left, right, top, bottom = 44, 8, 18, 22
    steps = [s for xs, _ in history.values() for s in xs] + list(frame_steps)
    values = np.array([v for _, ys in history.values() for v in ys], dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "", []
    log = wants_log_scale(values)
    tf = np.log10 if log else (lambda v: v)
    s0, s1 = min(steps), max(steps)
    v0, v1 = float(tf(values.min())), float(tf(values.max()))
    label0, label1 = (10**v0, 10**v1) if log else (v0, v1)
    if v1 - v0 < 1e-12:
        v0, v1 = v0 - 0.5, v1 + 0.5
    sx = (width - left - right) / max(1, s1 - s0)
    sy = (height - top - bottom) / (v1 - v0)

    def X(s):
        return left + (s - s0) * sx

    def Y(v):
        return top + (v1 - tf(v)) * sy

    parts = [f'<svg class="dlcourse-scrubber-curve" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(", ".join(history))} per step" '
             'style="max-width:100%;height:auto;font:10px sans-serif;color:inherit">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="currentColor" '
             'stroke-opacity="0.5"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="currentColor" stroke-opacity="0.5"/>',
             f'<text x="{left - 3}" y="{top + 4}" text-anchor="end" fill="currentColor">{label1:.3g}</text>',
             f'<text x="{left - 3}" y="{height - bottom}" text-anchor="end" fill="currentColor">{label0:.3g}</text>',
             f'<text x="{(left + width - right) / 2}" y="{height - 6}" text-anchor="middle" fill="currentColor">step{" (log scale)" if log else ""}</text>']
    for k, (name, (xs, ys)) in enumerate(history.items()):
        color = _COLORS[k % len(_COLORS)]
        pts = " ".join(f"{X(s):.1f},{Y(v):.1f}" for s, v in zip(xs, ys) if np.isfinite(v))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>')
        parts.append(f'<text x="{left + 4 + 70 * k}" y="{top - 6}" fill="{color}">{html.escape(name)}</text>')
    marks = [round(X(s), 1) for s in frame_steps]
    parts.append(f'<line class="dlcourse-scrubber-marker" x1="{marks[-1]}" y1="{top}" x2="{marks[-1]}" '
                 f'y2="{height - bottom}" stroke="currentColor" stroke-dasharray="3,2"/>')
    parts.append("</svg>")
    return "".join(parts), marks


def scrubber_html(frames: Iterable, title: str = "", scale: int | None = None, fps: float = 8.0,
                  history: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
                  max_frames: int | None = None, image_format: str = "auto") -> str:
    """HTML of a frame scrubber: ``<div class="dlcourse-scrubber">`` with an ``<img>``, an ``<input type="range">``
    (min 0, max N − 1, starting on the last frame), a play button, the frame's caption and, when frames carry
    scalars (or ``history`` is given as ``{name: (steps, values)}``), an SVG curve with a marker at the frame's step.

    Frames are anything :func:`~dlcourse.widgets.as_frame` accepts. Images are stored at 1× as PNG data URIs and
    enlarged ``scale`` times by CSS with ``image-rendering: pixelated`` (``None``: about 288 pixels wide).
    ``max_frames`` keeps that many, spread evenly, always with the last. ``image_format``: ``"png"``, ``"jpeg"`` or
    ``"auto"`` (PNG up to 128×128 pixels, JPEG above, which keeps pages of photo-sized frames light).
    """
    frames = [as_frame(f) for f in frames]
    if not frames:
        raise ValueError("a scrubber needs at least one frame")
    if max_frames is not None:
        keep = even_indices(len(frames), check_positive_int(max_frames, "max_frames"))
        frames = [frames[i] for i in keep]
    if scale is None:
        scale = auto_scale(frames[-1].width)
    scale = check_positive_int(scale, "scale")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    steps = [k if f.step is None else f.step for k, f in enumerate(frames)]
    uris = [data_uri(f.image, image_format) for f in frames]
    captions = [f.caption for f in frames]
    widths = [f.width * scale for f in frames]
    hist = dict(history) if history is not None else _history_from_frames(frames)
    curve, marks = _curve_svg(hist, steps) if hist else ("", [])
    digest = hashlib.sha1("".join(uris + captions).encode() + title.encode()).hexdigest()[:10]
    uid = f"dlcourse-scrubber-{digest}-{next(_counter)}"  # unique within a page even for two equal scrubbers
    alt = title or "Recorded frames"
    n = len(frames)
    payload = json.dumps({"frames": uris, "captions": captions, "widths": widths, "marks": marks or None,
                          "alt": alt}).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    title_html = (f'<div class="dlcourse-scrubber-title" style="font-weight:600;margin-bottom:4px">'
                  f'{html.escape(title)}</div>') if title else ""
    return (
        f'<div class="dlcourse-scrubber" id="{uid}" style="max-width:100%;overflow-x:auto;margin:0.5em 0">'
        f"{title_html}"
        '<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">'
        f'<img src="{uris[-1]}" alt="{html.escape(alt)}: frame {n} of {n}" '
        f'style="width:{widths[-1]}px;max-width:100%;height:auto;image-rendering:crisp-edges;'
        'image-rendering:pixelated">'
        f"{curve}</div>"
        '<div style="display:flex;align-items:center;gap:8px;margin-top:4px;max-width:100%">'
        '<button type="button" aria-label="Play" style="min-width:2.5em">&#9654;</button>'
        f'<input type="range" min="0" max="{n - 1}" step="1" value="{n - 1}" aria-label="Frame" '
        'style="flex:1 1 auto;min-width:80px;max-width:360px">'
        f'<span class="dlcourse-scrubber-count" style="font-variant-numeric:tabular-nums">{n} / {n}</span></div>'
        f'<div class="dlcourse-scrubber-caption" style="font-family:monospace;font-size:90%">'
        f"{html.escape(captions[-1])}</div>"
        f'<script type="application/json" class="dlcourse-scrubber-data">{payload}</script>'
        f"<script>{_SCRIPT % {'uid': json.dumps(uid), 'interval': max(1, int(round(1000 / fps)))}}</script>"
        "</div>"
    )


class Scrubber:
    """A static frame scrubber from a list of frames (no kernel needed): displays as HTML in a notebook or a page.

    >>> Scrubber([(torch.rand(3, 16, 16), f"frame {k}") for k in range(5)], title="Noise")  # doctest: +SKIP

    Arguments as in :func:`scrubber_html`; ``frames`` holds the converted :class:`Frame` objects and ``html`` the
    markup (computed once).
    """

    def __init__(self, frames: Iterable, title: str = "", scale: int | None = None, fps: float = 8.0,
                 history: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
                 max_frames: int | None = None, image_format: str = "auto"):
        self.frames = [as_frame(f) for f in frames]
        if max_frames is not None:
            keep = even_indices(len(self.frames), check_positive_int(max_frames, "max_frames"))
            self.frames = [self.frames[i] for i in keep]
        self.html = scrubber_html(self.frames, title=title, scale=scale, fps=fps, history=history,
                                  image_format=image_format)
        self.title = title

    def __len__(self) -> int:
        return len(self.frames)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"Scrubber({self.title!r}, {len(self.frames)} frames)"
