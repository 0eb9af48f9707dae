"""Grade a class's notebooks: each in its own sandboxed process, scored here against the references.

A submission's code cells run one by one; right after the cell that (re)defines a question's function, that
function is run on the question's public and hidden cases, and the outputs are judged in this process. Points earned
before a later cell times out or crashes (or the notebook runs out of its total time) are kept.
"""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import nbformat

from .registry import Question, all_questions, get_question
from .sandbox import Sandbox, SandboxCrash, SandboxTimeout, encode_cases
from .verdict import Result, judge

__all__ = ["Graded", "Checked", "grade_submission", "grade_all", "write_csv", "questions_in", "new_seed", "run_seed"]

_CHECK_CALL = re.compile(r"""check\(\s*["']([\w]+\.[\w]+)["']""")


@dataclass
class Checked:
    """What a student may see of a question's check: the verdict on the public cases (with its message), and on
    the hidden cases (``None`` when they did not run), whose message must not be shown: it names their inputs."""

    public: Result
    hidden: Result | None = None


@dataclass
class Graded:
    """The grade of one submission: a :class:`Result` per question, the reasons points were lost, and per
    question checked, the public and hidden verdicts (:class:`Checked`) that the feedback files show."""

    submission: str
    results: dict[str, Result]
    events: list[str] = field(default_factory=list)
    checked: dict[str, Checked] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(r.score for r in self.results.values())

    @property
    def max_total(self) -> float:
        return sum(r.max_score for r in self.results.values())

    @property
    def error(self) -> str:
        lost = [f"{qid}: {r.reason}" for qid, r in sorted(self.results.items()) if not r.passed]
        return "; ".join(self.events + lost)


def new_seed() -> int:
    """A fresh seed for the hidden cases (the instructor keeps it to reproduce the grades)."""
    return secrets.randbelow(2**31)


def _code_cells(data: bytes) -> list[str]:
    nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def questions_in(sources: Sequence[bytes]) -> list[Question]:
    """The registered questions that the notebooks ``sources`` check (``check("<id>", ...)`` calls)."""
    ids: set[str] = set()
    for data in sources:
        try:
            ids.update(_CHECK_CALL.findall("\n".join(_code_cells(data))))
        except Exception:
            continue
    known = {q.qid: q for q in all_questions()}
    return [known[i] for i in sorted(ids) if i in known]


def _fail(q: Question, reason: str, text: str) -> Result:
    return Result(q.qid, False, 0, q.points, f"✘ {q.qid}: {text}", reason)


def run_seed(seed: int, run: int) -> int:
    """The seed of the hidden cases of a question's ``run``-th check in a notebook (0: the first): a notebook that
    redefines a function is checked on fresh hidden cases, so that nothing learned from one check's inputs helps."""
    return seed if run == 0 else (seed + 1_000_003 * run) % 2**31


class _Stop(Exception):
    """The notebook's run ends here (the reason is already recorded)."""


class _Run:
    """Grading one notebook in its sandbox: cells in order, each question checked right after the cell that
    (re)defines its function. :meth:`cell` and :meth:`check` raise :class:`_Stop` when the run must end."""

    def __init__(self, graded: Graded, questions: Sequence[Question], seed: int, box: Sandbox, timeout: float,
                 total_timeout: float | None):
        self.graded, self.box, self.seed, self.timeout = graded, box, seed, timeout
        self.total = total_timeout
        self.deadline = None if total_timeout is None else time.monotonic() + total_timeout
        self.by_name: dict[str, list[Question]] = {}
        for q in questions:
            self.by_name.setdefault(q.function_name, []).append(q)
        self.runs: dict[str, int] = {}

    def _limit(self) -> tuple[float, bool]:
        """``(seconds for the next request, whether that is what is left of the total)``."""
        if self.deadline is None:
            return self.timeout, False
        left = self.deadline - time.monotonic()
        return (left, True) if left < self.timeout else (self.timeout, False)

    def _out_of_time(self, where: str) -> str:
        return f"total time limit of {self.total:g} s reached {where}"

    def cell(self, index: int, source: str) -> list[Question]:
        """Run cell ``index``; the questions whose functions it (re)defined."""
        limit, total = self._limit()
        events = self.graded.events
        try:
            if limit <= 0:
                raise SandboxTimeout()
            error, changed = self.box.run_cell(source, index, list(self.by_name), timeout=limit)
        except SandboxTimeout:
            events.append(self._out_of_time(f"in cell {index}") if total else f"timeout in cell {index}")
            raise _Stop from None
        except SandboxCrash as err:
            events.append(f"crashed in cell {index} ({err})")
            raise _Stop from None
        if error:
            kind = "syntax error" if error.startswith(("SyntaxError", "IndentationError")) else "error"
            events.append(f"{kind} in cell {index} ({error.split(':')[0]})")
        return [q for name in changed for q in self.by_name[name]]

    def check(self, q: Question) -> None:
        """Run the notebook's function of ``q`` on its cases, and judge the outcomes here."""
        run = self.runs[q.qid] = self.runs.get(q.qid, -1) + 1
        cases = q.make_cases(run_seed(self.seed, run))
        limit, total = self._limit()
        try:
            if limit <= 0:
                raise SandboxTimeout()
            outcomes = self.box.run_question(q.qid, encode_cases(cases), timeout=limit)
        except SandboxTimeout:
            if total:
                self.graded.events.append(self._out_of_time(f"while checking {q.qid}"))
                self._record(q, _fail(q, "timeout", f"the notebook used up its {self.total:g} s."))
            else:
                self._record(q, _fail(q, "timeout", f"did not finish within {self.timeout:g} s."))
            raise _Stop from None
        except SandboxCrash as err:
            self._record(q, _fail(q, "crashed", f"the notebook's process crashed ({err})."))
            self.graded.events.append(f"crashed while checking {q.qid} ({err})")
            raise _Stop from None
        n = len(q.cases)
        public = judge(q, cases[:n], outcomes[:n])
        ran_hidden = len(cases) > n and (len(outcomes) > n or public.passed)
        hidden = judge(q, cases[n:], outcomes[n:]) if ran_hidden else None
        self._record(q, judge(q, cases, outcomes), public, hidden)

    def _record(self, q: Question, result: Result, public: Result | None = None,
                hidden: Result | None = None) -> None:
        self.graded.results[q.qid] = result
        self.graded.checked[q.qid] = Checked(public or result, hidden)


def grade_submission(name: str, data: bytes, questions: Sequence[Question], seed: int, timeout: float = 30.0,
                     memory_mb: int = 2048, isolation: str = "process", hide: Sequence[str] = (),
                     total_timeout: float | None = None) -> Graded:
    """Grade the notebook ``data`` (bytes of an .ipynb) on ``questions`` with the hidden cases of ``seed``.

    ``timeout`` limits each cell and each check; ``total_timeout`` (seconds, None: no cap) the whole notebook.
    ``isolation`` and ``hide`` are those of :class:`~dlcourse.grading.sandbox.Sandbox`."""
    results = {q.qid: _fail(q, "not defined", f"no function {q.function_name} in the notebook.") for q in questions}
    graded = Graded(name, results)
    try:
        cells = _code_cells(data)
    except Exception:
        graded.events.append("not a readable notebook")
        return graded
    try:
        box = Sandbox(timeout=timeout, memory_mb=memory_mb, questions=[q.qid for q in questions],
                      isolation=isolation, hide=hide)
    except (SandboxTimeout, SandboxCrash, OSError, RuntimeError) as err:
        graded.events.append(f"the notebook's process did not start ({err or 'timeout'})")
        return graded
    with box:
        run = _Run(graded, questions, seed, box, timeout, total_timeout)
        try:
            for index, source in enumerate(cells, start=1):
                for q in run.cell(index, source):
                    run.check(q)
        except _Stop:
            for qid, r in results.items():  # later questions were never reached
                if r.reason == "not defined":
                    results[qid] = _fail(get_question(qid), "not reached", "the notebook stopped before defining it.")
    return graded


def grade_all(paths: Sequence[str | os.PathLike], seed: int, timeout: float = 30.0, jobs: int = 1,
              questions: Sequence[str] | None = None, memory_mb: int = 2048,
              names: Sequence[str] | None = None, isolation: str = "process", hide: Sequence[str] = (),
              total_timeout: float | None = None) -> list[Graded]:
    """Grade every notebook of ``paths`` (all read before any runs), ``jobs`` at a time.

    ``isolation`` is ``"sandbox"`` or ``"process"`` (:func:`~dlcourse.grading.sandbox.choose_isolation` picks one);
    a sandbox hides the folders of ``paths`` and the folders in ``hide``.

    ``questions`` lists ids or part prefixes (``"training"``), graded in every notebook. By default, the questions
    that the notebooks check, each notebook graded on those of the exercise sheets it checks (a blank cell in the CSV
    for the others).
    ``names`` are the names of the submissions in the CSV (default: the paths).
    """
    names = [str(n) for n in names] if names is not None else [str(p) for p in paths]
    sources = []
    for p in paths:
        try:
            sources.append(Path(p).read_bytes())
        except OSError:
            sources.append(b"")
    if questions:
        chosen = [q for q in all_questions() if any(q.qid == s or q.qid.startswith(s + ".") for s in questions)]
        if not chosen:
            get_question(questions[0])  # raises a KeyError that lists the known ids
        per_submission = [chosen] * len(sources)
    else:
        chosen = questions_in(sources)
        per_submission = [_same_sheets(chosen, data) for data in sources]
    hide = [*hide, *{str(Path(p).resolve().parent) for p in paths}]

    def grade(item):
        name, data, chosen_here = item
        return grade_submission(name, data, chosen_here, seed, timeout, memory_mb, isolation, hide, total_timeout)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(grade, zip(names, sources, per_submission, strict=True)))


def _same_sheets(chosen: Sequence[Question], data: bytes) -> list[Question]:
    """The questions of ``chosen`` on the exercise sheets that notebook ``data`` checks (all of them when it checks
    none), so that a folder may mix several sheets, even sheets of one part (Part 3 has four, all ``vision.*``); a
    sheet is the question module that registers its questions. Deleting a check cell does not remove its question."""
    sheets = {q.module for q in questions_in([data])}
    return [q for q in chosen if q.module in sheets] or list(chosen)


def write_csv(grades: Sequence[Graded], out: str | os.PathLike) -> None:
    """Write one row per submission (``submission``, a column per question, ``total``, ``max_total``,
    ``error``), atomically: the file appears complete or not at all."""
    qids = sorted({qid for g in grades for qid in g.results})
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["submission", *qids, "total", "max_total", "error"])
    for g in grades:
        points = [f"{g.results[q].score:g}" if q in g.results else "" for q in qids]  # blank: not graded
        writer.writerow([g.submission, *points, f"{g.total:g}", f"{g.max_total:g}", g.error])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as f:
        f.write(buf.getvalue())
    os.replace(tmp, out)
