"""A live view: a generator of frames plus ipywidgets controls, shown as an interactive panel in a running kernel
and as a self-contained HTML scrubber of its default run on the static website.

Used by the pages on gradient ascent and style transfer (Notes §3.9) and diffusion sampling (Notes §4.4).
"""
from __future__ import annotations

import html
import io
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from .._utils import check_positive_int
from .frames import Frame, as_frame, png_bytes
from .scrubber import auto_scale, scrubber_html, wants_log_scale

__all__ = ["LiveView", "record"]

_PIXELATED_CSS = ("<style>.dlcourse-pixelated{image-rendering:crisp-edges;image-rendering:pixelated;}"
                  ".dlcourse-pixelated img{image-rendering:crisp-edges;image-rendering:pixelated;}</style>")


def record(frames: Iterable, max_frames: int = 60, on_frame: Callable[[Frame, int], None] | None = None):
    """Run through ``frames`` and keep at most ``max_frames`` of them, spread evenly, always with the last.

    Returns ``(kept, history)``: the kept :class:`Frame` objects (their ``step`` filled in) and every step's scalars
    as ``{name: (steps, values)}``. ``on_frame(frame, step)`` is called on every frame as it comes (the live panel
    draws it). Memory stays bounded: when ``4·max_frames`` frames are held, every other one is dropped.
    """
    max_frames = check_positive_int(max_frames, "max_frames")
    kept: list[Frame] = []
    stride = 1  # frames whose step is a multiple of stride are candidates; it doubles when the buffer fills up
    history: dict[str, tuple[list[int], list[float]]] = {}
    last: Frame | None = None
    for k, item in enumerate(frames):
        frame = as_frame(item)
        frame.step = k if frame.step is None else frame.step
        for name, value in frame.scalars.items():
            history.setdefault(name, ([], []))
            history[name][0].append(frame.step)
            history[name][1].append(value)
        if on_frame is not None:
            on_frame(frame, k)
        last = frame
        if k % stride == 0:
            kept.append(frame)
            if len(kept) >= 4 * max_frames:
                kept = kept[::2]
                stride *= 2
    if last is None:
        return [], history
    if kept[-1] is not last:
        kept.append(last)
    if len(kept) > max_frames:
        # pick, for evenly spaced target steps, the nearest kept frame (the first and the last are targets)
        steps = np.array([f.step for f in kept], dtype=float)
        targets = np.linspace(steps[0], steps[-1], max_frames)
        pos = np.clip(np.searchsorted(steps, targets), 1, len(steps) - 1)
        nearest = np.where(targets - steps[pos - 1] <= steps[pos] - targets, pos - 1, pos)
        kept = [kept[i] for i in sorted(set(nearest.tolist()) | {len(kept) - 1})]
    return kept, history


