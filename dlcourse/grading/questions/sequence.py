"""Questions of Part 5, sequence modeling: the LSTM cell, scaled dot-product attention, the causal mask, the
sinusoidal positional encoding, and splitting and merging attention heads.

The wrong answers are written without the forbidden operators (they are graded under the same ban as a student's
answer).
"""
from __future__ import annotations

import math

import torch

from ...sequence.attention import causal_mask, merge_heads, scaled_dot_product_attention, split_heads
from ...sequence.lstm import lstm_cell
from ...sequence.positional import sinusoidal_positional_encoding
from ..registry import Case, Mistake, Question, register


def _int(gen: torch.Generator, low: int, high: int) -> int:
    """A random int in [low, high]."""
    return int(torch.randint(low, high + 1, (), generator=gen))


# ---------------------------------------------------------------------------------------------------------------------
# sequence.lstm_cell(x, h, c, W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o) -> (h, c)


def _lstm_case(gen: torch.Generator, B=None, n_in=None, H=None, label="") -> Case:
    B = B or _int(gen, 1, 4)
    n_in = n_in or _int(gen, 1, 5)
    H = H or _int(gen, 1, 5)
    x, h, c = torch.randn(B, n_in, generator=gen), torch.randn(B, H, generator=gen), torch.randn(B, H, generator=gen)
    params = []
    for _ in range(4):
        params += [torch.randn(H, H + n_in, generator=gen), torch.randn(H, generator=gen)]
    return Case(x, h, c, *params, label=label)


def _lstm_variant(x, h, c, W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o, order="hx", swap_fi=False, no_tanh_c=False,
                  no_input_gate=False):
    hx = torch.cat([h, x] if order == "hx" else [x, h], dim=1)
    f = torch.sigmoid(hx @ W_f.T + b_f)
    i = torch.sigmoid(hx @ W_i.T + b_i)
    if swap_fi:
        f, i = i, f
    c_tilde = torch.tanh(hx @ W_C.T + b_C)
    c_new = f * c + (c_tilde if no_input_gate else i * c_tilde)
    o = torch.sigmoid(hx @ W_o.T + b_o)
    return (o * c_new if no_tanh_c else o * torch.tanh(c_new)), c_new


def _lstm_xh(*args):
    return _lstm_variant(*args, order="xh")


def _lstm_swap(*args):
    return _lstm_variant(*args, swap_fi=True)


def _lstm_no_tanh(*args):
    return _lstm_variant(*args, no_tanh_c=True)


def _lstm_no_i(*args):
    return _lstm_variant(*args, no_input_gate=True)


_g = torch.Generator().manual_seed(5)
register(Question(
    qid="sequence.lstm_cell",
    reference=lstm_cell,
    cases=[_lstm_case(_g, 1, 1, 1, label="one sequence, one input feature, one unit"),
           _lstm_case(_g, 3, 2, 4, label="batch of 3, I = 2, H = 4 (W of shape (4, 6), acting on [h, x])"),
           _lstm_case(_g, 2, 5, 3, label="I = 5 > H = 3: the columns of h come first"),
           _lstm_case(_g, 4, 3, 3, label="I = H = 3: [h, x] and [x, h] have the same shape")],
    random_case=_lstm_case,
    mistakes=[
        Mistake("[x, h]", _lstm_xh, "The notes concatenate [h_{t-1}, x_t]: the first H columns of each W act on h."),
        Mistake("f and i swapped", _lstm_swap, "f_t (W_f) multiplies the old memory C_{t-1}; i_t (W_i) multiplies "
                "the candidate C~_t."),
        Mistake("no tanh on C", _lstm_no_tanh, "The output is h_t = o_t * tanh(C_t): squash the memory first."),
        Mistake("no input gate", _lstm_no_i, "The candidate enters the memory through the input gate: C_t = f_t * "
                "C_{t-1} + i_t * C~_t."),
    ],
    forbid=("dlcourse.sequence.lstm_cell", "dlcourse.sequence.lstm.lstm_cell", "torch.nn.LSTMCell", "torch.nn.LSTM",
            "torch.lstm_cell"),
    rtol=1e-5, atol=1e-5,
))

# ---------------------------------------------------------------------------------------------------------------------
# sequence.scaled_dot_product_attention(q, k, v, mask=None) -> (out, weights)


def _sdpa_case(gen: torch.Generator, masked=None) -> Case:
    lead = (_int(gen, 1, 3),) * _int(gen, 0, 1) + (_int(gen, 1, 3),)
    n_q, n_k, d_k, d_v = _int(gen, 1, 6), _int(gen, 2, 6), _int(gen, 2, 8), _int(gen, 1, 6)
    q = torch.randn(*lead, n_q, d_k, generator=gen) * 2
    k = torch.randn(*lead, n_k, d_k, generator=gen) * 2
    v = torch.randn(*lead, n_k, d_v, generator=gen)
    masked = bool(_int(gen, 0, 1)) if masked is None else masked
    if not masked:
        return Case(q, k, v)
    mask = torch.rand(n_q, n_k, generator=gen) > 0.4
    mask[:, 0] = True                    # every query may see at least one key
    return Case(q, k, v, mask)


