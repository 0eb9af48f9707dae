"""Key-value attention (Notes §5.3): scores of a query against keys, a softmax, a weighted sum of the values.

    attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V

Masks follow ``F.scaled_dot_product_attention``'s boolean convention: True where attention is ALLOWED.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor

__all__ = ["scaled_dot_product_attention", "causal_mask", "dot_scores", "additive_scores", "AdditiveScore",
           "split_heads", "merge_heads"]


def causal_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """The (n, n) boolean mask of a decoder: entry [i, j] is True where query i may look at key j, i.e. j ≤ i
    (no position attends to the future). Notes §5.3."""
    n = check_positive_int(n, "n")
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention (Notes §5.3), equal to ``F.scaled_dot_product_attention``.

    Shapes: ``q`` (..., n_q, d_k), ``k`` (..., n_k, d_k), ``v`` (..., n_k, d_v) with the same leading dimensions;
    ``mask`` boolean, broadcastable to (..., n_q, n_k), True where query i may attend to key j.
    Returns ``(out, weights)``: ``out`` (..., n_q, d_v) and the attention weights (..., n_q, n_k), each row summing
    to 1 (a row whose keys are all masked gives NaN, as in PyTorch).
    """
    for t, name in ((q, "q"), (k, "k"), (v, "v")):
        check_tensor(t, name, floating=True)
        if t.dim() < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (..., n, d), got shape {tuple(t.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same width d_k, got q {tuple(q.shape)} and k {tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have as many rows (one value per key), got k {tuple(k.shape)} and "
                         f"v {tuple(v.shape)}")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])    # Q Kᵀ / √d_k
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            raise TypeError(f"mask must be a boolean tensor (True = allowed), got "
                            f"{mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__}")
        try:
            torch.broadcast_shapes(mask.shape, scores.shape)
        except RuntimeError:
            raise ValueError(f"mask of shape {tuple(mask.shape)} does not broadcast to the scores' shape "
                             f"{tuple(scores.shape)} (..., n_q, n_k)") from None
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)                      # b = softmax(a)
    return weights @ v, weights                                  # o = Σ_i b_i v_i


def dot_scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Dot-product scores α(q, k_i) = ⟨q, k_i⟩ (Notes §5.3): ``q`` (..., n_q, d), ``k`` (..., n_k, d) →
    (..., n_q, n_k). Equal to the cosine similarity only when q and every k_i have unit length."""
    check_tensor(q, "q", floating=True)
    check_tensor(k, "k", floating=True)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same width, got {tuple(q.shape)} and {tuple(k.shape)}")
    return q @ k.transpose(-2, -1)


def additive_scores(q: torch.Tensor, k: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor,
                    w: torch.Tensor) -> torch.Tensor:
    """Additive (Bahdanau) scores α(q, k_i) = wᵀ tanh(W_k k_i + W_q q) (Notes §5.3).

    The notes write the score as the tanh layer alone, a vector; a final vector ``w`` (d_a,) turns it into the one
    number per key that the softmax needs. Shapes: ``q`` (..., n_q, d_q), ``k`` (..., n_k, d_k), ``W_q``
    (d_a, d_q), ``W_k`` (d_a, d_k) → scores (..., n_q, n_k).
    """
    for t, name in ((q, "q"), (k, "k"), (W_q, "W_q"), (W_k, "W_k"), (w, "w")):
        check_tensor(t, name, floating=True)
    if W_q.dim() != 2 or W_k.dim() != 2 or W_q.shape[0] != W_k.shape[0] or w.shape != (W_q.shape[0],):
        raise ValueError(f"W_q (d_a, d_q), W_k (d_a, d_k) and w (d_a,) must share d_a, got {tuple(W_q.shape)}, "
                         f"{tuple(W_k.shape)} and {tuple(w.shape)}")
    if q.shape[-1] != W_q.shape[1] or k.shape[-1] != W_k.shape[1]:
        raise ValueError(f"q's width must be W_q's columns and k's width W_k's columns, got q {tuple(q.shape)}, "
                         f"W_q {tuple(W_q.shape)}, k {tuple(k.shape)}, W_k {tuple(W_k.shape)}")
    hidden = torch.tanh((q @ W_q.T).unsqueeze(-2) + (k @ W_k.T).unsqueeze(-3))   # (..., n_q, n_k, d_a)
    return hidden @ w


class AdditiveScore(nn.Module):
    """:func:`additive_scores` with learned ``W_q``, ``W_k`` and ``w``: ``forward(q, k) -> (..., n_q, n_k)``."""

    def __init__(self, d_q: int, d_k: int, d_attn: int):
        super().__init__()
        self.W_q = nn.Parameter(torch.randn(d_attn, check_positive_int(d_q, "d_q")) / math.sqrt(d_q))
        self.W_k = nn.Parameter(torch.randn(d_attn, check_positive_int(d_k, "d_k")) / math.sqrt(d_k))
        self.w = nn.Parameter(torch.randn(check_positive_int(d_attn, "d_attn")) / math.sqrt(d_attn))

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        return additive_scores(q, k, self.W_q, self.W_k, self.w)


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, n, h·d) → (B, h, n, d): head j gets features j·d … (j+1)·d − 1 of every position (Notes §5.3)."""
    check_tensor(x, "x", ndim=3)
    num_heads = check_positive_int(num_heads, "num_heads")
    B, n, width = x.shape
    if width % num_heads:
        raise ValueError(f"the width {width} must be divisible by num_heads={num_heads}")
    return x.view(B, n, num_heads, width // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, h, n, d) → (B, n, h·d), the inverse of :func:`split_heads`: concat(head_1, …, head_h) per position."""
    check_tensor(x, "x", ndim=4)
    B, h, n, d = x.shape
    return x.transpose(1, 2).reshape(B, n, h * d)
