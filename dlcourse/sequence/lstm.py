"""The LSTM cell of the notes (Notes §5.2.1), with the weights acting on the concatenation [h_{t-1}, x_t].

    f_t = σ(W_f [h_{t-1}, x_t] + b_f)        forget gate
    i_t = σ(W_i [h_{t-1}, x_t] + b_i)        input gate
    C̃_t = tanh(W_C [h_{t-1}, x_t] + b_C)     candidate memory
    C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t          the C-line
    o_t = σ(W_o [h_{t-1}, x_t] + b_o)        output gate
    h_t = o_t ⊙ tanh(C_t)

PyTorch's ``nn.LSTMCell`` keeps the same four maps in another layout: ``weight_ih`` (4H, I) and ``weight_hh``
(4H, H), their rows stacked in the gate order i, f, g (= C̃), o, and two biases. :func:`lstm_weights_from_torch`
converts its weights to the notes' eleven arguments.
"""
from __future__ import annotations

import torch
from torch import nn

from .._utils import check_tensor

__all__ = ["lstm_cell", "lstm_weights_from_torch", "TORCH_GATE_ORDER"]

TORCH_GATE_ORDER = ("i", "f", "C", "o")
"""The order of the four row blocks of ``nn.LSTMCell.weight_ih``/``weight_hh`` (PyTorch calls C̃ the gate g)."""


def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
              W_f: torch.Tensor, b_f: torch.Tensor, W_i: torch.Tensor, b_i: torch.Tensor,
              W_C: torch.Tensor, b_C: torch.Tensor, W_o: torch.Tensor, b_o: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step as in the notes (Notes §5.2.1).

    Shapes: ``x`` (B, I), ``h`` and ``c`` (B, H); each ``W`` (H, H + I), acting on [h, x] (h first); each ``b`` (H,).
    Returns ``(h_t, c_t)``, both (B, H).
    """
    check_tensor(x, "x", ndim=2, floating=True)
    check_tensor(h, "h", ndim=2, floating=True)
    check_tensor(c, "c", ndim=2, floating=True)
    B, n_in = x.shape
    H = h.shape[1]
    if h.shape[0] != B or c.shape != h.shape:
        raise ValueError(f"h and c must both have shape (B, H) with B = {B} (the batch of x), got h {tuple(h.shape)} "
                         f"and c {tuple(c.shape)}")
    for W, b, g in ((W_f, b_f, "f"), (W_i, b_i, "i"), (W_C, b_C, "C"), (W_o, b_o, "o")):
        check_tensor(W, f"W_{g}", ndim=2, floating=True)
        if W.shape != (H, H + n_in):
            raise ValueError(f"W_{g} must have shape (H, H + I) = ({H}, {H + n_in}) to act on [h, x], "
                             f"got {tuple(W.shape)}")
        check_tensor(b, f"b_{g}", ndim=1, floating=True)
        if b.shape != (H,):
            raise ValueError(f"b_{g} must have shape ({H},), got {tuple(b.shape)}")
    hx = torch.cat([h, x], dim=1)                        # [h_{t-1}, x_t], h first
    f = torch.sigmoid(hx @ W_f.T + b_f)                  # f_t = σ(W_f·[h, x] + b_f)
    i = torch.sigmoid(hx @ W_i.T + b_i)                  # i_t = σ(W_i·[h, x] + b_i)
    c_tilde = torch.tanh(hx @ W_C.T + b_C)               # C̃_t = tanh(W_C·[h, x] + b_C)
    c_new = f * c + i * c_tilde                          # C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t
    o = torch.sigmoid(hx @ W_o.T + b_o)                  # o_t = σ(W_o·[h, x] + b_o)
    return o * torch.tanh(c_new), c_new                  # h_t = o_t ⊙ tanh(C_t)


def lstm_weights_from_torch(cell: nn.LSTMCell) -> dict[str, torch.Tensor]:
    """The notes' weights of an ``nn.LSTMCell`` (or a one-layer ``nn.LSTM``): ``{"W_f": …, "b_f": …, …}``.

    For each gate g, rows g·H:(g+1)·H of ``weight_hh`` and ``weight_ih`` side by side give W_g = [W_hh,g | W_ih,g]
    (H, H + I), h's columns first; b_g = b_ih,g + b_hh,g (PyTorch adds two biases where the notes have one).
    """
    if isinstance(cell, nn.LSTM):
        if cell.num_layers != 1 or cell.bidirectional or cell.proj_size:
            raise ValueError("only a single-layer, one-directional nn.LSTM without projection maps to one lstm_cell")
        w_ih, w_hh, b_ih, b_hh = cell.weight_ih_l0, cell.weight_hh_l0, cell.bias_ih_l0, cell.bias_hh_l0
    elif isinstance(cell, nn.LSTMCell):
        w_ih, w_hh, b_ih, b_hh = cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh
    else:
        raise TypeError(f"expected an nn.LSTMCell or nn.LSTM, got {type(cell).__name__}")
    H = w_hh.shape[1]
    b_ih = b_ih if b_ih is not None else w_ih.new_zeros(4 * H)
    b_hh = b_hh if b_hh is not None else w_ih.new_zeros(4 * H)
    out = {}
    for k, g in enumerate(TORCH_GATE_ORDER):
        rows = slice(k * H, (k + 1) * H)
        out[f"W_{g}"] = torch.cat([w_hh[rows], w_ih[rows]], dim=1)
        out[f"b_{g}"] = b_ih[rows] + b_hh[rows]
    return out
