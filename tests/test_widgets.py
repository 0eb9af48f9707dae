"""Tests of dlcourse.widgets in plain pytest (no browser): the live panel reacts to controls and Run, the HTML
scrubber holds the frames, frames are converted and sub-sampled as documented."""
import base64
import re

import ipywidgets as W
import numpy as np
import pytest
import torch

from dlcourse.widgets import Frame, LiveView, Scrubber, as_frame, record, scrubber_html, to_uint8


def make_view(calls, **kwargs):
    def run(lr, steps, gray=False):
        calls.append({"lr": lr, "steps": steps, "gray": gray})
        g = torch.Generator().manual_seed(len(calls))
        x = torch.zeros(1 if gray else 3, 6, 8)
        for t in range(steps):
            x = (x + lr * torch.rand(x.shape, generator=g)).clamp(0, 1)
            yield x, f"step {t}", {"loss": 1.0 / (t + 1)}

    controls = {"lr": W.FloatSlider(value=0.1, min=0.0, max=1.0), "steps": W.IntSlider(value=8, min=1, max=500),
                "gray": W.Checkbox(value=False)}
    return LiveView(run, controls, title="Demo", **kwargs)


def test_panel_runs_with_the_controls_values():
    calls = []
    view = make_view(calls, max_frames=20, scale=3)
    assert calls == []  # nothing runs before the view is shown
    bundle = view._repr_mimebundle_()
    assert {"application/vnd.jupyter.widget-view+json", "text/html", "text/plain"} <= set(bundle)
    assert calls == [{"lr": 0.1, "steps": 8, "gray": False}]
    assert view.slider.max == 7 and len(view.frames) == 8
    first = view.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert view.image.layout.width == "24px"
    assert view.controls["lr"].description == "lr"

    view.controls["lr"].value = 0.7
    view.controls["steps"].value = 150
    view.controls["gray"].value = True
    view.button.click()
    assert calls[-1] == {"lr": 0.7, "steps": 150, "gray": True}
    assert view.image.value != first
    assert view.slider.max == 19 and view.slider.value == 19 and len(view.frames) == 20
    assert view.frames[0].step == 0 and view.frames[-1].step == 149
    assert view.frames[-1].image.shape == (6, 8)  # gray frames stay 2-D
    assert view.caption.value == "<code>step 149</code>"
    assert view.curve.value[:4] == b"\x89PNG" and view.curve.layout.display is None
    assert len(view.history["loss"][0]) == 150  # every step's scalar, not only the kept frames
    assert view.runs == 1 and "20 frames" in view.status.value

    # scrubbing the recorded frames shows them
    shown = view.image.value
    view.slider.value = 0
    assert view.image.value != shown and view.caption.value == "<code>step 0</code>"

    # the static HTML still shows the default run, computed once
    assert view._repr_mimebundle_()["text/html"] == bundle["text/html"]
    assert len(calls) == 2


def test_click_during_a_run_is_ignored():
    calls = []
    view = make_view(calls, max_frames=5)
    view.panel  # noqa: B018

    def nested_run(lr, steps, gray):
        calls.append("outer")
        view.button.click()  # re-entrant click while running
        yield torch.rand(3, 4, 4), "only"

    view.run_fn = nested_run
    view.button.click()
    assert calls.count("outer") == 1 and len(view.frames) == 1
    assert not view.button.disabled and not view._running


def test_errors_reach_the_panel_and_leave_it_usable():
    view = LiveView(lambda n: iter([]), {"n": W.IntSlider(value=2)})
    with pytest.raises(ValueError, match="no frames"):
        view.default_html()

    def broken(n):
        yield torch.rand(3, 4, 4), "ok"
        if n > 2:
            raise RuntimeError("diverged")

    view = LiveView(broken, {"n": W.IntSlider(value=1)})
    view.panel  # noqa: B018
    view.controls["n"].value = 5
    with pytest.raises(RuntimeError):
        view.click()
    assert "diverged" in view.status.value and not view._running and not view.button.disabled
    view.controls["n"].value = 1
    view.button.click()  # usable again
    assert view.status.value.startswith("run 1")


def frames_in(html):
    data = re.search(r'<script type="application/json" class="dlcourse-scrubber-data">(.*?)</script>', html, re.S)
    import json
    return json.loads(data.group(1))["runs"][0]


