"""Live views for the course's animated demonstrations (gradient ascent, style transfer, diffusion sampling).

- :class:`LiveView`: a generator of frames + ipywidgets controls → an interactive panel in a running kernel (Run,
  the image updated at every step, a curve of the recorded scalars, a frame slider) and a self-contained HTML
  scrubber of the default run on the static website.
- :class:`Scrubber` / :func:`scrubber_html`: the HTML scrubber from a list of frames alone.
- :class:`Frame`: the frame protocol, ``(image, caption)`` or ``(image, caption, {"loss": value})`` also accepted.
"""
from .frames import Frame, as_frame, to_uint8
from .live import LiveView, record
from .scrubber import Scrubber, scrubber_html

__all__ = ["LiveView", "Scrubber", "scrubber_html", "Frame", "as_frame", "to_uint8", "record"]
