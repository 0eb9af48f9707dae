"""A self-contained HTML frame scrubber: frames as PNG data URIs, a range slider, a play button, no external files.

This is what the static website shows for a live view (the browser has no kernel to run it). Notes: used by the
§3.9 and §4.4 pages (gradient ascent, style transfer, diffusion sampling).
"""
from __future__ import annotations

import hashlib
import html
import itertools
import json
from typing import Mapping, Sequence

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
  var play = box.querySelector("button.dlcourse-scrubber-play"),
      curves = box.querySelectorAll(".dlcourse-scrubber-curve");
  var selects = box.querySelectorAll("select.dlcourse-scrubber-choice");
  var r = data.start, run = data.runs[r], n = run.frames.length, timer = null;
  function show(k) {
    k = Math.max(0, Math.min(n - 1, k | 0));
    img.src = run.frames[k];
    img.alt = data.alt + (data.runs.length > 1 ? " (" + data.labels[r] + ")" : "") + ": frame " + (k + 1) + " of " + n;
    img.style.width = run.widths[k] + "px";
    cap.textContent = run.captions[k];
    count.textContent = (k + 1) + " / " + n;
    var marker = curves.length ? curves[r].querySelector(".dlcourse-scrubber-marker") : null;
    if (marker && run.marks) { marker.setAttribute("x1", run.marks[k]); marker.setAttribute("x2", run.marks[k]); }
    if (String(range.value) !== String(k)) range.value = String(k);
  }
  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    play.textContent = "\\u25B6"; play.setAttribute("aria-label", "Play");
  }
  function pick(changed) {
    // the precomputed run that keeps the changed choice and matches the most of the others
    var want = [].map.call(selects, function (s) { return s.value; }), best = -1, bestScore = -1;
    data.params.forEach(function (p, i) {
      if (changed >= 0 && p[changed] !== want[changed]) return;
      var score = p.reduce(function (a, v, j) { return a + (v === want[j] ? 1 : 0); }, 0);
      if (score > bestScore) { best = i; bestScore = score; }
    });
    if (best < 0) return;
    stop();
    r = best; run = data.runs[r]; n = run.frames.length;
    selects.forEach(function (s, j) { s.value = data.params[r][j]; });
    curves.forEach(function (c, j) { c.style.display = j === r && c.tagName.toLowerCase() === "svg" ? "" : "none"; });
    range.max = String(n - 1);
    show(n - 1);
  }
  selects.forEach(function (s, j) { s.addEventListener("change", function () { pick(j); }); });
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
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
             'stroke="currentColor" stroke-opacity="0.5"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="currentColor" '
             'stroke-opacity="0.5"/>',
             f'<text x="{left - 3}" y="{top + 4}" text-anchor="end" fill="currentColor">{label1:.3g}</text>',
             f'<text x="{left - 3}" y="{height - bottom}" text-anchor="end" fill="currentColor">{label0:.3g}</text>',
             f'<text x="{(left + width - right) / 2}" y="{height - 6}" text-anchor="middle" fill="currentColor">'
             f'step{" (log scale)" if log else ""}</text>']
    for k, (name, (xs, ys)) in enumerate(history.items()):
        color = _COLORS[k % len(_COLORS)]
        pts = " ".join(f"{X(s):.1f},{Y(v):.1f}" for s, v in zip(xs, ys, strict=True) if np.isfinite(v))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"/>')
        parts.append(f'<text x="{left + 4 + 70 * k}" y="{top - 6}" fill="{color}">{html.escape(name)}</text>')
    marks = [round(X(s), 1) for s in frame_steps]
    parts.append(f'<line class="dlcourse-scrubber-marker" x1="{marks[-1]}" y1="{top}" x2="{marks[-1]}" '
                 f'y2="{height - bottom}" stroke="currentColor" stroke-dasharray="3,2"/>')
    parts.append("</svg>")
    return "".join(parts), marks


