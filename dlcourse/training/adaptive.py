"""Optimisers that give every weight its own learning rate: RMSProp and Adam, written out by hand. Notes §2.1.

The notes define an optimiser as an algorithm that tunes the learning rate during training. Both rules below divide
each coordinate's step by a running root mean square of its gradients; Adam also averages the gradient (a momentum)
and corrects both averages for starting from zero. With the default constants they follow ``torch.optim.RMSprop`` and
``torch.optim.Adam`` step for step (``tests/test_adaptive.py``).
"""
from __future__ import annotations

import torch

from .._utils import check_tensor

__all__ = ["rmsprop_step", "adam_step"]


def _check_number(value, name: str, low: float, high: float | None = None, open_high: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not value >= low or (high is not None and not (value < high if open_high else value <= high)):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}{')' if open_high else ']'}"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return float(value)


def _check_like(w: torch.Tensor, tensors: dict[str, torch.Tensor]) -> None:
    check_tensor(w, "w", floating=True)
    for name, x in tensors.items():
        check_tensor(x, name, floating=True)
        if x.shape != w.shape:
            raise ValueError(f"{name} must have the shape of w {tuple(w.shape)}, got {tuple(x.shape)}")


def rmsprop_step(w: torch.Tensor, s: torch.Tensor, grad: torch.Tensor, lr: float, rho: float = 0.99,
                 eps: float = 1e-8) -> tuple[torch.Tensor, torch.Tensor]:
    """One RMSProp step (Notes §2.1): $s \\leftarrow \\rho s + (1 - \\rho) g^2$, then
    $w \\leftarrow w - \\mu\\, g / (\\sqrt{s} + \\varepsilon)$, coordinate by coordinate.

    Args:
        w: current weights, any shape (...).
        s: running average of the squared gradient, shape of ``w``; start from zeros.
        grad: $g = \\nabla\\mathcal{L}(w)$, shape of ``w``.
        lr: learning rate $\\mu \\ge 0$.
        rho: decay of the average, in [0, 1) (``torch.optim.RMSprop`` calls it ``alpha``).
        eps: $\\varepsilon \\ge 0$, added to the root.

    Returns:
        ``(w_new, s_new)``, both of the shape of ``w``; ``torch.optim.RMSprop(lr=lr, alpha=rho, eps=eps)`` takes the
        same steps and keeps ``s`` as its ``square_avg``.
    """
    _check_like(w, {"s": s, "grad": grad})
    lr, rho = _check_number(lr, "lr", 0.0), _check_number(rho, "rho", 0.0, 1.0)
    eps = _check_number(eps, "eps", 0.0)
    s_new = rho * s + (1 - rho) * grad**2
    return w - lr * grad / (s_new.sqrt() + eps), s_new


def adam_step(w: torch.Tensor, m: torch.Tensor, s: torch.Tensor, grad: torch.Tensor, t: int, lr: float,
              beta1: float = 0.9, beta2: float = 0.999,
              eps: float = 1e-8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One Adam step (Notes §2.1), coordinate by coordinate:

    $m \\leftarrow \\beta_1 m + (1 - \\beta_1) g$, $s \\leftarrow \\beta_2 s + (1 - \\beta_2) g^2$,
    $\\hat m = m / (1 - \\beta_1^t)$, $\\hat s = s / (1 - \\beta_2^t)$,
    $w \\leftarrow w - \\mu\\, \\hat m / (\\sqrt{\\hat s} + \\varepsilon)$.

    Args:
        w: current weights, any shape (...).
        m, s: running averages of the gradient and of its square, shape of ``w``; start from zeros.
        grad: $g = \\nabla\\mathcal{L}(w)$, shape of ``w``.
        t: the number of this step, counted from 1 (it sets the bias corrections).
        lr: learning rate $\\mu \\ge 0$.
        beta1, beta2: decays of the two averages, each in [0, 1).
        eps: $\\varepsilon \\ge 0$, added to the root.

    Returns:
        ``(w_new, m_new, s_new)``, all of the shape of ``w``; ``torch.optim.Adam(lr=lr, betas=(beta1, beta2),
        eps=eps)`` takes the same steps and keeps ``m`` and ``s`` as ``exp_avg`` and ``exp_avg_sq``.
    """
    _check_like(w, {"m": m, "s": s, "grad": grad})
    if isinstance(t, bool) or not isinstance(t, int):
        raise TypeError(f"t must be an int (the step number, from 1), got {type(t).__name__}")
    if t < 1:
        raise ValueError(f"t counts steps from 1, got {t}")
    lr = _check_number(lr, "lr", 0.0)
    beta1, beta2 = _check_number(beta1, "beta1", 0.0, 1.0), _check_number(beta2, "beta2", 0.0, 1.0)
    eps = _check_number(eps, "eps", 0.0)
    m_new = beta1 * m + (1 - beta1) * grad
    s_new = beta2 * s + (1 - beta2) * grad**2
    m_hat, s_hat = m_new / (1 - beta1**t), s_new / (1 - beta2**t)
    return w - lr * m_hat / (s_hat.sqrt() + eps), m_new, s_new
