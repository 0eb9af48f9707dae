"""Transformer blocks and the three architectures of the notes (Notes §5.3).

- :class:`FeedForward`: Linear → ReLU → Linear at every position.
- :class:`EncoderBlock`: self-attention (queries, keys and values from the input), then the feed-forward layer.
- :class:`DecoderBlock`: masked self-attention, cross-attention (queries from the decoder, keys and values from the
  encoder's output), then the feed-forward layer.
- :class:`Seq2SeqTransformer` (encoder-decoder), :class:`DecoderOnlyLM` (a causal language model) and
  :class:`EncoderClassifier` (encoder-only).

Each sub-layer sits in a residual connection with layer normalization. The notes do not say where the norm goes; the
original Transformer normalizes after the residual sum ("post-norm"); these blocks normalize the sub-layer's input
("pre-norm", as GPT-2 and most later models), which trains small models reliably without a warm-up.
"""
from __future__ import annotations

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor
from .attention import causal_mask
from .multihead import MultiHeadAttention
from .positional import sinusoidal_positional_encoding

__all__ = ["FeedForward", "EncoderBlock", "DecoderBlock", "TokenEmbedding", "Seq2SeqTransformer", "DecoderOnlyLM",
           "EncoderClassifier"]


class FeedForward(nn.Module):
    """FFN(x) = W_2 ReLU(W_1 x + b_1) + b_2 at each position: (..., d_model) → (..., d_model)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(check_positive_int(d_model, "d_model"), check_positive_int(d_ff, "d_ff")),
                                 nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class EncoderBlock(nn.Module):
    """x ← x + MHA(LN(x), LN(x), LN(x), mask); x ← x + FFN(LN(x)). Input and output (B, n, d_model).

    With a causal ``mask`` this is also the block of a decoder-only model (masked self-attention, no encoder).
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.attn = MultiHeadAttention(d_model, num_heads)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        y = self.norm1(x)
        x = x + self.drop(self.attn(y, y, y, mask))          # self-attention: Q, K, V all from x
        return x + self.drop(self.ffn(self.norm2(x)))


