"""Live views for the course's animated demonstrations (gradient ascent, style transfer, diffusion sampling).

- :class:`LiveView`: a generator of frames + ipywidgets controls → an interactive panel in a running kernel (Run,
  the image updated at every step, a curve of the recorded scalars, a frame slider with Play) and a self-contained
  HTML scrubber of the default run on the static website.
- :class:`Scrubber` / :func:`scrubber_html`: the HTML scrubber from a list of frames alone.
- :class:`Frame`: the frame protocol; ``(image, caption)`` and ``(image, caption, {"loss": value})`` are accepted too.

Example (the last line of a notebook cell)::

    import ipywidgets as W
    from dlcourse.widgets import LiveView

    def ascend(lr, steps):
        x = torch.full((1, 3, 64, 64), 0.5, requires_grad=True)
        opt = torch.optim.Adam([x], lr=lr)
        for t in range(steps):
            loss = -net(x)[0, 967]
            opt.zero_grad(); loss.backward(); opt.step()
            with torch.no_grad():
                x.clamp_(0, 1)
            yield x[0], f"step {t + 1}: logit {-loss.item():.2f}", {"loss": loss.item()}

    view = LiveView(ascend, {"lr": W.FloatLogSlider(value=0.05, base=10, min=-3, max=0),
                             "steps": W.IntSlider(value=40, min=1, max=200)},
                    title="Gradient ascent on 'espresso'", max_frames=40, scale=3)
    view
"""
from .frames import Frame, as_frame, to_uint8
from .live import LiveView, record
from .scrubber import Scrubber, scrubber_html

__all__ = ["LiveView", "Scrubber", "scrubber_html", "Frame", "as_frame", "to_uint8", "record"]
