"""Run a candidate on a question's cases, then judge its outputs against the reference and word the verdict.

Running and judging are separate steps: when grading a class, the candidate runs in the submission's own process
(:mod:`dlcourse.grading.sandbox`) and only its outputs come back; the judging happens here, in the grader's process.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from .compare import difference, pattern_hint, summarize
from .forbid import ForbiddenCall, forbidden
from .registry import Case, Question

__all__ = ["Result", "run_cases", "judge", "plain"]


@dataclass
class Result:
    """The verdict on one question: ``passed``, ``score`` out of ``max_score``, and a ``message`` for the student.

    ``reason`` is a short, stable label of why points were lost ("" when passed): "not implemented",
    "wrong answer", "error", "forbidden call", "timeout", "not defined". ``hint`` is the hint of a wrong answer
    (a known mistake's, or one read from the error's pattern), "" when there is none.
    """

    qid: str
    passed: bool
    score: float
    max_score: float
    message: str
    reason: str = ""
    hint: str = ""

    def __repr__(self) -> str:
        return f"<Result {self.qid}: {'passed' if self.passed else self.reason} ({self.score:g}/{self.max_score:g})>"

    def _ipython_display_(self) -> None:  # check() prints the verdict already: show it once
        pass


def plain(value: Any) -> Any:
    """``value`` made of tensors, numbers, strings, None, tuples and lists only (NumPy becomes torch); raises
    ``TypeError`` for anything else. Such values cross process boundaries with ``torch.load(weights_only=True)``."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone().as_subclass(torch.Tensor)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        items = [plain(v) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    try:
        import numpy as np

        if isinstance(value, np.ndarray):
            return torch.from_numpy(value.copy())
        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"returned a {type(value).__name__}; return tensors, numbers or tuples of them")


def run_cases(question: Question, fn: Callable, cases: Sequence[Case], guard: bool = True) -> list[dict]:
    """Call ``fn`` on each case (a fresh copy, under the question's ban list) and return one outcome per case:
    ``{"status": "ok", "value": ...}``, ``{"status": "error", "message": ...}``, ``{"status": "not_implemented"}``
    or ``{"status": "forbidden", "message": name}``. Stops at the first case that does not return normally.

    ``guard=False`` leaves the ban to the caller (the grader's submission process watches the whole request)."""
    outcomes = []
    for case in cases:
        ready = question.ready(case)
        try:
            with forbidden(question.forbid if guard else ()) as calls:
                value = plain(ready.call(fn))  # inside the guard: converting runs the candidate's code too
            if calls:
                outcomes.append({"status": "forbidden", "message": calls[0]})
                break
            outcomes.append({"status": "ok", "value": value})
        except NotImplementedError:
            outcomes.append({"status": "not_implemented"})
            break
        except ForbiddenCall:
            outcomes.append({"status": "forbidden", "message": calls[0] if calls else "a forbidden function"})
            break
        except (Exception, SystemExit) as err:  # the candidate's own error: reported, never raised
            outcomes.append({"status": "error", "message": f"{type(err).__name__}: {err}"[:300]})
            break
    return outcomes


def _inputs(question: Question, case: Case) -> str:
    import inspect

    try:
        names = list(inspect.signature(question.reference).parameters)
    except (TypeError, ValueError):
        names = []
    parts = [f"{names[i] if i < len(names) else f'arg{i}'} = {summarize(a)}" for i, a in enumerate(case.args)]
    parts += [f"{k} = {summarize(v)}" for k, v in case.kwargs.items()]
    return ", ".join(parts) or "(no arguments)"


def _hint(question: Question, case: Case, got: Any) -> str:
    """The hint of the first known mistake that gives the same output as the candidate on ``case``."""
    for mistake in question.mistakes:
        try:
            value = plain(question.ready(case).call(mistake.fn))
            if question.postprocess is not None:
                value = question.postprocess(value)
            if difference(value, got, question.rtol, question.atol) is None:
                return mistake.hint
        except Exception:
            continue
    return ""


def judge(question: Question, cases: Sequence[Case], outcomes: Sequence[dict]) -> Result:
    """Compare the candidate's ``outcomes`` (from :func:`run_cases`) with the reference on ``cases``."""
    qid, pts = question.qid, question.points

    def fail(reason: str, text: str, hint: str = "") -> Result:
        return Result(qid, False, 0, pts, f"✘ {qid}: {text}", reason, hint)

    for i, case in enumerate(cases):
        if i >= len(outcomes):
            return fail("error", f"no result came back for {case.label}.")
        out = outcomes[i]
        status = out.get("status") if isinstance(out, dict) else None
        if status == "not_implemented":
            return fail("not implemented", "not implemented yet (replace `raise NotImplementedError` with your code).")
        if status == "forbidden":
            return fail("forbidden call", f"calls {out.get('message')}, which this exercise forbids: "
                                          "write the computation yourself.")
        if status == "error":
            return fail("error", f"raised {out.get('message')}\n  on {case.label}: "
                                 f"{_inputs(question, question.ready(case))}")
        if status != "ok":
            return fail("error", f"no usable result came back for {case.label}.")
        expected = plain(question.ready(case).call(question.reference))
        got = out.get("value")
        if question.postprocess is not None:
            expected = question.postprocess(expected)
            try:
                got = question.postprocess(got)
            except Exception as err:
                return fail("wrong answer", f"on {case.label} returned {summarize(got)}, which cannot be used: {err}")
        diff = difference(expected, got, question.rtol, question.atol)
        if diff is None:
            continue
        lines = [f"wrong output on {case.label}.",
                 f"  input:    {_inputs(question, question.ready(case))}",
                 f"  expected: {summarize(expected)}",
                 f"  got:      {summarize(got)}",
                 f"  problem:  {diff}"]
        hint = _hint(question, case, got) or pattern_hint(expected, got)
        if hint:
            lines.append(f"  hint:     {hint}")
        return fail("wrong answer", "\n".join(lines), hint)
    done = f"passed all {len(cases)} cases" if len(cases) > 1 else "passed"
    return Result(qid, True, pts, pts, f"✔ {qid}: {done} ({pts:g}/{pts:g} point{'' if pts == 1 else 's'}).")
