"""Backpropagation through a multi-layer perceptron, written with the δ recursions of Notes §2.2.

Notation (the notes', with a batch of B examples stored as rows):

* layer $l = 1 \\dots K$ has weights $W_l$ of shape $(n_l, n_{l-1})$ (as ``nn.Linear.weight``) and bias $b_l$ $(n_l,)$;
* $a_0 = x$, $z_l = W_l a_{l-1} + b_l$, $a_l = \\sigma_l(z_l)$; for a batch, ``Z[l] = A[l-1] @ W[l].T + b[l]``;
* $\\delta_K = \\nabla\\mathcal{L}(a_K) \\odot \\sigma_K'(z_K)$ and
  $\\delta_l = (W_{l+1}^T \\delta_{l+1}) \\odot \\sigma_l'(z_l)$;
* $\\partial\\mathcal{L}/\\partial W_l = \\delta_l a_{l-1}^T$ and $\\partial\\mathcal{L}/\\partial b_l = \\delta_l$,
  summed over the examples of the batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import torch
from torch import nn

from .._utils import check_tensor

__all__ = ["ACTIVATIONS", "MLPCache", "MLPGrads", "init_mlp", "mlp_forward", "mlp_backward",
           "cross_entropy_with_grad", "mlp_to_module"]


def _sigmoid_grad(z: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(z)
    return s * (1 - s)


# name -> (σ, σ'): each maps a tensor of pre-activations z to a tensor of the same shape.
ACTIVATIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "sigmoid": (torch.sigmoid, _sigmoid_grad),
    "tanh": (torch.tanh, lambda z: 1 - torch.tanh(z) ** 2),
    "relu": (torch.relu, lambda z: (z > 0).to(z.dtype)),
    "identity": (lambda z: z, torch.ones_like),
}

_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def _check_activation(name, what: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string, got {type(name).__name__}")
    if name not in ACTIVATIONS:
        raise ValueError(f"{what} must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return name


@dataclass
class MLPCache:
    """What the forward pass keeps for the backward pass.

    Attributes:
        activations: ``[a_0, a_1, ..., a_K]``, each (B, n_l); ``a_0`` is the input and ``a_K`` the output.
        zs: ``[z_1, ..., z_K]``, the pre-activations, each (B, n_l) (``zs[l - 1]`` is $z_l$).
        names: the activation function of each layer, ``[σ_1, ..., σ_K]``.
    """

    activations: list[torch.Tensor]
    zs: list[torch.Tensor]
    names: list[str]

    @property
    def output(self) -> torch.Tensor:
        """The network's output $a_K$, shape (B, n_K)."""
        return self.activations[-1]


class MLPGrads(NamedTuple):
    """Gradients from :func:`mlp_backward`: lists indexed like ``weights`` (layer 1 first)."""

    weights: list[torch.Tensor]  # dL/dW_l, each (n_l, n_{l-1})
    biases: list[torch.Tensor]  # dL/db_l, each (n_l,)
    deltas: list[torch.Tensor]  # δ_l = dL/dz_l, each (B, n_l)


def _check_params(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]) -> None:
    if not isinstance(weights, (list, tuple)) or not isinstance(biases, (list, tuple)):
        raise TypeError("weights and biases must be lists of tensors, got "
                        f"{type(weights).__name__} and {type(biases).__name__}")
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError(f"expected as many biases as weights (at least one layer), got {len(weights)} weights "
                         f"and {len(biases)} biases")
    for ell, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):  # ell: the notes' layer number l
        check_tensor(W, f"weights[{ell - 1}] (W_{ell})", ndim=2, floating=True)
        check_tensor(b, f"biases[{ell - 1}] (b_{ell})", ndim=1, floating=True)
        if b.shape[0] != W.shape[0]:
            raise ValueError(f"b_{ell} must have shape ({W.shape[0]},) to match W_{ell} {tuple(W.shape)}, "
                             f"got {tuple(b.shape)}")
        if ell > 1 and W.shape[1] != weights[ell - 2].shape[0]:
            raise ValueError(f"W_{ell} must have {weights[ell - 2].shape[0]} columns (the width of layer {ell - 1}), "
                             f"got shape {tuple(W.shape)}")


def init_mlp(sizes: Sequence[int], init: str = "xavier", generator: torch.Generator | None = None,
             dtype: torch.dtype = torch.float32, device=None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Random weights and zero biases for an MLP with layer widths ``sizes = [n_0, n_1, ..., n_K]``.

    ``init="xavier"``: uniform on $\\pm\\sqrt{6/(n_{l-1} + n_l)}$ (Glorot and Bengio, 2010), suited to sigmoid and
    tanh; ``init="he"``: normal with standard deviation $\\sqrt{2/n_{l-1}}$, suited to ReLU.

    Returns:
        ``(weights, biases)``: lists of K tensors, ``weights[l-1]`` of shape (n_l, n_{l-1}), ``biases[l-1]`` (n_l,).
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, int) or s <= 0:
            raise ValueError(f"every width in sizes must be a positive int, got {sizes}")
    if init not in ("xavier", "he"):
        raise ValueError(f"init must be 'xavier' or 'he', got {init!r}")
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        if init == "xavier":
            bound = math.sqrt(6.0 / (n_in + n_out))
            W = (torch.rand(n_out, n_in, generator=generator, dtype=dtype) * 2 - 1) * bound
        else:
            W = torch.randn(n_out, n_in, generator=generator, dtype=dtype) * math.sqrt(2.0 / n_in)
        weights.append(W.to(device))
        biases.append(torch.zeros(n_out, dtype=dtype, device=device))
    return weights, biases


def mlp_forward(X: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                activation: str = "relu", out_activation: str = "identity") -> MLPCache:
    """Forward pass $a_l = \\sigma_l(W_l a_{l-1} + b_l)$, keeping every $z_l$ and $a_l$ (Notes §2.2).

    Args:
        X: inputs (B, n_0).
        weights: ``[W_1, ..., W_K]``, ``W_l`` of shape (n_l, n_{l-1}).
        biases: ``[b_1, ..., b_K]``, ``b_l`` of shape (n_l,).
        activation: σ of the hidden layers 1..K-1, a key of :data:`ACTIVATIONS`.
        out_activation: σ_K of the output layer (``"identity"`` gives logits).

    Returns:
        An :class:`MLPCache`; its ``output`` is $a_K$ of shape (B, n_K).
    """
    check_tensor(X, "X", ndim=2, floating=True)
    _check_params(weights, biases)
    _check_activation(activation, "activation")
    _check_activation(out_activation, "out_activation")
    if X.shape[1] != weights[0].shape[1]:
        raise ValueError(f"X must have {weights[0].shape[1]} features (the columns of W_1), got shape "
                         f"{tuple(X.shape)}")
    K = len(weights)
    names = [activation] * (K - 1) + [out_activation]
    a, activations, zs = X, [X], []
    for W, b, name in zip(weights, biases, names, strict=True):
        z = a @ W.T + b  # z_l = W_l a_{l-1} + b_l, one row per example
        a = ACTIVATIONS[name][0](z)  # a_l = σ_l(z_l)
        zs.append(z)
        activations.append(a)
    return MLPCache(activations=activations, zs=zs, names=names)


