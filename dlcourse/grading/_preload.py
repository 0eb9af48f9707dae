"""Imported once by the grader's fork server, so that every submission's process starts with these ready."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402,F401 (its font list is built once here, not in every sandbox's empty home)
import torch  # noqa: E402
import tqdm.auto  # noqa: E402,F401
from IPython.core.inputtransformer2 import TransformerManager  # noqa: E402,F401

from dlcourse.grading import forbid, isolation, registry, worker  # noqa: E402,F401

torch.set_num_threads(1)
for question in registry.all_questions():  # resolved once here, not in every submission's process
    for name in question.forbid:
        forbid.aliases(name)