def _sdpa_variant(q, k, v, mask=None, scale="sqrt", invert=False, dim=-1):
    d = q.shape[-1]
    s = {"sqrt": math.sqrt(d), "none": 1.0, "d": float(d)}[scale]
    scores = q @ k.transpose(-2, -1) / s
    if mask is not None:
        scores = scores.masked_fill(mask if invert else ~mask, float("-inf"))
    weights = torch.softmax(scores, dim=dim)
    return torch.nan_to_num(weights) @ v, weights


def _no_scale(q, k, v, mask=None):
    return _sdpa_variant(q, k, v, mask, scale="none")


def _scale_d(q, k, v, mask=None):
    return _sdpa_variant(q, k, v, mask, scale="d")


def _inverted(q, k, v, mask=None):
    return _sdpa_variant(q, k, v, mask, invert=True)


def _wrong_dim(q, k, v, mask=None):
    return _sdpa_variant(q, k, v, mask, dim=-2)


_g = torch.Generator().manual_seed(7)
_causal = torch.ones(4, 4, dtype=torch.bool).tril()
register(Question(
    qid="sequence.scaled_dot_product_attention",
    reference=scaled_dot_product_attention,
    cases=[Case(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([[1.0], [3.0]]),
                label="one query, two keys, d_k = 2 (scores 2/sqrt(2) and 0)"),
           Case(torch.randn(2, 4, 8, generator=_g), torch.randn(2, 4, 8, generator=_g),
                torch.randn(2, 4, 3, generator=_g), label="self-attention shapes, no mask"),
           Case(torch.randn(2, 4, 8, generator=_g) * 3, torch.randn(2, 4, 8, generator=_g) * 3,
                torch.randn(2, 4, 3, generator=_g), _causal, label="a causal mask (True = allowed)"),
           Case(torch.randn(1, 2, 3, 16, generator=_g), torch.randn(1, 2, 5, 16, generator=_g),
                torch.randn(1, 2, 5, 4, generator=_g), label="heads as a leading dimension, n_q = 3, n_k = 5")],
    random_case=_sdpa_case,
    mistakes=[
        Mistake("no scale", _no_scale, "Divide the scores Q K^T by sqrt(d_k) before the softmax."),
        Mistake("scale by d_k", _scale_d, "The scale is the SQUARE ROOT of d_k: the scores' variance is d_k."),
        Mistake("inverted mask", _inverted, "The mask is True where attention is ALLOWED: fill the scores with -inf "
                "where the mask is False (~mask)."),
        Mistake("softmax over queries", _wrong_dim, "Normalise over the keys (the last axis): each query's weights "
                "sum to 1."),
    ],
    forbid=("dlcourse.sequence.scaled_dot_product_attention",
            "dlcourse.sequence.attention.scaled_dot_product_attention",
            "torch.nn.functional.scaled_dot_product_attention", "torch.nn.functional.multi_head_attention_forward"),
    rtol=1e-5, atol=1e-5,
))

# ---------------------------------------------------------------------------------------------------------------------
# sequence.causal_mask(n) -> (n, n) bool


register(Question(
    qid="sequence.causal_mask",
    reference=causal_mask,
    cases=[Case(3, label="n = 3"), Case(1, label="edge: n = 1 (a position may attend to itself)"),
           Case(5, label="n = 5")],
    random_case=lambda gen: Case(_int(gen, 1, 12)),
    mistakes=[
        Mistake("future allowed", lambda n: torch.ones(n, n, dtype=torch.bool).triu(),
                "Row i is the query: it may look at keys j <= i (the past), not j >= i: the LOWER triangle."),
        Mistake("no diagonal", lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1),
                "A position may attend to itself: the diagonal is True."),
        Mistake("inverted", lambda n: ~torch.ones(n, n, dtype=torch.bool).tril(),
                "True means ALLOWED (as in F.scaled_dot_product_attention): the past and the present are True."),
        Mistake("not boolean", lambda n: torch.ones(n, n).tril(),
                "Return a boolean tensor (dtype torch.bool): a float mask would be ADDED to the scores."),
    ],
    postprocess=lambda m: m if not isinstance(m, torch.Tensor) or m.dtype == torch.bool else m.to(torch.int8) + 2,
    forbid=("dlcourse.sequence.causal_mask", "dlcourse.sequence.attention.causal_mask"),
))

# ---------------------------------------------------------------------------------------------------------------------
# sequence.sinusoidal_positional_encoding(length, d_model) -> (length, d_model)