class LiveView:
    """One live view: controls, a Run button, the current image, a curve of the recorded scalars and a frame slider.

    Args:
        run: called as ``run(**params)`` with ``params = {name: control.value}``; returns an iterable (usually a
            generator) of frames. A frame is a :class:`Frame`, ``(image, caption)`` or
            ``(image, caption, {"loss": value, ...})``; images are tensors (3, H, W), (1, H, W), (H, W) in [0, 1] or
            uint8 arrays (see :class:`Frame`).
        controls: ``{name: widget}``, core ipywidgets value widgets (``FloatSlider``, ``IntSlider``, ``Dropdown``,
            ``Checkbox``, …); each widget's ``value`` is passed to ``run`` under its name, and a widget without a
            description gets the name.
        title: shown above the panel and the scrubber.
        max_frames: frames kept per run (spread evenly, the last always kept).
        scale: integer upscaling of the images on screen (CSS, pixelated); ``None`` picks about 288 pixels wide.
        curve_every: redraw the curve every that many steps during a run (and at its end).
        fps: playback speed of the scrubber's play button.
        image_format: how the scrubber stores frames: ``"png"``, ``"jpeg"`` or ``"auto"`` (PNG up to 128×128 pixels,
            JPEG above). Keep frames small (≤ 128 pixels a side is plenty on screen at ``scale`` 2–3): the static
            page carries every frame.
        presets: more settings to precompute for the static website, e.g. ``[{"seed": 1}, {"steps": 50}]`` (each
            dict overrides some of the controls' initial values). The page's scrubber then has one drop-down per
            setting that differs between these runs, so a reader without a kernel can still compare them. Each preset
            is one more full run when the page is built: keep them few.

    Display: ``view`` as the last expression of a cell shows, in a live kernel, the interactive panel, and on the
    static website the HTML scrubber of the DEFAULT run (the controls' values when the view was made). That run
    happens once, when the view is first displayed (or :meth:`default_html` / :attr:`panel` is first used), and its
    frames also fill the panel, so nothing is computed twice.

    Runs are synchronous: the kernel is busy until the generator ends, and clicks on Run that arrive meanwhile are
    handled one after another once it is free; a click while a run is in progress in the same call stack is ignored.
    """

    def __init__(self, run: Callable[..., Iterable], controls: Mapping[str, object] | None = None, title: str = "",
                 max_frames: int = 60, scale: int | None = None, curve_every: int = 5, fps: float = 8.0,
                 image_format: str = "auto", presets: Sequence[Mapping[str, object]] | None = None):
        if not callable(run):
            raise TypeError(
                f"run must be callable (a function returning a generator of frames), got {type(run).__name__}"
            )
        controls = dict(controls or {})
        for name, widget in controls.items():
            if not name.isidentifier():
                raise ValueError(f"control names are passed as keyword arguments, so must be identifiers; got {name!r}")
            if not hasattr(widget, "value"):
                raise TypeError(f"control {name!r} must be an ipywidgets value widget, got {type(widget).__name__}")
            if hasattr(widget, "description") and not widget.description:
                widget.description = name
        self.run_fn = run
        self.controls = controls
        self.title = str(title)
        self.max_frames = check_positive_int(max_frames, "max_frames")
        self.scale = None if scale is None else check_positive_int(scale, "scale")
        self.curve_every = check_positive_int(curve_every, "curve_every")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = float(fps)
        if image_format not in ("auto", "png", "jpeg"):
            raise ValueError(f"image_format must be 'auto', 'png' or 'jpeg', got {image_format!r}")
        self.image_format = image_format
        self.default_params = self.params()
        self.presets = [dict(self.default_params)]
        for k, preset in enumerate(presets or ()):
            if not isinstance(preset, Mapping):
                raise TypeError(f"presets must be dicts of control values, got {type(preset).__name__} at {k}")
            unknown = set(preset) - set(controls)
            if unknown:
                raise ValueError(f"preset {k} sets {sorted(unknown)}, which are not controls ({sorted(controls)})")
            full = {**self.default_params, **preset}
            if full not in self.presets:
                self.presets.append(full)
        self.frames: list[Frame] = []
        self.history: dict[str, tuple[list[int], list[float]]] = {}
        self.runs = 0
        self._default: tuple[list[Frame], dict] | None = None
        self._html: str | None = None
        self._panel = None
        self._running = False

    # ---------------------------------------------------------------------------------------------- runs
    def params(self) -> dict:
        """The controls' current values, ``{name: value}``."""
        return {name: w.value for name, w in self.controls.items()}

    def collect(self, on_frame: Callable[[Frame, int], None] | None = None, **params):
        """Run the generator with ``params`` (default: the controls' current values) and return
        ``(frames, history)`` as :func:`record` does, without touching the panel."""
        values = self.params()
        values.update(params)
        frames, history = record(self.run_fn(**values), self.max_frames, on_frame)
        if not frames:
            raise ValueError(f"{self.title or 'the view'}: run(**{values}) produced no frames")
        return frames, history

    def default_run(self):
        """``(frames, history)`` of the run with the controls' initial values (computed once, then cached)."""
        if self._default is None:
            self._default = self.collect(**self.default_params)
            if not self.frames:
                self.frames, self.history = self._default
        return self._default

    def default_html(self) -> str:
        """The self-contained HTML scrubber of the default run and of every preset (see
        :func:`~dlcourse.widgets.scrubber_html`)."""
        if self._html is None:
            frames, history = self.default_run()
            scale = self._scale_for(frames[-1])
            if len(self.presets) == 1:
                self._html = scrubber_html(frames, title=self.title, scale=scale, fps=self.fps, history=history,
                                           image_format=self.image_format)
            else:
                runs = {"default": frames}
                for k, preset in enumerate(self.presets[1:], start=1):
                    runs[f"preset {k}"] = self.collect(**preset)[0]
                self._html = scrubber_html(runs, title=self.title, scale=scale, fps=self.fps, history=history,
                                           image_format=self.image_format, params=self.presets)
        return self._html

    def _scale_for(self, frame: Frame) -> int:
        return self.scale if self.scale is not None else auto_scale(frame.width)

    # ---------------------------------------------------------------------------------------------- panel
    @property
    def panel(self):
        """The ipywidgets panel (built on first use, showing the default run)."""
        if self._panel is None:
            self._build_panel()
        return self._panel

    def _build_panel(self):
        import ipywidgets as W

        frames, history = self.default_run()
        self.button = W.Button(description="Run", button_style="primary", icon="play",
                               tooltip="Run with these settings")
        self.status = W.Label(value=f"default run: {len(frames)} frames")
        self.image = W.Image(format="png")
        self.image.add_class("dlcourse-pixelated")
        self.curve = W.Image(format="png", layout=W.Layout(display="none"))
        self.slider = W.IntSlider(value=len(frames) - 1, min=0, max=max(0, len(frames) - 1), step=1,
                                  description="frame", continuous_update=True)
        self.play = W.Play(value=self.slider.value, min=0, max=self.slider.max, step=1,
                           interval=max(1, int(round(1000 / self.fps))), description="Play the frames")
        W.jslink((self.play, "value"), (self.slider, "value"))
        self.caption = W.HTML()
        self.slider.observe(self._on_slider, names="value")
        self.button.on_click(self._on_click)
        header = W.HTML(_PIXELATED_CSS + (f"<b>{html.escape(self.title)}</b>" if self.title else ""))
        children = [header]
        if self.controls:
            children.append(W.VBox(list(self.controls.values())))
        children += [W.HBox([self.button, self.status]), W.HBox([self.image, self.curve]),
                     W.HBox([self.play, self.slider]), self.caption]
        self._panel = W.VBox(children)
        self._show_frames(frames, history)

    def _show_image(self, frame: Frame):
        self.image.value = png_bytes(frame.image)
        self.image.layout.width = f"{frame.width * self._scale_for(frame)}px"
        self.caption.value = f"<code>{html.escape(frame.caption)}</code>" if frame.caption else ""

    def _draw_curve(self, history):
        if not history:
            self.curve.layout.display = "none"
            return
        from matplotlib.figure import Figure

        fig = Figure(figsize=(3.6, 2.4), dpi=80)
        ax = fig.add_subplot()
        for name, (steps, values) in history.items():
            ax.plot(steps, values, label=name)
        if wants_log_scale(v for _, values in history.values() for v in values):
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(", ".join(history) if len(history) < 3 else "value")
        if len(history) > 1:
            ax.legend(fontsize=8)
        ax.set_title(self.title or "recorded scalars", fontsize=9)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        self.curve.value = buf.getvalue()
        self.curve.layout.display = None

    def _show_frames(self, frames, history):
        n = len(frames)
        self.frames, self.history = frames, history
        # Setting max before value keeps the slider's value valid whichever way the count changes.
        with self.slider.hold_trait_notifications():
            self.slider.max = max(0, n - 1)
            self.slider.value = n - 1
        self.play.max = self.slider.max
        self._show_image(frames[-1])
        self._draw_curve(history)

    def _on_slider(self, change):
        k = change["new"]
        if 0 <= k < len(self.frames):
            self._show_image(self.frames[k])

    def _on_click(self, _button=None):
        if self._running:
            self.status.value = "a run is in progress: wait for it to end"
            return
        self._running = True
        self.button.disabled = True
        live: dict[str, tuple[list[int], list[float]]] = {}

        def on_frame(frame: Frame, k: int):
            self._show_image(frame)
            for name, value in frame.scalars.items():
                live.setdefault(name, ([], []))
                live[name][0].append(frame.step)
                live[name][1].append(value)
            self.status.value = f"running: step {k + 1}"
            if live and (k + 1) % self.curve_every == 0:
                self._draw_curve(live)

        try:
            frames, history = self.collect(on_frame=on_frame)
            self.runs += 1
            self._show_frames(frames, history)
            self.status.value = f"run {self.runs}: {len(frames)} frames kept"
        except Exception as err:  # show the error in the panel, and raise it for the traceback
            self.status.value = f"error: {type(err).__name__}: {err}"
            raise
        finally:
            self._running = False
            self.button.disabled = False

    def click(self):
        """Run with the controls' current values, as the Run button does."""
        self.panel  # noqa: B018 (build it)
        self._on_click()

    # ---------------------------------------------------------------------------------------------- display
    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        bundle = dict(self.panel._repr_mimebundle_(include=include, exclude=exclude, **kwargs) or {})
        bundle["text/html"] = self.default_html()
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"LiveView({self.title!r}, controls={list(self.controls)}, {len(self.frames)} frames)"
