"""Make the student notebooks from the solution notebooks.

    python -m dlcourse.grading.make_student exercises/solutions/*.md [--out exercises]

In a solution notebook (MyST Markdown, paired with .ipynb), the answer inside a function body sits between two marker
lines::

    def dense_params(s_in, s_out, bias=True):
        ### BEGIN SOLUTION
        return s_in * s_out + (s_out if bias else 0)
        ### END SOLUTION

The student version replaces the block with ``raise NotImplementedError`` at the same indentation; cells tagged
``solution`` are dropped. Each ``<out>/<name>.md`` is written with its paired ``<name>.ipynb`` (no outputs).
"""
from __future__ import annotations

import argparse
import copy
import re
from pathlib import Path

import jupytext
import nbformat

__all__ = ["BEGIN", "END", "strip_solutions", "student_notebook", "render", "make_student"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ["# Your code here.", "raise NotImplementedError"]
_MARK = re.compile(r"^(\s*)(### (?:BEGIN|END) SOLUTION)\s*$")


def strip_solutions(source: str, where: str = "cell") -> str:
    """``source`` with every solution block replaced by the stub; ``ValueError`` on unbalanced markers."""
    out, indent = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        mark = _MARK.match(line)
        if mark and mark.group(2) == BEGIN:
            if indent is not None:
                raise ValueError(f"{where}, line {number}: {BEGIN} inside another solution block")
            indent = mark.group(1)
            out.extend(indent + s for s in STUB)
        elif mark:
            if indent is None:
                raise ValueError(f"{where}, line {number}: {END} without {BEGIN}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"{where}: {BEGIN} is never closed")
    return "\n".join(out)


def student_notebook(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student version of a solution notebook (a copy; the solution is not changed)."""
    nb = copy.deepcopy(solution)
    cells = []
    for i, cell in enumerate(nb.cells):
        if "solution" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{name}, cell {i + 1}")
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    nb.metadata.setdefault("jupytext", {})["formats"] = "md:myst,ipynb"
    return nb


def render(solution_md: str | Path) -> tuple[str, str]:
    """``(markdown, ipynb)`` texts of the student version of the solution notebook ``solution_md``."""
    path = Path(solution_md)
    nb = student_notebook(jupytext.read(path), path.name)
    return jupytext.writes(nb, fmt="md:myst"), jupytext.writes(nb, fmt="ipynb")


def make_student(solution_md: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write ``<out_dir>/<name>.md`` and ``.ipynb`` (default ``out_dir``: the solutions folder's parent)."""
    path = Path(solution_md)
    out = Path(out_dir) if out_dir is not None else path.resolve().parent.parent
    out.mkdir(parents=True, exist_ok=True)
    md, ipynb = render(path)
    (out / path.name).write_text(md)
    (out / path.with_suffix(".ipynb").name).write_text(ipynb)
    return out / path.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.grading.make_student",
                                     description="Write the student notebooks of solution notebooks.")
    parser.add_argument("solutions", nargs="+", help="solution notebooks (MyST .md) in exercises/solutions/")
    parser.add_argument("--out", default=None, help="folder of the student notebooks (default: the parent folder)")
    args = parser.parse_args(argv)
    for solution in args.solutions:
        print("wrote", make_student(solution, args.out), "and its .ipynb")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