def _normalise_runs(frames, params) -> tuple[list[list[Frame]], list[dict[str, str]]]:
    """One run (a list of frames) or several (``{label: frames}``), with the label of each run's settings."""
    if isinstance(frames, Mapping):
        if not frames:
            raise ValueError("a scrubber needs at least one run")
        runs = [[as_frame(f) for f in run] for run in frames.values()]
        labels = [{"run": str(label)} for label in frames]
    else:
        runs, labels = [[as_frame(f) for f in frames]], [{}]
    if params is not None:
        if len(params) != len(runs):
            raise ValueError(f"params must give one dict per run: {len(runs)} runs, {len(params)} dicts")
        labels = [{str(k): str(v) for k, v in p.items()} for p in params]
    for k, run in enumerate(runs):
        if not run:
            raise ValueError(f"a scrubber needs at least one frame (run {k} has none)")
    return runs, labels


def scrubber_html(frames, title: str = "", scale: int | None = None, fps: float = 8.0,
                  history: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
                  max_frames: int | None = None, image_format: str = "auto", params: Sequence[Mapping] | None = None,
                  start: int = 0) -> str:
    """HTML of a frame scrubber: ``<div class="dlcourse-scrubber">`` with an ``<img>``, an ``<input type="range">``
    (min 0, max N − 1, starting on the last frame), a play button, the frame's caption and, when frames carry
    scalars (or ``history`` is given as ``{name: (steps, values)}``), an SVG curve with a marker at the frame's step.

    ``frames``: one run, a list of anything :func:`~dlcourse.widgets.as_frame` accepts; or several precomputed runs
    as ``{label: frames}``, between which a drop-down switches without a kernel. ``params``: for several runs, one
    dict of settings per run (``{"seed": 0, "steps": 20}``); the page then shows one drop-down per setting that
    differs between runs and picks the run that matches the reader's choice. ``start``: the run shown first.

    Images are stored at 1× as PNG data URIs and enlarged ``scale`` times by CSS with ``image-rendering: pixelated``
    (``None``: about 288 pixels wide). ``max_frames`` keeps that many per run, spread evenly, always with the last.
    ``image_format``: ``"png"``, ``"jpeg"`` or ``"auto"`` (PNG up to 128×128 pixels, JPEG above).
    """
    runs, labels = _normalise_runs(frames, params)
    if not 0 <= start < len(runs):
        raise ValueError(f"start must index one of the {len(runs)} runs, got {start}")
    if max_frames is not None:
        max_frames = check_positive_int(max_frames, "max_frames")
        runs = [[run[i] for i in even_indices(len(run), max_frames)] for run in runs]
    if scale is None:
        scale = auto_scale(runs[start][-1].width)
    scale = check_positive_int(scale, "scale")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    names = [name for name in dict.fromkeys(k for lab in labels for k in lab)
             if len({lab.get(name, "") for lab in labels}) > 1]
    if len(runs) > 1 and not names:
        raise ValueError("several runs need labels or params that tell them apart")
    payload_runs, curves = [], []
    for k, run in enumerate(runs):
        steps = [i if f.step is None else f.step for i, f in enumerate(run)]
        hist = dict(history) if history is not None and k == start else _history_from_frames(run)
        curve, marks = _curve_svg(hist, steps) if hist else ("", [])
        curves.append(curve)
        payload_runs.append({"frames": [data_uri(f.image, image_format) for f in run],
                             "captions": [f.caption for f in run], "widths": [f.width * scale for f in run],
                             "marks": marks or None})
    first = payload_runs[start]
    digest = hashlib.sha1("".join(first["frames"] + first["captions"]).encode() + title.encode()).hexdigest()[:10]
    uid = f"dlcourse-scrubber-{digest}-{next(_counter)}"  # unique within a page even for two equal scrubbers
    alt = title or "Recorded frames"
    n = len(first["frames"])
    grid = [[lab.get(name, "") for name in names] for lab in labels]
    run_labels = [", ".join(f"{n_}: {v}" for n_, v in zip(names, row, strict=True)) for row in grid]
    payload = json.dumps({"runs": payload_runs, "params": grid, "start": start, "alt": alt, "labels": run_labels})
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    title_html = (f'<div class="dlcourse-scrubber-title" style="font-weight:600;margin-bottom:4px">'
                  f'{html.escape(title)}</div>') if title else ""
    choices = ""
    if names:
        boxes = []
        for j, name in enumerate(names):
            values = list(dict.fromkeys(row[j] for row in grid))
            options = "".join(f'<option value="{html.escape(v)}"{" selected" if v == grid[start][j] else ""}>'
                              f"{html.escape(v)}</option>" for v in values)
            label = "" if name == "run" else f"{html.escape(name)} "
            boxes.append(f'<label style="margin-right:12px">{label}<select class="dlcourse-scrubber-choice" '
                         f'aria-label="{html.escape(name)}">{options}</select></label>')
        choices = ('<div class="dlcourse-scrubber-choices" style="margin-bottom:4px">'
                   '<span style="margin-right:8px">precomputed runs:</span>' + "".join(boxes) + "</div>")
    curve_html = ""
    if any(curves):  # one element per run, so that the script finds run k's curve at index k
        hidden = ' style="display:none"'
        tag = '<svg class="dlcourse-scrubber-curve"'
        curve_html = "".join(
            c.replace(tag, tag + ("" if k == start else hidden), 1)
            if c else f'<span class="dlcourse-scrubber-curve"{hidden}></span>' for k, c in enumerate(curves))
    return (
        f'<div class="dlcourse-scrubber" id="{uid}" style="max-width:100%;overflow-x:auto;margin:0.5em 0">'
        f"{title_html}{choices}"
        '<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">'
        f'<img src="{first["frames"][-1]}" alt="{html.escape(alt)}: frame {n} of {n}" '
        f'style="width:{first["widths"][-1]}px;max-width:100%;height:auto;image-rendering:crisp-edges;'
        'image-rendering:pixelated">'
        f"{curve_html}</div>"
        '<div style="display:flex;align-items:center;gap:8px;margin-top:4px;max-width:100%">'
        '<button type="button" class="dlcourse-scrubber-play" aria-label="Play" style="min-width:2.5em">'
        '&#9654;</button>'
        f'<input type="range" min="0" max="{n - 1}" step="1" value="{n - 1}" aria-label="Frame" '
        'style="flex:1 1 auto;min-width:80px;max-width:360px">'
        f'<span class="dlcourse-scrubber-count" style="font-variant-numeric:tabular-nums">{n} / {n}</span></div>'
        f'<div class="dlcourse-scrubber-caption" style="font-family:monospace;font-size:90%">'
        f"{html.escape(first['captions'][-1])}</div>"
        f'<script type="application/json" class="dlcourse-scrubber-data">{payload}</script>'
        f"<script>{_SCRIPT % {'uid': json.dumps(uid), 'interval': max(1, int(round(1000 / fps)))}}</script>"
        "</div>"
    )


