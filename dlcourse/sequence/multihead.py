"""Multi-head attention from scratch (Notes §5.3), equal to ``nn.MultiheadAttention`` with the same weights.

    head_j = attention(Q_in W_j^Q, K_in W_j^K, V_in W_j^V),   MHA = concat(head_1, …, head_h) W^O
"""
from __future__ import annotations

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor
from .attention import merge_heads, scaled_dot_product_attention, split_heads

__all__ = ["MultiHeadAttention"]


class MultiHeadAttention(nn.Module):
    """Multi-head attention with d_k = d_v = d_model / h (batch first).

    Args:
        d_model: width of the inputs and of the output.
        num_heads: h; must divide ``d_model``.
        bias: biases in the four projections (as ``nn.MultiheadAttention``).

    ``forward(query, key, value, mask=None)``: ``query`` (B, n_q, d_model), ``key``/``value`` (B, n_k, d_model),
    ``mask`` boolean broadcastable to (B, h, n_q, n_k), True = allowed. Returns the output (B, n_q, d_model); the
    attention weights of every head, (B, h, n_q, n_k), are kept in ``self.weights`` (for the attention view).
    """

    def __init__(self, d_model: int, num_heads: int, bias: bool = True):
        super().__init__()
        self.d_model = check_positive_int(d_model, "d_model")
        self.num_heads = check_positive_int(num_heads, "num_heads")
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
        self.W_q = nn.Linear(d_model, d_model, bias=bias)   # the h matrices W_j^Q side by side
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)   # W^O, (h·d_v) → d_model
        self.weights: torch.Tensor | None = None

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        for t, name in ((query, "query"), (key, "key"), (value, "value")):
            check_tensor(t, name, ndim=3, floating=True)
            if t.shape[-1] != self.d_model:
                raise ValueError(f"{name} must have d_model={self.d_model} features, got shape {tuple(t.shape)}")
        if key.shape[:2] != value.shape[:2] or query.shape[0] != key.shape[0]:
            raise ValueError(f"key and value must have the same batch and length, and query the same batch; got "
                             f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}")
        q = split_heads(self.W_q(query), self.num_heads)    # (B, h, n_q, d_k)
        k = split_heads(self.W_k(key), self.num_heads)
        v = split_heads(self.W_v(value), self.num_heads)
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        self.weights = weights.detach()
        return self.W_o(merge_heads(out))

    @torch.no_grad()
    def load_from_torch(self, mha: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy the weights of a (batch-first or not) ``nn.MultiheadAttention`` of the same size: its
        ``in_proj_weight`` (3·d_model, d_model) stacks W^Q, W^K and W^V; ``out_proj`` is W^O."""
        if not isinstance(mha, nn.MultiheadAttention):
            raise TypeError(f"expected an nn.MultiheadAttention, got {type(mha).__name__}")
        if mha.embed_dim != self.d_model or mha.num_heads != self.num_heads or mha.in_proj_weight is None:
            raise ValueError(f"need embed_dim={self.d_model}, num_heads={self.num_heads} and equal q/k/v widths, got "
                             f"embed_dim={mha.embed_dim}, num_heads={mha.num_heads}")
        d = self.d_model
        for j, lin in enumerate((self.W_q, self.W_k, self.W_v)):
            lin.weight.copy_(mha.in_proj_weight[j * d:(j + 1) * d])
            if lin.bias is not None:
                lin.bias.copy_(mha.in_proj_bias[j * d:(j + 1) * d])
        self.W_o.weight.copy_(mha.out_proj.weight)
        if self.W_o.bias is not None:
            self.W_o.bias.copy_(mha.out_proj.bias)
        return self