def test_scrubber_html():
    frames = [(torch.full((3, 4, 5), k / 9), f"frame {k}", {"loss": 10 - k}) for k in range(10)]
    html = scrubber_html(frames, title="Ten <frames>", scale=4)
    assert 'class="dlcourse-scrubber"' in html
    assert re.search(r'<input type="range" min="0" max="9"', html)
    data = frames_in(html)
    assert len(data["frames"]) == 10 and len(set(data["frames"])) == 10
    assert all(uri.startswith("data:image/png;base64,") for uri in data["frames"])
    assert data["captions"][3] == "frame 3" and data["widths"] == [20] * 10
    assert "image-rendering:pixelated" in html and "width:20px" in html
    assert "Ten &lt;frames&gt;" in html and "<frames>" not in html
    assert "<svg" in html and "dlcourse-scrubber-marker" in html
    assert "http" not in html  # self-contained
    # the <img> shows the last frame, stored at 1x
    png = base64.b64decode(data["frames"][-1].split(",", 1)[1])
    from PIL import Image
    import io
    im = np.asarray(Image.open(io.BytesIO(png)))
    assert im.shape == (4, 5, 3) and im[0, 0, 0] == 255
    # no scalars: no curve
    assert "<svg" not in scrubber_html([torch.rand(3, 4, 4)] * 2)


def test_scrubber_subsamples_and_keeps_last():
    s = Scrubber([(np.full((2, 2), k, np.uint8), str(k)) for k in range(100)], max_frames=7)
    assert len(s) == 7 and s.frames[0].caption == "0" and s.frames[-1].caption == "99"
    assert len(frames_in(s._repr_html_())["frames"]) == 7
    assert 'max="6"' in s.html


def test_record_bounds_memory_and_spreads_frames():
    kept, history = record((np.zeros((2, 2)) for _ in range(1000)), max_frames=50)
    steps = [f.step for f in kept]
    assert len(kept) == 50 and steps[0] == 0 and steps[-1] == 999
    gaps = np.diff(steps)
    assert gaps.min() > 0 and gaps.max() <= 2.2 * 999 / 49
    assert history == {}
    kept, _ = record([np.zeros((2, 2))] * 3, max_frames=50)
    assert [f.step for f in kept] == [0, 1, 2]


@pytest.mark.parametrize("image, shape", [
    (torch.rand(3, 5, 7), (5, 7, 3)),
    (torch.rand(1, 5, 7), (5, 7)),
    (torch.rand(5, 7), (5, 7)),
    (torch.rand(1, 3, 5, 7), (5, 7, 3)),
    (np.random.rand(5, 7, 3), (5, 7, 3)),
    (np.random.rand(5, 7, 4), (5, 7, 3)),
    (np.random.rand(3, 5, 7), (5, 7, 3)),
    (np.zeros((5, 7), np.uint8), (5, 7)),
])
def test_to_uint8_shapes(image, shape):
    out = to_uint8(image)
    assert out.dtype == np.uint8 and out.shape == shape


def test_to_uint8_values_and_errors():
    x = torch.tensor([[-1.0, 0.0, 0.5, 1.0, 2.0, float("nan")]])
    assert to_uint8(x).tolist() == [[0, 0, 128, 255, 255, 0]]
    with pytest.raises(ValueError):
        to_uint8(torch.rand(2, 5, 5))
    with pytest.raises(ValueError):
        to_uint8(torch.rand(5))
    with pytest.raises(TypeError):
        to_uint8([[0.5]])
    with pytest.raises(ValueError):
        to_uint8(np.full((2, 2), 300))


def test_frame_protocol():
    f = as_frame((torch.rand(3, 2, 2), "cap", {"loss": torch.tensor(0.5)}))
    assert f.caption == "cap" and f.scalars == {"loss": 0.5} and f.image.shape == (2, 2, 3)
    assert as_frame(Frame(torch.rand(2, 2), step=7)).step == 7
    assert as_frame(torch.rand(2, 2)).caption == ""
    with pytest.raises(ValueError):
        as_frame((torch.rand(2, 2), "a", {}, "extra"))
    with pytest.raises(TypeError):
        as_frame((torch.rand(2, 2), "a", [1.0]))


