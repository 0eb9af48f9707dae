"""dlcourse: the companion package of the course.

One subpackage per part of the notes (``expressivity``, ``training``, ``vision``, ``generative``, ``sequence``) and
shared pieces: ``data`` (offline data sets), ``plotting`` (figures), ``loop`` (the training loop the pages share),
``cache`` (trained models, trained once and reused), ``pretrained`` (offline ImageNet weights), ``widgets`` (live
views) and ``grading`` (self-checking exercises).
"""
from ._utils import device, seed_everything, size_scale

__version__ = "0.1.0"
__all__ = ["device", "seed_everything", "size_scale", "__version__"]
