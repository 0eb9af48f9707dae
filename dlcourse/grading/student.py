"""The student side: ``check(qid, fn)`` in an exercise notebook, and ``score()`` in its last cell."""
from __future__ import annotations

import os
from typing import Callable, NamedTuple

from .registry import get_question
from .verdict import Result, judge, run_cases

__all__ = ["check", "score", "Score", "STRICT_ENV"]

STRICT_ENV = "DLCOURSE_STRICT"
"""Set this environment variable to 1 to make :func:`check` raise ``AssertionError`` on anything but a pass (used to
test the solution notebooks)."""

_RESULTS: dict[str, Result] = {}


class Score(NamedTuple):
    """What :func:`score` returns: the points earned and the points available."""

    total: float
    max_score: float

    def _ipython_display_(self) -> None:  # score() prints the table already
        pass


def _strict() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() not in ("", "0", "false", "no")


def check(qid: str, candidate: Callable, seed: int = 0) -> Result:
    """Check ``candidate`` against question ``qid`` on its public cases and on random cases drawn with ``seed``.

    Prints the verdict (pass; or the case that failed, what was expected and what came back, with a hint for a
    known mistake) and returns a :class:`~dlcourse.grading.verdict.Result` with ``passed``, ``score``,
    ``max_score`` and ``message``. It never raises, unless the environment variable ``DLCOURSE_STRICT`` is set:
    then anything but a pass raises ``AssertionError``.
    """
    try:
        question = get_question(qid)
    except KeyError as err:
        result = Result(qid, False, 0, 0, f"✘ {err.args[0]}", "unknown question")
    else:
        if not callable(candidate):
            result = Result(qid, False, 0, question.points,
                            f"✘ {qid}: expected a function, got {type(candidate).__name__}", "error")
        else:
            cases = question.make_cases(seed)
            result = judge(question, cases, run_cases(question, candidate, cases))
    _RESULTS[qid] = result
    print(result.message)
    if _strict() and not result.passed:
        raise AssertionError(result.message)
    return result


def score(*qids: str) -> Score:
    """Print a table of the questions checked so far (or of ``qids``) and the total; return ``(total, max)``."""
    names = list(qids) or list(_RESULTS)
    total = maximum = 0.0
    width = max([len(q) for q in names] + [8])
    lines = []
    for qid in names:
        res = _RESULTS.get(qid)
        if res is None:
            try:
                pts = get_question(qid).points
            except KeyError:
                pts = 0
            res = Result(qid, False, 0, pts, "", "not checked yet")
        total += res.score
        maximum += res.max_score
        status = "passed" if res.passed else res.reason
        lines.append(f"{qid:<{width}}  {res.score:g}/{res.max_score:g}  {status}")
    lines.append(f"{'total':<{width}}  {total:g}/{maximum:g}")
    print("\n".join(lines))
    return Score(total, maximum)
