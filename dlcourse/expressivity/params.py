"""Parameter and FLOP counts of a dense (fully connected) layer. Notes §1.2.1."""
from __future__ import annotations

from .._utils import check_positive_int

__all__ = ["dense_params", "dense_flops"]


def dense_params(s_in: int, s_out: int, bias: bool = True) -> int:
    """Number of learnable parameters of a dense layer from ``s_in`` to ``s_out`` units.

    $S_{in} \\cdot S_{out}$ weights plus $S_{out}$ biases (Notes §1.2.1); equal to
    ``sum(p.numel() for p in nn.Linear(s_in, s_out, bias).parameters())``.
    """
    s_in = check_positive_int(s_in, "s_in")
    s_out = check_positive_int(s_out, "s_out")
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    return s_in * s_out + (s_out if bias else 0)


def dense_flops(s_in: int, s_out: int, batch_size: int = 1) -> int:
    """Floating-point operations of one dense layer's forward pass on ``batch_size`` inputs.

    Each of the $S_{out}$ outputs is a dot product of length $S_{in}$: $S_{in}$ multiplications and $S_{in}$
    additions, so $2 \\cdot S_{in} \\cdot S_{out}$ FLOPs per input, the $O(S_{in} S_{out})$ of Notes §1.2.1. This is
    the convention of ``torch.utils.flop_counter.FlopCounterMode`` (a multiply-add counts as two FLOPs; the bias
    addition is not counted).
    """
    s_in = check_positive_int(s_in, "s_in")
    s_out = check_positive_int(s_out, "s_out")
    batch_size = check_positive_int(batch_size, "batch_size")
    return 2 * s_in * s_out * batch_size
