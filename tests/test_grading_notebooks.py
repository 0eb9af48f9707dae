"""Exercise notebooks: the student versions are up to date with the solutions and hide them; the solutions pass in
strict mode."""
from __future__ import annotations

import pathlib

import jupytext
import nbformat
import pytest

from dlcourse.grading import STRICT_ENV
from dlcourse.grading.make_student import BEGIN, END, render, strip_solutions

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "exercises" / "solutions").glob("*.md"))
IDS = [p.stem for p in SOLUTIONS]


def _solution_lines(md: pathlib.Path) -> list[str]:
    lines, inside = [], False
    for cell in jupytext.read(md).cells:
        for line in cell.source.splitlines():
            if line.strip() in (BEGIN, END):
                inside = line.strip() == BEGIN
            elif inside and len(line.strip()) >= 8:
                lines.append(line.strip())
    return lines


def test_every_part_has_exercises():
    assert {"01_expressivity", "02_training"} <= set(IDS)


@pytest.mark.parametrize("md", SOLUTIONS, ids=IDS)
def test_student_notebook_is_up_to_date(md):
    student_md, student_ipynb = render(md)
    target = ROOT / "exercises" / md.name
    hint = f"run `python -m dlcourse.grading.make_student exercises/solutions/{md.name}`"
    assert target.exists() and target.read_text() == student_md, f"exercises/{md.name} is out of date: {hint}"
    committed = nbformat.read(target.with_suffix(".ipynb"), as_version=4)
    made = nbformat.reads(student_ipynb, as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == [(c.cell_type, c.source) for c in made.cells], hint


@pytest.mark.parametrize("md", SOLUTIONS, ids=IDS)
def test_no_solution_text_in_student_notebook(md):
    secret = _solution_lines(md)
    assert secret, f"{md.name} has no solution blocks"
    for path in (ROOT / "exercises" / md.name, (ROOT / "exercises" / md.name).with_suffix(".ipynb")):
        text = path.read_text()
        assert BEGIN not in text and END not in text
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path.name} shows solution lines: {leaked}"
        assert "solution notebook" not in text


@pytest.mark.parametrize("md", SOLUTIONS, ids=IDS)
def test_every_stub_has_a_check_and_the_last_cell_scores(md):
    cells = [c.source for c in jupytext.read(ROOT / "exercises" / md.name).cells if c.cell_type == "code"]
    stubs = [c for c in cells if "raise NotImplementedError" in c]
    checks = [c for c in cells if c.lstrip().startswith("check(")]
    assert len(stubs) >= 3 and len(checks) == len(stubs)
    assert cells[-1].startswith("score(")


def test_solution_notebooks_pass_in_strict_mode(monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv(STRICT_ENV, "1")  # the kernel inherits it: any failed check raises
    for md in SOLUTIONS:
        nb = jupytext.read(md)
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
        out = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        assert "✘" not in out and out.count("✔") >= 3, out


def test_strip_solutions():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert strip_solutions(src) == "def f(x):\n    # Your code here.\n    raise NotImplementedError"
    for bad in ("    ### BEGIN SOLUTION\n", "### END SOLUTION\n", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n"):
        with pytest.raises(ValueError):
            strip_solutions(bad)
