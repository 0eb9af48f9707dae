"""Catch calls to forbidden callables (the package's reference, the PyTorch operator an exercise re-implements) while
a candidate runs.

Two guards work together, both active only inside :func:`forbidden` and both undone on the way out, error or not:

* the forbidden attribute is replaced by a wrapper that records the call and raises :class:`ForbiddenCall`
  (catches ``torch.optim.SGD(...)``-style calls looked up at call time);
* a profile hook (``sys.setprofile``, and ``threading.setprofile`` for threads the candidate starts) records any call that runs the forbidden function's code, or the forbidden
  builtin itself (catches aliases taken before the check started, such as ``from dlcourse.training import
  momentum_step as ref``).
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import sys
import threading
from typing import Any, Iterator, Sequence

__all__ = ["ForbiddenCall", "forbidden", "resolve"]


class ForbiddenCall(BaseException):
    """Raised inside the candidate when it calls a forbidden callable (a BaseException, so ``except Exception`` in
    the candidate does not hide it)."""


def resolve(dotted: str) -> tuple[Any, str, Any]:
    """``(owner, attribute, object)`` for a dotted name such as ``"torch.optim.SGD.step"``."""
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        owner = obj
        for attr in parts[i:]:
            owner, obj = obj, getattr(obj, attr)
        return owner, parts[-1], obj
    raise ValueError(f"cannot resolve {dotted!r} to a callable")


def _codes(obj: Any) -> set:
    """The code objects that run when ``obj`` is called (functions, methods, a class's own methods)."""
    if inspect.isclass(obj):
        return {c for v in vars(obj).values() if inspect.isfunction(inspect.unwrap(v)) for c in _codes(v)}
    codes = set()
    while obj is not None:
        func = getattr(obj, "__func__", obj)
        if hasattr(func, "__code__"):
            codes.add(func.__code__)
        obj = getattr(func, "__wrapped__", None)
    return codes


@contextlib.contextmanager
def forbidden(names: Sequence[str]) -> Iterator[list[str]]:
    """Within the block, calling any callable named in ``names`` is recorded in the yielded list (and raises
    :class:`ForbiddenCall` where the wrapper is reached). Everything is restored on exit."""
    calls: list[str] = []
    if not names:
        yield calls
        return
    patched, codes, builtins = [], {}, {}
    for name in names:
        owner, attr, obj = resolve(name)
        for code in _codes(obj):
            codes.setdefault(code, name)
        if not hasattr(obj, "__code__") and not inspect.isclass(obj) and callable(obj):
            builtins[id(obj)] = name
        if callable(obj) and not inspect.isclass(obj):
            original = vars(owner).get(attr, obj) if hasattr(owner, "__dict__") else obj
            patched.append((name, owner, attr, original))

    def wrapper_for(name, original):
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            calls.append(name)
            raise ForbiddenCall(f"{name} may not be used in this exercise")
        return wrapper

    def hook(frame, event, arg):
        if event == "call":
            name = codes.get(frame.f_code)
            if name is not None:
                calls.append(name)
        elif event == "c_call":
            name = builtins.get(id(arg))
            if name is not None:
                calls.append(name)

    old_profile, old_thread_profile = sys.getprofile(), threading.getprofile()
    done = []
    try:
        for name, owner, attr, original in patched:
            setattr(owner, attr, wrapper_for(name, original))
            done.append((owner, attr, original))
        sys.setprofile(hook)
        threading.setprofile(hook)  # threads started by the candidate are watched too
        yield calls
        if sys.getprofile() is not hook:
            calls.append("sys.setprofile (the check's call monitor was switched off)")
    finally:
        sys.setprofile(old_profile)
        threading.setprofile(old_thread_profile)
        for owner, attr, original in reversed(done):
            setattr(owner, attr, original)

