"""Sinusoidal positional encoding (Notes §5.3; Vaswani et al., 2017).

    PE[pos, 2i]     = sin(pos / 10000^(2i / d_model))
    PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))
"""
from __future__ import annotations

import torch

from .._utils import check_positive_int

__all__ = ["sinusoidal_positional_encoding"]


def sinusoidal_positional_encoding(length: int, d_model: int, device: torch.device | str | None = None,
                                   base: float = 10000.0) -> torch.Tensor:
    """The (length, d_model) float32 table of sinusoidal encodings: sin on even dimensions, cos on odd ones.

    Dimensions 2i and 2i + 1 share the frequency 1 / base^(2i / d_model), from one cycle per 2π positions (i = 0)
    down to wavelengths near 2π·base. An odd ``d_model`` ends with a sine.
    """
    length, d_model = check_positive_int(length, "length"), check_positive_int(d_model, "d_model")
    pos = torch.arange(length, dtype=torch.float32, device=device)[:, None]          # (length, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float32, device=device)           # 2i
    angle = pos / base ** (two_i / d_model)                                           # pos / 10000^(2i/d)
    pe = torch.zeros(length, d_model, device=device)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe
