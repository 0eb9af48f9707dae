"""Gradient-descent update rules written out by hand. Notes §2.1.

The notes write the momentum update as $v_t = \\mu \\nabla\\mathcal{L}(w_t) + \\alpha v_{t-1}$ and
$w_{t+1} = w_t + v_t$; descent must *subtract* the step, so here $w_{t+1} = w_t - v_t$.
"""
from __future__ import annotations

from typing import Callable

import torch

from .._utils import check_tensor

__all__ = ["momentum_step", "nesterov_step", "gd_step"]


def _check_number(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not value >= 0:
        raise ValueError(f"{name} must be non-negative, got {value}")


def _check(w, v, lr, alpha):
    check_tensor(w, "w", floating=True)
    check_tensor(v, "v", floating=True)
    if v.shape != w.shape:
        raise ValueError(f"v must have the shape of w {tuple(w.shape)}, got {tuple(v.shape)}")
    _check_number(lr, "lr")
    _check_number(alpha, "alpha")


def gd_step(w: torch.Tensor, grad: torch.Tensor, lr: float) -> torch.Tensor:
    """Plain gradient descent: $w \\leftarrow w - \\mu \\nabla\\mathcal{L}(w)$ (Notes §2.1, with the sign fixed).

    Shapes: ``w`` and ``grad`` (...), equal; ``lr`` $\\mu \\ge 0$. Returns the new weights, shape of ``w``.
    """
    _check_number(lr, "lr")
    check_tensor(w, "w", floating=True)
    check_tensor(grad, "grad", floating=True)
    if grad.shape != w.shape:
        raise ValueError(f"grad must have the shape of w {tuple(w.shape)}, got {tuple(grad.shape)}")
    return w - lr * grad


def momentum_step(w: torch.Tensor, v: torch.Tensor, grad: torch.Tensor, lr: float,
                  alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of gradient descent with momentum (Notes §2.1).

    $v \\leftarrow \\mu \\nabla\\mathcal{L}(w) + \\alpha v$, then $w \\leftarrow w - v$.

    Args:
        w: current weights, any shape (...).
        v: previous update ("velocity"), same shape as ``w``; start from zeros.
        grad: $\\nabla\\mathcal{L}(w)$, same shape as ``w``.
        lr: learning rate $\\mu \\ge 0$.
        alpha: momentum coefficient $\\alpha \\ge 0$.

    Returns:
        ``(w_new, v_new)``, both of the shape of ``w``. ``torch.optim.SGD(momentum=alpha)`` follows the same path: its
        buffer is ``v / lr``.
    """
    _check(w, v, lr, alpha)
    check_tensor(grad, "grad", floating=True)
    if grad.shape != w.shape:
        raise ValueError(f"grad must have the shape of w {tuple(w.shape)}, got {tuple(grad.shape)}")
    v_new = lr * grad + alpha * v
    return w - v_new, v_new


def nesterov_step(w: torch.Tensor, v: torch.Tensor, grad_fn: Callable[[torch.Tensor], torch.Tensor], lr: float,
                  alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of Nesterov momentum: the gradient is taken at the look-ahead point $w - \\alpha v$ (Notes §2.1).

    $v \\leftarrow \\mu \\nabla\\mathcal{L}(w - \\alpha v) + \\alpha v$, then $w \\leftarrow w - v$.

    Args:
        w, v: weights and previous update, same shape (...).
        grad_fn: maps weights of that shape to the gradient of the loss there.
        lr, alpha: learning rate and momentum coefficient, both $\\ge 0$.

    Returns:
        ``(w_new, v_new)``. ``torch.optim.SGD(momentum=alpha, nesterov=True)`` traces the same path when its
        parameter is the look-ahead point $w - \\alpha v$ (a change of variables).
    """
    _check(w, v, lr, alpha)
    if not callable(grad_fn):
        raise TypeError(f"grad_fn must be callable, got {type(grad_fn).__name__}")
    g = grad_fn(w - alpha * v)
    check_tensor(g, "grad_fn(w - alpha * v)", floating=True)
    if g.shape != w.shape:
        raise ValueError(f"grad_fn must return a gradient of shape {tuple(w.shape)}, got {tuple(g.shape)}")
    v_new = lr * g + alpha * v
    return w - v_new, v_new
