"""``trained(name)``: the cached trained model of a Part 4 page ("vae", "gan", "flow", "diffusion"), trained when
missing. Each page's module registers the function that builds it through :func:`dlcourse.cache.cached_model`."""
from __future__ import annotations

from typing import Callable

from torch import nn

__all__ = ["register_trained", "trained", "trained_names"]

_TRAINED: dict[str, Callable[..., nn.Module]] = {}


def register_trained(name: str):
    """Decorator: ``@register_trained("vae")`` on ``def trained_vae(device=None) -> nn.Module``."""
    def wrap(fn: Callable[..., nn.Module]):
        if name in _TRAINED and _TRAINED[name] is not fn:
            raise ValueError(f"a trained model named {name!r} is registered already")
        _TRAINED[name] = fn
        return fn
    return wrap


def trained_names() -> list[str]:
    return sorted(_TRAINED)


def trained(name: str, device=None) -> nn.Module:
    """The cached trained model ``name`` on ``device`` (``None``: :func:`dlcourse.device`), trained when missing."""
    if name not in _TRAINED:
        raise ValueError(f"no trained model {name!r}; known: {', '.join(trained_names()) or 'none'}")
    return _TRAINED[name](device=device)