class Scrubber:
    """A static frame scrubber from a list of frames, or from several precomputed runs ``{label: frames}`` with a
    drop-down between them (no kernel needed): displays as HTML in a notebook or a page.

    >>> Scrubber([(torch.rand(3, 16, 16), f"frame {k}") for k in range(5)], title="Noise")  # doctest: +SKIP

    Arguments as in :func:`scrubber_html`; ``frames`` holds the converted :class:`Frame` objects and ``html`` the
    markup (computed once).
    """

    def __init__(self, frames, title: str = "", scale: int | None = None, fps: float = 8.0,
                 history: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
                 max_frames: int | None = None, image_format: str = "auto", params: Sequence[Mapping] | None = None,
                 start: int = 0):
        runs, _ = _normalise_runs(frames, params)
        if max_frames is not None:
            max_frames = check_positive_int(max_frames, "max_frames")
            runs = [[run[i] for i in even_indices(len(run), max_frames)] for run in runs]
        self.runs = runs
        self.frames = runs[start] if 0 <= start < len(runs) else runs[0]
        source = dict(zip(frames, runs, strict=True)) if isinstance(frames, Mapping) else runs[0]
        self.html = scrubber_html(source, title=title, scale=scale, fps=fps, history=history,
                                  image_format=image_format, params=params, start=start)
        self.title = title

    def __len__(self) -> int:
        return len(self.frames)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        runs = f", {len(self.runs)} runs" if len(self.runs) > 1 else ""
        return f"Scrubber({self.title!r}, {len(self.frames)} frames{runs})"
