"""Compare an output with the reference's, and describe values in a line (shape and a summary, never a wall of
numbers)."""
from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["summarize", "difference", "pattern_hint"]

_SMALL = 6  # tensors with at most this many entries are shown in full


def _num(x: float) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.4g}"


def summarize(value: Any, depth: int = 0) -> str:
    """One line that says what ``value`` is: type, shape, dtype and a few statistics of a tensor."""
    if isinstance(value, torch.Tensor):
        shape = tuple(value.shape)
        if value.numel() <= _SMALL:
            flat = value.detach().cpu().flatten().tolist()
            return f"tensor {shape} {str(value.dtype).replace('torch.', '')} [{', '.join(_num(v) for v in flat)}]"
        v = value.detach().cpu()
        v = (v.abs() if v.is_complex() else v).double()
        stats = f"mean {_num(v.mean().item())}, min {_num(v.min().item())}, max {_num(v.max().item())}"
        return f"tensor {shape} {str(value.dtype).replace('torch.', '')} ({stats})"
    if isinstance(value, (tuple, list)) and depth < 2:
        inner = ", ".join(summarize(v, depth + 1) for v in value[:4]) + (", …" if len(value) > 4 else "")
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, (bool, int, float)):
        return _num(value)
    if callable(value):
        return f"a function ({getattr(value, '__name__', type(value).__name__)})"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _kind(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return "a tensor"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int):
        return "an int"
    if isinstance(value, float):
        return "a float"
    return f"a {type(value).__name__}"


def difference(expected: Any, got: Any, rtol: float = 1e-5, atol: float = 1e-6,
               where: str = "the output") -> str | None:
    """``None`` when ``got`` matches ``expected``, else one sentence that says where and how they differ.

    Tensors must have the expected shape and close values (``rtol``, ``atol``; integer and bool tensors exactly);
    numbers compare the same way (an int reference accepts an equal float); tuples and lists compare item by item.
    """
    if isinstance(expected, torch.Tensor):
        if isinstance(got, (int, float)) and not isinstance(got, bool) and expected.dim() == 0:
            got = torch.tensor(got)
        if not isinstance(got, torch.Tensor):
            return f"{where} should be a tensor of shape {tuple(expected.shape)}, got {_kind(got)}"
        if got.shape != expected.shape:
            extra = ""
            if got.dim() == expected.dim() == 2 and tuple(got.shape) == tuple(expected.shape)[::-1]:
                extra = " (transposed?)"
            elif got.numel() == expected.numel():
                extra = " (same number of entries: a reshape or a wrong axis?)"
            return f"{where} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}{extra}"
        if got.is_complex() != expected.is_complex():
            return f"{where} has dtype {got.dtype}, expected {expected.dtype}"
        exact = not expected.is_floating_point() and not expected.is_complex()
        e = expected.detach().cpu().double()
        g = got.detach().cpu().double()
        if exact:
            bad = g != e
        else:
            bad = ~torch.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
        if not bad.any():
            return None
        err = torch.where(bad, (g - e).abs().nan_to_num(float("inf")), torch.zeros_like(e))
        flat = int(err.flatten().argmax())
        idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), e.shape)) if e.dim() else ()
        at = f" at index {idx}" if idx else ""
        n_bad, n = int(bad.sum()), bad.numel()
        return (f"{where} is wrong in {n_bad} of {n} entries; the largest error is{at}: "
                f"expected {_num(e[idx].item())}, got {_num(g[idx].item())}")
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return f"{where} should be {_kind(expected)}, got {_kind(got)}"
        if len(got) != len(expected):
            return f"{where} should have {len(expected)} items, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            diff = difference(e, g, rtol, atol, f"{where}[{i}]")
            if diff is not None:
                return diff
        return None
    if isinstance(expected, bool):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = bool(got.item())
        return None if got is expected or got == expected and isinstance(got, (bool, int)) else (
            f"{where} should be {expected}, got {summarize(got)}")
    if isinstance(expected, (int, float)):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return f"{where} should be {_kind(expected)}, got {_kind(got)}"
        if isinstance(expected, int):
            ok = got == expected
        else:
            ok = math.isclose(got, expected, rel_tol=rtol, abs_tol=atol) or (math.isnan(got) and math.isnan(expected))
        return None if ok else f"{where} should be {_num(expected)}, got {_num(got)}"
    if got != expected:
        return f"{where} should be {summarize(expected)}, got {summarize(got)}"
    return None


def pattern_hint(expected: Any, got: Any) -> str:
    """A hint from the shape of the error alone: a flipped sign, a constant factor, a transpose ("" when none)."""
    if isinstance(expected, (tuple, list)) and isinstance(got, (tuple, list)) and len(got) == len(expected):
        for e, g in zip(expected, got, strict=True):
            if difference(e, g) is not None:
                return pattern_hint(e, g)
        return ""
    try:
        e = torch.as_tensor(expected, dtype=torch.float64)
        g = torch.as_tensor(got, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return ""
    if e.dim() == 2 and g.shape == e.shape[::-1] and torch.allclose(g.T, e, rtol=1e-4, atol=1e-6):
        return "Your output is the transpose of the expected one: check the order of a matrix product's operands."
    if g.shape != e.shape or e.numel() == 0 or not torch.isfinite(g).all():
        return ""
    nonzero = e.abs() > 1e-9
    if not nonzero.any():
        return ""
    ratio = g[nonzero] / e[nonzero]
    c = ratio.median().item()
    if abs(c - 1) > 1e-3 and torch.allclose(g, c * e, rtol=1e-4, atol=1e-7):
        if abs(c + 1) < 1e-3:
            return "Every value has the opposite sign of the expected one: a sign error?"
        return f"Every value is {_num(c)} times the expected one: a missing or extra scale factor?"
    return ""