def test_bad_arguments():
    with pytest.raises(TypeError):
        LiveView("not callable")
    with pytest.raises(ValueError):
        LiveView(lambda: iter([]), max_frames=0)
    with pytest.raises(TypeError):
        LiveView(lambda x: iter([]), {"x": 3})
    with pytest.raises(ValueError):
        LiveView(lambda **k: iter([]), {"not a name": W.IntSlider()})
    with pytest.raises(ValueError):
        scrubber_html([])


def test_image_formats():
    big = [(torch.rand(3, 200, 150), "photo")]
    assert "data:image/jpeg;base64," in scrubber_html(big)
    assert "data:image/jpeg" not in scrubber_html(big, image_format="png")
    assert "data:image/jpeg" not in scrubber_html([(torch.rand(3, 64, 64), "small")])
    with pytest.raises(ValueError):
        scrubber_html(big, image_format="gif")
    with pytest.raises(ValueError):
        LiveView(lambda: iter([]), image_format="gif")


def test_two_equal_scrubbers_have_distinct_ids():
    frames = [(torch.zeros(3, 2, 2), "a"), (torch.ones(3, 2, 2), "b")]
    ids = [re.search(r'id="([^"]+)"', scrubber_html(frames)).group(1) for _ in range(2)]
    assert ids[0] != ids[1]


def test_curves_of_very_different_sizes_share_a_log_axis():
    from dlcourse.widgets.scrubber import _curve_svg, wants_log_scale

    assert wants_log_scale([2e5, 1e3, 110]) and not wants_log_scale([3.0, 2.0]) and not wants_log_scale([-1.0, 1e4])
    svg, marks = _curve_svg({"content": ([0, 1, 2], [1e7, 9e6, 9e6]), "style": ([0, 1, 2], [2e5, 1e3, 110])}, [0, 2])
    assert "log scale" in svg and ">110<" in svg and len(marks) == 2
    svg, _ = _curve_svg({"loss": ([0, 1], [3.0, 2.0])}, [0, 1])
    assert "log scale" not in svg


def _all_runs(html):
    import json
    data = re.search(r'<script type="application/json" class="dlcourse-scrubber-data">(.*?)</script>', html, re.S)
    return json.loads(data.group(1))


def test_scrubber_switches_between_labelled_runs():
    runs = {"bright": [torch.full((1, 4, 4), 0.9)] * 3, "dark": [torch.full((1, 4, 4), 0.1)] * 5}
    s = Scrubber(runs, title="Two runs")
    data = _all_runs(s._repr_html_())
    assert [len(r["frames"]) for r in data["runs"]] == [3, 5] and data["params"] == [["bright"], ["dark"]]
    assert s._repr_html_().count('class="dlcourse-scrubber-choice"') == 1 and "<option" in s.html
    assert len(s.runs) == 2 and "2 runs" in repr(s)
    with pytest.raises(ValueError, match="one dict per run"):
        scrubber_html(runs, params=[{"a": 1}])
    with pytest.raises(ValueError, match="tell them apart"):
        scrubber_html(runs, params=[{"a": 1}, {"a": 1}])
    with pytest.raises(ValueError, match="run 1 has none"):
        scrubber_html({"a": [torch.rand(4, 4)], "b": []})


def test_live_view_precomputes_presets_for_the_static_page():
    import ipywidgets as W

    calls = []

    def run(seed, steps):
        calls.append((seed, steps))
        gen = torch.Generator().manual_seed(seed)
        for t in range(steps):
            yield torch.rand(4, 4, generator=gen), f"seed {seed}, step {t}", {"loss": 1.0 / (t + 1)}

    view = LiveView(run, {"seed": W.IntSlider(value=0, min=0, max=9), "steps": W.IntSlider(value=4, min=1, max=20)},
                    presets=[{"seed": 1}, {"seed": 2, "steps": 8}, {"seed": 0}])   # the last equals the default
    html = view.default_html()
    assert calls == [(0, 4), (1, 4), (2, 8)]
    data = _all_runs(html)
    assert data["params"] == [["0", "4"], ["1", "4"], ["2", "8"]]
    assert [len(r["frames"]) for r in data["runs"]] == [4, 4, 8]
    assert html.count('class="dlcourse-scrubber-choice"') == 2 and html.count("<svg") == 3
    assert data["runs"][1]["frames"] != data["runs"][0]["frames"]
    with pytest.raises(ValueError, match="not controls"):
        LiveView(run, {"seed": W.IntSlider(value=0)}, presets=[{"lr": 1}])
