"""Grade a class's notebooks: each in its own sandboxed process, scored here against the references.

A submission's code cells run one by one; right after the cell that (re)defines a question's function, that
function is run on the question's public and hidden cases, and the outputs are judged in this process. Points earned
before a later cell times out or crashes are kept.
"""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import nbformat

from .registry import Question, all_questions, get_question
from .sandbox import Sandbox, SandboxCrash, SandboxTimeout, encode_cases
from .verdict import Result, judge

__all__ = ["Graded", "grade_submission", "grade_all", "write_csv", "questions_in", "new_seed"]

_CHECK_CALL = re.compile(r"""check\(\s*["']([\w]+\.[\w]+)["']""")


@dataclass
class Graded:
    """The grade of one submission: a :class:`Result` per question and the reasons points were lost."""

    submission: str
    results: dict[str, Result]
    events: list[str] = field(default_factory=list)

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


def grade_submission(name: str, data: bytes, questions: Sequence[Question], seed: int, timeout: float = 30.0,
                     memory_mb: int = 2048) -> Graded:
    """Grade the notebook ``data`` (bytes of an .ipynb) on ``questions`` with the hidden cases of ``seed``."""
    results = {q.qid: _fail(q, "not defined", f"no function {q.function_name} in the notebook.") for q in questions}
    graded = Graded(name, results)
    try:
        cells = _code_cells(data)
    except Exception:
        graded.events.append("not a readable notebook")
        return graded
    by_name: dict[str, list[Question]] = {}
    for q in questions:
        by_name.setdefault(q.function_name, []).append(q)
    cases = {q.qid: q.make_cases(seed) for q in questions}
    payloads = {qid: encode_cases(c) for qid, c in cases.items()}
    try:
        box = Sandbox(timeout=timeout, memory_mb=memory_mb)
    except (SandboxTimeout, SandboxCrash) as err:
        graded.events.append(f"the notebook's process did not start ({err or 'timeout'})")
        return graded
    with box:
        for index, source in enumerate(cells, start=1):
            try:
                error, changed = box.run_cell(source, index, list(by_name))
            except SandboxTimeout:
                graded.events.append(f"timeout in cell {index}")
                break
            except SandboxCrash as err:
                graded.events.append(f"crashed in cell {index} ({err})")
                break
            if error:
                kind = "syntax error" if error.startswith(("SyntaxError", "IndentationError")) else "error"
                graded.events.append(f"{kind} in cell {index} ({error.split(':')[0]})")
            stop = False
            for q in (q for n in changed for q in by_name[n]):
                try:
                    results[q.qid] = judge(q, cases[q.qid], box.run_question(q.qid, payloads[q.qid]))
                except SandboxTimeout:
                    results[q.qid] = _fail(q, "timeout", f"did not finish within {timeout:g} s.")
                    stop = True
                except SandboxCrash as err:
                    results[q.qid] = _fail(q, "crashed", f"the notebook's process crashed ({err}).")
                    graded.events.append(f"crashed while checking {q.qid} ({err})")
                    stop = True
                if stop:
                    break
            if stop:
                break
        else:
            return graded
    for qid, r in results.items():  # the run stopped early: later questions were never reached
        if r.reason == "not defined":
            results[qid] = _fail(get_question(qid), "not reached", "the notebook stopped before defining it.")
    return graded


def grade_all(paths: Sequence[str | os.PathLike], seed: int, timeout: float = 30.0, jobs: int = 1,
              questions: Sequence[str] | None = None, memory_mb: int = 2048,
              names: Sequence[str] | None = None) -> list[Graded]:
    """Grade every notebook of ``paths`` (all read before any runs), ``jobs`` at a time.

    ``questions`` lists ids or part prefixes (``"training"``), graded in every notebook. By default, the questions
    that the notebooks check, each notebook graded on those of the parts it checks (a blank cell in the CSV for
    the others).
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
        per_submission = [_same_parts(chosen, data) for data in sources]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda item: grade_submission(item[0], item[1], item[2], seed, timeout, memory_mb),
                             zip(names, sources, per_submission)))


def _same_parts(chosen: Sequence[Question], data: bytes) -> list[Question]:
    """The questions of ``chosen`` in the parts that notebook ``data`` checks (all of them when it checks none), so
    that a folder may mix the exercises of several parts; deleting a check cell does not remove its question."""
    parts = {q.qid.split(".")[0] for q in questions_in([data])}
    return [q for q in chosen if q.qid.split(".")[0] in parts] or list(chosen)


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
