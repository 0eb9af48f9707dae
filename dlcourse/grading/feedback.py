"""Feedback files for students: one Markdown file per graded submission.

For each question: the points, then the verdict on the public cases with the message the student would have seen
from ``check()`` on them, then only pass or fail (with the reason and the hint, if any) on the hidden cases: their
inputs are never written, so the hidden cases stay hidden for the next submission.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

from .grade import Graded

__all__ = ["feedback_markdown", "write_feedback", "feedback_name"]


def feedback_name(submission: str) -> str:
    """The file name of a submission's feedback: ``folder/alice.ipynb`` gives ``folder__alice.md``."""
    stem = re.sub(r"\.ipynb$", "", submission.replace("\\", "/")).strip("/")
    return re.sub(r"[^\w.-]+", "_", stem.replace("/", "__")) + ".md"


def _block(text: str) -> list[str]:
    return ["```text", text.replace("```", "'''"), "```"]


def feedback_markdown(graded: Graded) -> str:
    """The feedback of one submission, as Markdown."""
    lines = [f"# Feedback on {graded.submission}", "",
             f"**Total: {graded.total:g} / {graded.max_total:g} points.**", ""]
    if graded.events:
        lines += ["What happened while your notebook ran:", ""] + [f"- {e}" for e in graded.events] + [""]
    for qid in sorted(graded.results):
        result = graded.results[qid]
        lines += [f"## {qid}: {result.score:g} / {result.max_score:g}", ""]
        checked = graded.checked.get(qid)
        if checked is None:  # never checked: not defined, not reached
            lines += ["Not checked: " + result.message.partition(": ")[2], ""]
            continue
        public = re.sub(r" \(\d+(\.\d+)?/\d+(\.\d+)? points?\)", "", checked.public.message)  # points: above
        lines += ["Public cases (what `check()` shows):", ""] + _block(public) + [""]
        hidden = checked.hidden
        if hidden is None:
            lines += ["Hidden cases: not run" + ("." if checked.public.passed else
                                                  " (the check stopped on a public case)."), ""]
        elif hidden.passed:
            lines += ["Hidden cases: ✔ all passed.", ""]
        else:
            lines += [f"Hidden cases: ✘ at least one failed ({hidden.reason})."]
            if hidden.hint:
                lines += [f"Hint: {hidden.hint}"]
            lines += [""]
    return "\n".join(lines)


def write_feedback(grades: Sequence[Graded], folder: str | os.PathLike) -> list[Path]:
    """Write :func:`feedback_markdown` of every submission into ``folder`` (created); return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for g in grades:
        path = folder / feedback_name(g.submission)
        path.write_text(feedback_markdown(g), encoding="utf-8")
        paths.append(path)
    return paths
