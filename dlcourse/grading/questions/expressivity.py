"""Questions of Part 1, neural network expressivity (Notes §1.1-1.2.1)."""
from __future__ import annotations

import torch

from ...expressivity import dense_params, gate_weights, perceptron_predict, truth_table
from ..registry import Case, Mistake, Question, register

# ---------------------------------------------------------------------------------------------------------------------
# expressivity.dense_params(s_in, s_out, bias=True) -> int


def _dense_case(gen: torch.Generator) -> Case:
    s_in, s_out = (int(v) for v in torch.randint(1, 2000, (2,), generator=gen))
    return Case(s_in, s_out, bias=bool(torch.randint(0, 2, (), generator=gen)))


register(Question(
    qid="expressivity.dense_params",
    reference=dense_params,
    cases=[Case(784, 128, label="a 784 -> 128 layer"),
           Case(3, 5, bias=False, label="a 3 -> 5 layer without bias"),
           Case(1, 1, label="edge: one input, one output"),
           Case(10, 1, label="edge: a single output unit"),
           Case(1, 7, bias=True, label="edge: a single input")],
    random_case=_dense_case,
    mistakes=[
        Mistake("no bias", lambda s_in, s_out, bias=True: s_in * s_out,
                "Count the biases too: a dense layer has one bias per output unit when bias=True."),
        Mistake("bias per input", lambda s_in, s_out, bias=True: s_in * s_out + (s_in if bias else 0),
                "There is one bias per OUTPUT unit (S_out of them), not one per input."),
        Mistake("bias ignored", lambda s_in, s_out, bias=True: s_in * s_out + s_out,
                "With bias=False the layer has no bias at all: only S_in * S_out weights."),
        Mistake("off by one", lambda s_in, s_out, bias=True: (s_in + 1) * (s_out + 1) if bias else s_in * s_out,
                "The bias is one extra input column (S_in + 1) * S_out, not an extra output row as well."),
        Mistake("sum", lambda s_in, s_out, bias=True: s_in + s_out + (s_out if bias else 0),
                "Every input connects to every output: the weights number S_in * S_out, not S_in + S_out."),
    ],
    forbid=("dlcourse.expressivity.dense_params", "dlcourse.expressivity.params.dense_params"),
))
