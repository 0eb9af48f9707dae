"""A recurrent neural network written out step by step (Notes §5.2), equal to ``nn.RNN`` with the same weights.

    h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)

The same weights act at every time step, so their gradient is the sum of one term per step (backpropagation through
time, :func:`rnn_backward`).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor

__all__ = ["rnn_forward", "rnn_backward", "RNN", "INIT_MODES"]

INIT_MODES = ("zero", "random", "learned")


def _check_rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
    check_tensor(x, "x", ndim=3, floating=True)
    check_tensor(W_ih, "W_ih", ndim=2, floating=True)
    check_tensor(W_hh, "W_hh", ndim=2, floating=True)
    B, T, n_in = x.shape
    H = W_hh.shape[0]
    if W_hh.shape != (H, H):
        raise ValueError(f"W_hh must be square (H, H), got shape {tuple(W_hh.shape)}")
    if W_ih.shape != (H, n_in):
        raise ValueError(f"W_ih must have shape (H, I) = ({H}, {n_in}) for inputs of width {n_in}, "
                         f"got {tuple(W_ih.shape)}")
    for b, name in ((b_ih, "b_ih"), (b_hh, "b_hh")):
        if b is not None and (check_tensor(b, name, ndim=1, floating=True).shape != (H,)):
            raise ValueError(f"{name} must have shape ({H},), got {tuple(b.shape)}")
    check_tensor(h0, "h0", ndim=2, floating=True)
    if h0.shape != (B, H):
        raise ValueError(f"h0 must have shape (B, H) = ({B}, {H}), got {tuple(h0.shape)}")


def rnn_forward(x: torch.Tensor, h0: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor,
                b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Run a tanh RNN over a batch of sequences (Notes §5.2).

    Shapes: ``x`` (B, T, I) (batch first), ``h0`` (B, H), ``W_ih`` (H, I), ``W_hh`` (H, H), biases (H,) or None.
    Returns ``(out, h_T)``: every hidden state ``out`` (B, T, H) and the last one (B, H), as ``nn.RNN`` with
    ``batch_first=True``. The loop over time is the point: step t needs h_{t-1}.
    """
    _check_rnn(x, h0, W_ih, W_hh, b_ih, b_hh)
    pre_x = x @ W_ih.T                                   # all input terms at once: x_t W_ihᵀ
    if b_ih is not None:
        pre_x = pre_x + b_ih
    h, states = h0, []
    for t in range(x.shape[1]):
        a = pre_x[:, t] + h @ W_hh.T                     # a_t = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
        if b_hh is not None:
            a = a + b_hh
        h = torch.tanh(a)                                # h_t = tanh(a_t)
        states.append(h)
    out = torch.stack(states, dim=1) if states else x.new_zeros(x.shape[0], 0, W_hh.shape[0])
    return out, h


@torch.no_grad()
def rnn_backward(x: torch.Tensor, h0: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor, out: torch.Tensor,
                 grad_out: torch.Tensor) -> dict[str, torch.Tensor]:
    """Backpropagation through time for :func:`rnn_forward` (Notes §5.2), written out.

    Given the inputs, the states ``out`` (B, T, H) of the forward pass and the gradient of the loss with respect to
    every state, ``grad_out`` (B, T, H), returns the gradients ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh``, ``h0`` and
    ``x``. Going backwards, δ_t = (∂L/∂h_t + δ_{t+1} W_hh) ⊙ (1 − h_t²), and each weight gathers the SUM over t
    of its per-step terms: the weights are shared by all steps.
    """
    _check_rnn(x, h0, W_ih, W_hh, None, None)
    B, T, _ = x.shape
    if out.shape != (B, T, W_hh.shape[0]) or grad_out.shape != out.shape:
        raise ValueError(f"out and grad_out must have shape {(B, T, W_hh.shape[0])}, got {tuple(out.shape)} and "
                         f"{tuple(grad_out.shape)}")
    g = {"W_ih": torch.zeros_like(W_ih), "W_hh": torch.zeros_like(W_hh),
         "b_ih": W_hh.new_zeros(W_hh.shape[0]), "b_hh": W_hh.new_zeros(W_hh.shape[0]), "x": torch.zeros_like(x)}
    carry = torch.zeros_like(h0)                         # ∂L/∂h_t through h_{t+1}
    for t in reversed(range(T)):
        h_prev = out[:, t - 1] if t > 0 else h0
        delta = (grad_out[:, t] + carry) * (1 - out[:, t] ** 2)   # ∂L/∂a_t, tanh' = 1 − tanh²
        g["W_ih"] += delta.T @ x[:, t]                   # sum over steps (and over the batch)
        g["W_hh"] += delta.T @ h_prev
        g["b_ih"] += delta.sum(0)
        g["b_hh"] += delta.sum(0)
        g["x"][:, t] = delta @ W_ih
        carry = delta @ W_hh
    g["h0"] = carry
    return g


class RNN(nn.Module):
    """A single-layer tanh RNN from scratch (batch first), with the parameter names of ``nn.RNN``'s first layer.

    Args:
        input_size, hidden_size: I and H.
        h0: how the initial state is set (Notes §5.2): ``"zero"``, ``"random"`` (drawn from N(0, init_std²) at every
            call, in training and evaluation alike) or ``"learned"`` (a parameter ``h0`` of shape (H,), trained).

    ``forward(x, h0=None)``: ``x`` (B, T, I) → ``(out (B, T, H), h_T (B, H))``; an explicit ``h0`` overrides the mode.
    """

    def __init__(self, input_size: int, hidden_size: int, h0: str = "zero", init_std: float = 1.0):
        super().__init__()
        self.input_size = check_positive_int(input_size, "input_size")
        self.hidden_size = H = check_positive_int(hidden_size, "hidden_size")
        if h0 not in INIT_MODES:
            raise ValueError(f"h0 must be one of {INIT_MODES}, got {h0!r}")
        self.h0_mode, self.init_std = h0, float(init_std)
        bound = 1.0 / math.sqrt(H)                       # nn.RNN's initialisation U(-1/√H, 1/√H)
        self.weight_ih_l0 = nn.Parameter(torch.empty(H, input_size).uniform_(-bound, bound))
        self.weight_hh_l0 = nn.Parameter(torch.empty(H, H).uniform_(-bound, bound))
        self.bias_ih_l0 = nn.Parameter(torch.empty(H).uniform_(-bound, bound))
        self.bias_hh_l0 = nn.Parameter(torch.empty(H).uniform_(-bound, bound))
        self.h0 = nn.Parameter(torch.zeros(H)) if h0 == "learned" else None

    def initial_state(self, batch_size: int, like: torch.Tensor) -> torch.Tensor:
        if self.h0_mode == "learned":
            return self.h0.expand(batch_size, -1)
        if self.h0_mode == "random":
            return torch.randn(batch_size, self.hidden_size, device=like.device, dtype=like.dtype) * self.init_std
        return like.new_zeros(batch_size, self.hidden_size)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        check_tensor(x, "x", ndim=3, floating=True)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"x must have {self.input_size} features per step (input_size), "
                             f"got shape {tuple(x.shape)}")
        if h0 is None:
            h0 = self.initial_state(x.shape[0], x)
        return rnn_forward(x, h0, self.weight_ih_l0, self.weight_hh_l0, self.bias_ih_l0, self.bias_hh_l0)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, h0={self.h0_mode!r}"
