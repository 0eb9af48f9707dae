"""dlcourse.sequence against PyTorch: nn.RNN, nn.LSTMCell, F.scaled_dot_product_attention, nn.MultiheadAttention."""
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from dlcourse.sequence import (RNN, MultiHeadAttention, additive_scores, causal_mask, dot_scores, lstm_cell,
                               lstm_weights_from_torch, merge_heads, rnn_backward, rnn_forward,
                               scaled_dot_product_attention, sinusoidal_positional_encoding, split_heads)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ----------------------------------------------------------------------------------------------------------- RNN
def test_rnn_equals_nn_rnn_forward_and_gradients():
    ref = nn.RNN(3, 5, batch_first=True).double()
    mine = RNN(3, 5).double()
    mine.load_state_dict({k: v for k, v in ref.state_dict().items()}, strict=True)
    x = torch.randn(4, 7, 3, dtype=torch.double)
    h0 = torch.randn(4, 5, dtype=torch.double)
    out_r, h_r = ref(x, h0[None])
    out_m, h_m = mine(x, h0)
    torch.testing.assert_close(out_m, out_r)
    torch.testing.assert_close(h_m, h_r[0])
    w = torch.randn_like(out_r)
    (out_r * w).sum().backward()
    (out_m * w).sum().backward()
    for (name, p), q in zip(ref.named_parameters(), mine.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, msg=name)


def test_rnn_backward_equals_autograd():
    B, T, n_in, H = 3, 6, 2, 4
    x = torch.randn(B, T, n_in, dtype=torch.double, requires_grad=True)
    h0 = torch.randn(B, H, dtype=torch.double, requires_grad=True)
    W_ih = torch.randn(H, n_in, dtype=torch.double, requires_grad=True)
    W_hh = (0.5 * torch.randn(H, H, dtype=torch.double)).requires_grad_()
    b_ih = torch.randn(H, dtype=torch.double, requires_grad=True)
    b_hh = torch.randn(H, dtype=torch.double, requires_grad=True)
    out, _ = rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    g_out = torch.randn_like(out)
    (out * g_out).sum().backward()
    mine = rnn_backward(x.detach(), h0.detach(), W_ih.detach(), W_hh.detach(), out.detach(), g_out)
    for name, t in (("x", x), ("h0", h0), ("W_ih", W_ih), ("W_hh", W_hh), ("b_ih", b_ih), ("b_hh", b_hh)):
        torch.testing.assert_close(mine[name], t.grad, msg=name)


def test_rnn_init_modes():
    x = torch.randn(2, 3, 4)
    assert RNN(4, 5, h0="learned").h0.shape == (5,)
    out_a, _ = RNN(4, 5, h0="random")(x)
    assert out_a.shape == (2, 3, 5)
    with pytest.raises(ValueError, match="h0 must be one of"):
        RNN(4, 5, h0="ones")


def test_rnn_rejects_bad_input():
    rnn = RNN(3, 5)
    with pytest.raises(ValueError, match="3 features"):
        rnn(torch.randn(2, 4, 2))
    with pytest.raises(ValueError, match="3 dimensions"):
        rnn(torch.randn(2, 3))
    with pytest.raises(ValueError, match="h0 must have shape"):
        rnn(torch.randn(2, 4, 3), torch.zeros(3, 5))
    with pytest.raises(ValueError, match="W_ih must have shape"):
        rnn_forward(torch.randn(2, 4, 3), torch.zeros(2, 5), torch.randn(5, 2), torch.randn(5, 5))
    with pytest.raises(ValueError, match="positive"):
        RNN(3, -1)


# ---------------------------------------------------------------------------------------------------------- LSTM
def test_lstm_cell_equals_nn_lstmcell_forward_and_gradients():
    cell = nn.LSTMCell(3, 4).double()
    x = torch.randn(5, 3, dtype=torch.double)
    h = torch.randn(5, 4, dtype=torch.double)
    c = torch.randn(5, 4, dtype=torch.double)
    weights = {k: v.detach().clone().requires_grad_() for k, v in lstm_weights_from_torch(cell).items()}
    h_ref, c_ref = cell(x, (h, c))
    h_new, c_new = lstm_cell(x, h, c, **weights)
    torch.testing.assert_close(h_new, h_ref)
    torch.testing.assert_close(c_new, c_ref)
    (h_new.sum() + 2 * c_new.sum()).backward()
    (h_ref.sum() + 2 * c_ref.sum()).backward()
    H = 4
    for k, g in enumerate("ifCo"):   # PyTorch's order i, f, g, o; columns of h first
        rows = slice(k * H, (k + 1) * H)
        torch.testing.assert_close(weights[f"W_{g}"].grad[:, :H], cell.weight_hh.grad[rows])
        torch.testing.assert_close(weights[f"W_{g}"].grad[:, H:], cell.weight_ih.grad[rows])
        torch.testing.assert_close(weights[f"b_{g}"].grad, cell.bias_ih.grad[rows])


def test_lstm_cell_order_matters():
    cell = nn.LSTMCell(4, 4)
    w = lstm_weights_from_torch(cell)
    x, h, c = torch.randn(2, 4), torch.randn(2, 4), torch.randn(2, 4)
    swapped = dict(w, W_f=w["W_i"], W_i=w["W_f"], b_f=w["b_i"], b_i=w["b_f"])
    assert not torch.allclose(lstm_cell(x, h, c, **swapped)[1], cell(x, (h, c))[1])