def mlp_backward(cache: MLPCache, weights: Sequence[torch.Tensor], dL_dout: torch.Tensor) -> MLPGrads:
    """Backward pass with the δ recursions of Notes §2.2.

    $\\delta_K = \\nabla\\mathcal{L}(a_K) \\odot \\sigma_K'(z_K)$,
    $\\delta_l = (W_{l+1}^T \\delta_{l+1}) \\odot \\sigma_l'(z_l)$,
    $\\partial\\mathcal{L}/\\partial W_l = \\delta_l a_{l-1}^T$, $\\partial\\mathcal{L}/\\partial b_l = \\delta_l$.

    Args:
        cache: what :func:`mlp_forward` returned.
        weights: the same ``[W_1, ..., W_K]`` as in the forward pass.
        dL_dout: $\\nabla\\mathcal{L}(a_K)$, shape (B, n_K): the gradient of the (scalar) loss with respect to the
            output. For a loss averaged over the batch it already carries the factor 1/B.

    Returns:
        :class:`MLPGrads` ``(weights, biases, deltas)``: $\\partial\\mathcal{L}/\\partial W_l$ (n_l, n_{l-1}) and
        $\\partial\\mathcal{L}/\\partial b_l$ (n_l,), summed over the batch, and each $\\delta_l$ (B, n_l).
    """
    if not isinstance(cache, MLPCache):
        raise TypeError(f"cache must be the MLPCache returned by mlp_forward, got {type(cache).__name__}")
    if not isinstance(weights, (list, tuple)) or len(weights) != len(cache.zs):
        raise ValueError(f"weights must list the {len(cache.zs)} matrices used in the forward pass")
    check_tensor(dL_dout, "dL_dout", ndim=2, floating=True)
    if dL_dout.shape != cache.output.shape:
        raise ValueError(f"dL_dout must have the shape of the output {tuple(cache.output.shape)}, got "
                         f"{tuple(dL_dout.shape)}")
    K = len(weights)
    deltas: list[torch.Tensor] = [None] * K  # type: ignore[list-item]
    delta = dL_dout * ACTIVATIONS[cache.names[-1]][1](cache.zs[-1])  # δ_K
    deltas[K - 1] = delta
    for i in range(K - 2, -1, -1):  # i = l - 1, the 0-based index of layer l
        delta = (delta @ weights[i + 1]) * ACTIVATIONS[cache.names[i]][1](cache.zs[i])  # δ_l = W_{l+1}^T δ_{l+1} ⊙ σ'
        deltas[i] = delta
    # δ_l a_{l-1}^T, summed over the batch
    dW = [d.T @ a_prev for d, a_prev in zip(deltas, cache.activations[:-1], strict=True)]
    db = [d.sum(dim=0) for d in deltas]
    return MLPGrads(weights=dW, biases=db, deltas=deltas)


def cross_entropy_with_grad(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy of ``logits`` (B, C) against labels ``y`` (B,), and its gradient with respect to the logits.

    The gradient is $(\\mathrm{softmax}(z) - \\mathrm{onehot}(y)) / B$, shape (B, C): the ``dL_dout`` to feed
    :func:`mlp_backward` when the output activation is the identity. Equals ``F.cross_entropy`` and its autograd.
    """
    check_tensor(logits, "logits", ndim=2, floating=True)
    check_tensor(y, "y", ndim=1)
    if y.shape[0] != logits.shape[0]:
        raise ValueError(f"y must have {logits.shape[0]} labels (one per row of logits), got {y.shape[0]}")
    if y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8, torch.int8):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    B = logits.shape[0]
    log_p = torch.log_softmax(logits, dim=1)
    loss = -log_p.gather(1, y.long()[:, None]).mean()
    grad = log_p.exp()
    grad[torch.arange(B, device=logits.device), y.long()] -= 1
    return loss, grad / B


def mlp_to_module(weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor], activation: str = "relu",
                  out_activation: str = "identity") -> nn.Sequential:
    """An ``nn.Sequential`` of ``nn.Linear`` layers holding copies of ``weights`` and ``biases``, computing the same
    function as :func:`mlp_forward` (so autograd can check :func:`mlp_backward`)."""
    _check_params(weights, biases)
    _check_activation(activation, "activation")
    _check_activation(out_activation, "out_activation")
    layers: list[nn.Module] = []
    K = len(weights)
    for ell, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):  # ell: the notes' layer number l
        lin = nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype, device=W.device)
        with torch.no_grad():
            lin.weight.copy_(W)
            lin.bias.copy_(b)
        layers.append(lin)
        name = activation if ell < K else out_activation
        if name != "identity":
            layers.append(_MODULES[name]())
    return nn.Sequential(*layers)
