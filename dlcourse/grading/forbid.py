"""Catch calls to forbidden callables (the package's reference, the PyTorch operator an exercise re-implements) while
a candidate runs.

A question names each forbidden callable once, by one dotted name; :func:`aliases` finds the other names it can be
imported under (``dlcourse.vision.conv2d`` is also ``dlcourse.vision.conv.conv2d``; ``torch.nn.functional.conv2d``
is also ``torch.conv2d``). :class:`Ban` resolves them once, into what the two guards need:

* the forbidden attributes, each replaced during the call by a stub that reports the call and raises
  :class:`ForbiddenCall` (catches ``torch.optim.SGD(...)``-style calls looked up at call time);
* a profile hook (``sys.setprofile``) that reports any call running the forbidden function's code, or the forbidden
  builtin itself (catches aliases taken before the check started, such as ``from dlcourse.training import
  momentum_step as ref``).

:func:`forbidden` applies both in the student's own kernel (``check()``). In the grader, the submission's process
builds its :class:`Ban` before any submitted code runs, and reports through an audit hook that the submission can
neither remove nor reach (:mod:`dlcourse.grading.worker`).
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
import threading
import types
from typing import Any, Callable, Iterator, Sequence

__all__ = ["ForbiddenCall", "Ban", "forbidden", "resolve", "aliases", "EVENT"]

EVENT = "dlcourse.grading.forbidden"
"""The audit event (``sys.audit``) that reports a forbidden call, with its dotted name."""


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
        try:
            for attr in parts[i:]:
                owner, obj = obj, getattr(obj, attr)
        except AttributeError:
            break
        return owner, parts[-1], obj
    raise ValueError(f"cannot resolve {dotted!r} to a callable")


_ALIASES: dict[str, tuple[str, ...]] = {}


def aliases(dotted: str) -> tuple[str, ...]:
    """``dotted`` and every other name ``<module>.<attribute>`` under which the same object is importable from a
    loaded module of the same top-level package (sorted, ``dotted`` first). Attributes of classes (``"torch.Tensor
    .backward"``) have no aliases."""
    if dotted not in _ALIASES:
        _ALIASES[dotted] = _find_aliases(dotted)
    return _ALIASES[dotted]


def _find_aliases(dotted: str) -> tuple[str, ...]:
    owner, _, obj = resolve(dotted)
    if not isinstance(owner, types.ModuleType):
        return (dotted,)
    top = dotted.split(".")[0]
    found = set()
    home = getattr(obj, "__module__", None)
    if isinstance(home, str):
        with contextlib.suppress(Exception):
            importlib.import_module(home)  # the module that defines it, even when nothing imported it yet
    for name, module in list(sys.modules.items()):
        if module is None or not (name == top or name.startswith(top + ".")):
            continue
        try:
            namespace = vars(module)
        except TypeError:
            continue
        found.update(f"{name}.{attr}" for attr, value in list(namespace.items())
                     if value is obj and not attr.startswith("__"))
    found.discard(dotted)
    return (dotted, *sorted(found))


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


def _report_call(state, frame, event, arg):
    """The profile hook, bound to ``state = (codes, builtins, report, event name, id)`` as a method: reports a call
    to a forbidden code object or builtin. It looks nothing up at call time, and nothing it holds can be changed
    from outside (a bound method, a tuple, read-only mappings, builtins)."""
    if event == "call":
        name = state[0].get(frame.f_code)
        if name is not None:
            state[2](state[3], name)
    elif event == "c_call":
        name = state[1].get(state[4](arg))
        if name is not None:
            state[2](state[3], name)


def _stub(state, *args, **kwargs):
    """What a forbidden attribute is during the call, bound to ``state = (name, report, event name, error)``."""
    state[1](state[2], state[0])
    raise state[3](f"{state[0]} may not be used in this exercise")


class Ban:
    """The forbidden callables of some questions, resolved once.

    Args:
        names: dotted names (each one is expanded with :func:`aliases`).
        report: called as ``report(EVENT, name)`` for every forbidden call (``sys.audit`` in the grader); by
            default the name is recorded in :attr:`calls`.

    Attributes:
        hook: the profile hook to install while the candidate runs.
        targets: ``(owner, attribute, original, stub)`` of every forbidden attribute.
    """

    def __init__(self, names: Sequence[str], report: Callable[[str, str], Any] | None = None):
        self.calls: list[str] = []
        if report is None:
            def report(event: str, name: str) -> None:
                self.calls.append(name)
        codes: dict = {}
        builtins: dict = {}
        self.targets: list[tuple[Any, str, Any, Any]] = []
        self.keep: list[Any] = []  # the banned objects stay alive, so that their ids stay theirs
        for name in names:
            for alias in aliases(name):
                owner, attr, obj = resolve(alias)
                self.keep.append(obj)
                for code in _codes(obj):
                    codes.setdefault(code, name)
                if not hasattr(obj, "__code__") and not inspect.isclass(obj) and callable(obj):
                    builtins.setdefault(id(obj), name)
                if callable(obj) and not inspect.isclass(obj):
                    original = vars(owner).get(attr, obj) if hasattr(owner, "__dict__") else obj
                    stub = types.MethodType(_stub, (name, report, EVENT, ForbiddenCall))
                    self.targets.append((owner, attr, original, stub))
        self.hook = types.MethodType(_report_call, (types.MappingProxyType(codes),
                                                    types.MappingProxyType(builtins), report, EVENT, id))


@contextlib.contextmanager
def forbidden(names: Sequence[str]) -> Iterator[list[str]]:
    """Within the block, calling any callable named in ``names`` (or an alias) is recorded in the yielded list (and
    raises :class:`ForbiddenCall` where a stub is reached). Everything is restored on exit."""
    if not names:
        yield []
        return
    ban = Ban(names)
    old_profile, old_thread_profile = sys.getprofile(), threading.getprofile()
    done = []
    try:
        for owner, attr, original, stub in ban.targets:
            setattr(owner, attr, stub)
            done.append((owner, attr, original))
        sys.setprofile(ban.hook)
        threading.setprofile(ban.hook)  # threads started by the candidate are watched too
        yield ban.calls
        if sys.getprofile() is not ban.hook:
            ban.calls.append("sys.setprofile (the check's call monitor was switched off)")
    finally:
        sys.setprofile(old_profile)
        threading.setprofile(old_thread_profile)
        for owner, attr, original in reversed(done):
            setattr(owner, attr, original)
