"""Imported once by the grader's fork server, so that every submission's process starts with these ready."""
import torch
from IPython.core.inputtransformer2 import TransformerManager  # noqa: F401

from dlcourse.grading import registry

torch.set_num_threads(1)
registry.all_questions()