def test_lstm_cell_rejects_bad_input():
    cell = nn.LSTMCell(3, 4)
    w = lstm_weights_from_torch(cell)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    with pytest.raises(ValueError, match=r"\(H, H \+ I\) = \(4, 9\)"):
        lstm_cell(torch.randn(2, 5), h, c, **w)
    with pytest.raises(ValueError, match="h and c"):
        lstm_cell(x, h, torch.randn(3, 4), **w)
    with pytest.raises(ValueError, match="b_o must have shape"):
        lstm_cell(x, h, c, **dict(w, b_o=torch.zeros(5)))
    with pytest.raises(TypeError):
        lstm_weights_from_torch(nn.RNNCell(3, 4))


# ----------------------------------------------------------------------------------------------------- attention
@pytest.mark.parametrize("use_mask", [False, True])
def test_sdpa_equals_torch(use_mask):
    q = torch.randn(2, 3, 5, 8, dtype=torch.double)
    k = torch.randn(2, 3, 6, 8, dtype=torch.double)
    v = torch.randn(2, 3, 6, 4, dtype=torch.double)
    mask = torch.rand(5, 6) > 0.3 if use_mask else None
    if mask is not None:
        mask[:, 0] = True
    out, w = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 5, dtype=torch.double))
    scores = q @ k.transpose(-1, -2) / math.sqrt(8)
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
        assert torch.all(w[..., ~mask] == 0)
    torch.testing.assert_close(w, scores.softmax(-1))


def test_causal_mask_matches_is_causal():
    n = 6
    m = causal_mask(n)
    assert m.dtype == torch.bool and m[2, 3].item() is False and m[3, 2].item() is True
    q, k, v = (torch.randn(2, n, 4, dtype=torch.double) for _ in range(3))
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v, m)[0],
                               F.scaled_dot_product_attention(q, k, v, is_causal=True))
    with pytest.raises(ValueError):
        causal_mask(-2)


def test_sdpa_rejects_bad_input():
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    with pytest.raises(ValueError, match="same width d_k"):
        scaled_dot_product_attention(q, torch.randn(2, 5, 3), v)
    with pytest.raises(ValueError, match="one value per key"):
        scaled_dot_product_attention(q, k, torch.randn(2, 4, 6))
    with pytest.raises(TypeError, match="boolean"):
        scaled_dot_product_attention(q, k, v, torch.ones(3, 5))
    with pytest.raises(ValueError, match="does not broadcast"):
        scaled_dot_product_attention(q, k, v, torch.ones(3, 4, dtype=torch.bool))


def test_dot_and_additive_scores():
    q, k = torch.randn(3, 4), torch.randn(5, 4)
    torch.testing.assert_close(dot_scores(q, k), torch.einsum("id,jd->ij", q, k))
    W_q, W_k, w = torch.randn(6, 4), torch.randn(6, 4), torch.randn(6)
    loop = torch.tensor([[float(w @ torch.tanh(W_k @ k[j] + W_q @ q[i])) for j in range(5)] for i in range(3)])
    torch.testing.assert_close(additive_scores(q, k, W_q, W_k, w), loop)
    with pytest.raises(ValueError, match="share d_a"):
        additive_scores(q, k, W_q, torch.randn(5, 4), w)


def test_split_merge_heads_roundtrip():
    x = torch.randn(2, 5, 12)
    s = split_heads(x, 3)
    assert s.shape == (2, 3, 5, 4)
    torch.testing.assert_close(s[:, 1], x[..., 4:8])
    torch.testing.assert_close(merge_heads(s), x)
    with pytest.raises(ValueError, match="divisible"):
        split_heads(x, 5)


@pytest.mark.parametrize("masked", [False, True])
def test_multihead_equals_nn_multiheadattention(masked):
    d, h = 12, 3
    ref = nn.MultiheadAttention(d, h, batch_first=True).double()
    mine = MultiHeadAttention(d, h).double().load_from_torch(ref)
    q = torch.randn(2, 5, d, dtype=torch.double, requires_grad=True)
    kv = torch.randn(2, 7, d, dtype=torch.double)
    mask = (torch.rand(5, 7) > 0.4) if masked else None
    if mask is not None:
        mask[:, 0] = True
    out_r, w_r = ref(q, kv, kv, attn_mask=None if mask is None else ~mask, average_attn_weights=False)
    out_m = mine(q, kv, kv, mask)
    torch.testing.assert_close(out_m, out_r)
    torch.testing.assert_close(mine.weights, w_r)
    g = torch.autograd.grad(out_m.sum(), q)[0]
    g_r = torch.autograd.grad(out_r.sum(), q)[0]
    torch.testing.assert_close(g, g_r)


def test_multihead_rejects_bad_input():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    mha = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match="d_model=8"):
        mha(torch.randn(1, 3, 6), torch.randn(1, 3, 8), torch.randn(1, 3, 8))
    with pytest.raises(ValueError, match="same batch and length"):
        mha(torch.randn(1, 3, 8), torch.randn(1, 4, 8), torch.randn(1, 5, 8))


# ---------------------------------------------------------------------------------------------------- positional
def test_sinusoidal_positional_encoding():
    pe = sinusoidal_positional_encoding(50, 16)
    assert pe.shape == (50, 16)
    pos, i = 7, 3
    angle = pos / 10000 ** (2 * i / 16)
    assert math.isclose(pe[pos, 2 * i].item(), math.sin(angle), abs_tol=1e-6)
    assert math.isclose(pe[pos, 2 * i + 1].item(), math.cos(angle), abs_tol=1e-6)
    assert torch.all(pe[0, 0::2] == 0) and torch.all(pe[0, 1::2] == 1)
    assert sinusoidal_positional_encoding(4, 5).shape == (4, 5)
    with pytest.raises(ValueError):
        sinusoidal_positional_encoding(0, 8)
    with pytest.raises(TypeError):
        sinusoidal_positional_encoding(4, 8.0)