def _pe_variant(length, d_model, swap=False, i_not_2i=False, start=0):
    pos = torch.arange(start, start + length, dtype=torch.float32)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float32)
    expo = (two_i / 2 if i_not_2i else two_i) / d_model
    angle = pos / 10000.0 ** expo
    pe = torch.zeros(length, d_model)
    first, second = (torch.cos, torch.sin) if swap else (torch.sin, torch.cos)
    pe[:, 0::2] = first(angle)
    pe[:, 1::2] = second(angle[:, : d_model // 2])
    return pe


register(Question(
    qid="sequence.sinusoidal_positional_encoding",
    reference=lambda length, d_model: sinusoidal_positional_encoding(length, d_model),
    cases=[Case(1, 2, label="edge: one position, two dimensions"), Case(4, 4, label="4 positions, d_model = 4"),
           Case(50, 16, label="50 positions, d_model = 16 (slow frequencies matter)"),
           Case(6, 5, label="an odd d_model: the last dimension is a sine")],
    random_case=lambda gen: Case(_int(gen, 1, 60), 2 * _int(gen, 1, 16)),
    mistakes=[
        Mistake("sin and cos swapped", lambda length, d_model: _pe_variant(length, d_model, swap=True),
                "Even dimensions 2i hold the sine, odd dimensions 2i + 1 the cosine."),
        Mistake("exponent i / d", lambda length, d_model: _pe_variant(length, d_model, i_not_2i=True),
                "The exponent of 10000 is 2i / d_model, where 2i is the even dimension index (0, 2, 4, ...)."),
        Mistake("positions from 1", lambda length, d_model: _pe_variant(length, d_model, start=1),
                "Positions start at 0: the first row is sin(0) = 0 and cos(0) = 1."),
    ],
    forbid=("dlcourse.sequence.sinusoidal_positional_encoding",
            "dlcourse.sequence.positional.sinusoidal_positional_encoding"),
    rtol=1e-4, atol=1e-5,
))

# ---------------------------------------------------------------------------------------------------------------------
# sequence.split_heads(x, num_heads) -> (B, h, n, d)   and   sequence.merge_heads(x) -> (B, n, h*d)


def _split_case(gen: torch.Generator) -> Case:
    h, d = _int(gen, 1, 4), _int(gen, 1, 4)
    return Case(torch.randn(_int(gen, 1, 3), _int(gen, 1, 5), h * d, generator=gen), h)


_x = torch.arange(2 * 3 * 8, dtype=torch.float32).view(2, 3, 8)
register(Question(
    qid="sequence.split_heads",
    reference=split_heads,
    cases=[Case(_x, 2, label="B = 2, n = 3, width 8 into 2 heads of 4 (entries numbered)"),
           Case(_x, 4, label="the same into 4 heads of 2"),
           Case(_x, 1, label="edge: one head"),
           Case(torch.randn(1, 5, 6, generator=torch.Generator().manual_seed(2)), 3, label="n = 5, 3 heads of 2")],
    random_case=_split_case,
    mistakes=[
        Mistake("reshape without transpose", lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1),
                "A plain reshape to (B, h, n, d) mixes positions: view as (B, n, h, d) first, then swap n and h."),
        Mistake("heads interleaved", lambda x, h: x.view(x.shape[0], x.shape[1], -1, h).permute(0, 3, 1, 2),
                "Head j takes the CONTIGUOUS features j*d ... (j+1)*d - 1: view the width as (h, d), not (d, h)."),
        Mistake("heads last", lambda x, h: x.view(x.shape[0], x.shape[1], h, -1).permute(0, 2, 3, 1),
                "The result is (B, h, n, d): positions before the features, so that q @ k^T compares positions."),
    ],
    forbid=("dlcourse.sequence.split_heads", "dlcourse.sequence.attention.split_heads"),
))


def _merge_case(gen: torch.Generator) -> Case:
    return Case(torch.randn(_int(gen, 1, 3), _int(gen, 1, 4), _int(gen, 1, 5), _int(gen, 1, 4), generator=gen))


register(Question(
    qid="sequence.merge_heads",
    reference=merge_heads,
    cases=[Case(split_heads(_x, 2), label="the numbered (2, 3, 8) tensor split into 2 heads: merging gives it back"),
           Case(torch.arange(24.0).view(1, 3, 2, 4), label="B = 1, 3 heads, 2 positions, d = 4"),
           Case(torch.randn(2, 1, 4, 3, generator=torch.Generator().manual_seed(3)), label="edge: one head")],
    random_case=_merge_case,
    mistakes=[
        Mistake("reshape without transpose", lambda x: x.reshape(x.shape[0], x.shape[2], -1),
                "Swap the head and position axes back (transpose(1, 2)) before joining the heads' features."),
        Mistake("heads interleaved", lambda x: x.permute(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], -1),
                "concat(head_1, ..., head_h): head 1's d features first, then head 2's (order (h, d), not (d, h))."),
        Mistake("sum of heads", lambda x: x.sum(1),
                "The heads are concatenated (width h * d), not added."),
    ],
    forbid=("dlcourse.sequence.merge_heads", "dlcourse.sequence.attention.merge_heads"),
))