class DecoderBlock(nn.Module):
    """Masked self-attention, cross-attention to ``memory`` (the encoder's output), feed-forward.

    ``forward(x, memory, self_mask=None, memory_mask=None)``: ``x`` (B, n_out, d_model), ``memory``
    (B, n_in, d_model) → (B, n_out, d_model). Keys and values of the cross-attention come from ``memory``, its
    queries from the decoder.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.cross_attn = MultiHeadAttention(d_model, num_heads)
        self.ffn = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, self_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        check_tensor(memory, "memory", ndim=3, floating=True)
        y = self.norm1(x)
        x = x + self.drop(self.self_attn(y, y, y, self_mask))
        x = x + self.drop(self.cross_attn(self.norm2(x), memory, memory, memory_mask))
        return x + self.drop(self.ffn(self.norm3(x)))


class TokenEmbedding(nn.Module):
    """A learned embedding of the tokens plus the fixed sinusoidal encoding of their positions:
    ids (B, n) int64 → (B, n, d_model). Positions beyond ``max_len`` are rejected."""

    def __init__(self, vocab_size: int, d_model: int, max_len: int):
        super().__init__()
        self.embed = nn.Embedding(check_positive_int(vocab_size, "vocab_size"), check_positive_int(d_model, "d_model"))
        nn.init.normal_(self.embed.weight, std=d_model ** -0.5)   # × √d_model below: unit scale, like the encoding
        self.register_buffer("pe", sinusoidal_positional_encoding(check_positive_int(max_len, "max_len"), d_model),
                             persistent=False)
        self.scale = d_model ** 0.5

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        check_tensor(ids, "ids", ndim=2)
        if ids.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"ids must be an integer tensor of token ids, got dtype {ids.dtype}")
        if ids.shape[1] > self.pe.shape[0]:
            raise ValueError(f"sequences of length {ids.shape[1]} exceed max_len={self.pe.shape[0]}")
        return self.embed(ids) * self.scale + self.pe[: ids.shape[1]]


class Seq2SeqTransformer(nn.Module):
    """Encoder-decoder (Notes §5.3): ``forward(src, tgt_in)`` → logits (B, n_out, vocab_out).

    ``tgt_in`` is the target shifted right behind a start token (teacher forcing); :meth:`generate` decodes greedily,
    one token at a time, feeding each prediction back in.
    """

    def __init__(self, vocab_in: int, vocab_out: int, d_model: int = 64, num_heads: int = 4, num_layers: int = 2,
                 d_ff: int = 128, max_len: int = 64, dropout: float = 0.0):
        super().__init__()
        self.src_embed = TokenEmbedding(vocab_in, d_model, max_len)
        self.tgt_embed = TokenEmbedding(vocab_out, d_model, max_len)
        self.encoder = nn.ModuleList(EncoderBlock(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.decoder = nn.ModuleList(DecoderBlock(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.norm_enc, self.norm_dec = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_out)

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        x = self.src_embed(src)
        for block in self.encoder:
            x = block(x)
        return self.norm_enc(x)

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        x = self.tgt_embed(tgt_in)
        mask = causal_mask(tgt_in.shape[1], device=tgt_in.device)
        for block in self.decoder:
            x = block(x, memory, self_mask=mask)
        return self.head(self.norm_dec(x))

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt_in, self.encode(src))

    @torch.no_grad()
    def generate(self, src: torch.Tensor, length: int, start_token: int) -> torch.Tensor:
        """Greedy decoding: (B, n_in) → (B, length) token ids."""
        memory = self.encode(src)
        out = torch.full((src.shape[0], 1), start_token, dtype=torch.long, device=src.device)
        for _ in range(check_positive_int(length, "length")):
            nxt = self.decode(out, memory)[:, -1].argmax(-1, keepdim=True)
            out = torch.cat([out, nxt], dim=1)
        return out[:, 1:]


class DecoderOnlyLM(nn.Module):
    """A decoder-only (GPT-style) language model: blocks of masked self-attention and feed-forward, no encoder.

    ``forward(ids)``: (B, n) with n ≤ ``context`` → next-token logits (B, n, vocab). ``causal=False`` drops the mask
    (an ablation: every position then sees the character it is asked to predict).
    """

    def __init__(self, vocab_size: int, d_model: int = 128, num_heads: int = 4, num_layers: int = 2,
                 d_ff: int = 512, context: int = 64, dropout: float = 0.0, causal: bool = True):
        super().__init__()
        self.context = check_positive_int(context, "context")
        self.causal = bool(causal)
        self.embed = TokenEmbedding(vocab_size, d_model, context)
        self.blocks = nn.ModuleList(EncoderBlock(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)
        mask = causal_mask(ids.shape[1], device=ids.device) if self.causal else None
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.norm(x))

    def attention_maps(self) -> torch.Tensor:
        """The attention weights of the last forward pass, (num_layers, B, h, n, n)."""
        return torch.stack([block.attn.weights for block in self.blocks])


class EncoderClassifier(nn.Module):
    """Encoder-only (Notes §5.3, e.g. BERT): a learned [CLS] token is prepended, the encoder reads the whole sequence
    without a mask, and a linear head classifies the [CLS] position. ``forward(ids)`` (B, n) → logits (B, classes)."""

    def __init__(self, vocab_size: int, num_classes: int, d_model: int = 32, num_heads: int = 2,
                 num_layers: int = 2, d_ff: int = 64, max_len: int = 64):
        super().__init__()
        self.cls_id = check_positive_int(vocab_size, "vocab_size")   # the extra token id for [CLS]
        self.embed = TokenEmbedding(vocab_size + 1, d_model, max_len + 1)
        self.blocks = nn.ModuleList(EncoderBlock(d_model, num_heads, d_ff) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, check_positive_int(num_classes, "num_classes"))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        check_tensor(ids, "ids", ndim=2)
        cls = torch.full((ids.shape[0], 1), self.cls_id, dtype=ids.dtype, device=ids.device)
        x = self.embed(torch.cat([cls, ids], dim=1))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))
