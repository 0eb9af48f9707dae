"""Imported once by the grader's fork server, so that every submission's process starts with these ready."""
import matplotlib._api  # noqa: F401 (its stack-reading warning helper is replaced in each submission's process)
import torch
import tqdm  # noqa: F401 (told to start no monitor thread in each submission's process)
from IPython.core.inputtransformer2 import TransformerManager  # noqa: F401

from dlcourse.grading import forbid, isolation, registry, worker  # noqa: F401

torch.set_num_threads(1)
for question in registry.all_questions():  # resolved once here, not in every submission's process
    for name in question.forbid:
        forbid.aliases(name)
