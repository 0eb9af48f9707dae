"""The grader on hostile and broken submissions (tests/grading_fixtures/): every one graded exactly right."""
from __future__ import annotations

import csv
import pathlib

import jupytext
import pytest

from dlcourse.grading.__main__ import main

FIXTURES = pathlib.Path(__file__).parent / "grading_fixtures"
QUESTIONS = ["expressivity.dense_params", "training.momentum_step"]

# submission: (dense_params, momentum_step, error)
EXPECTED = {
    "files.ipynb": (1, 1, ""),
    "forbidden.ipynb": (0, 0, "expressivity.dense_params: forbidden call; training.momentum_step: forbidden call"),
    "hidden_only.ipynb": (0, 0, "expressivity.dense_params: wrong answer; training.momentum_step: wrong answer"),
    "huge_allocation.ipynb": (1, 1, "error in cell 2 (MemoryError); error in cell 3 (RuntimeError)"),
    "import_error.ipynb": (1, 1, "error in cell 1 (ModuleNotFoundError)"),
    "library_calls.ipynb": (1, 1, ""),
    "infinite_loop.ipynb": (1, 0, "timeout in cell 4; training.momentum_step: not reached"),
    "loop_in_answer.ipynb": (1, 0, "training.momentum_step: timeout"),
    "monkeypatch.ipynb": (0, 0, "expressivity.dense_params: wrong answer; training.momentum_step: wrong answer"),
    "not_a_notebook.ipynb": (0, 0, "not a readable notebook; expressivity.dense_params: not defined; "
                                   "training.momentum_step: not defined"),
    "odd_return.ipynb": (1, 0, "training.momentum_step: error"),
    "os_exit.ipynb": (1, 0, "crashed in cell 4 (exit code 3); training.momentum_step: not reached"),
    "perfect.ipynb": (1, 1, ""),
    "renamed.ipynb": (1, 1, ""),
    "stubs.ipynb": (0, 0, "expressivity.dense_params: not implemented; training.momentum_step: not implemented"),
    "syntax_error.ipynb": (0, 1, "syntax error in cell 2 (SyntaxError); expressivity.dense_params: not defined"),
    "sys_exit.ipynb": (1, 1, "error in cell 4 (SystemExit)"),
    "unplug_monitor.ipynb": (0, 1, "expressivity.dense_params: forbidden call"),
    "wrong.ipynb": (0, 0, "expressivity.dense_params: wrong answer; training.momentum_step: wrong answer"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every fixture once (2 jobs, 5 s per cell, in sandboxes where they run) into a CSV that a submission
    tries to overwrite, with feedback files."""
    root = tmp_path_factory.mktemp("grading")
    subs = root / "submissions"
    subs.mkdir()
    for path in sorted(FIXTURES.glob("*.py")):
        if path.name != "conftest.py":
            jupytext.write(jupytext.reads(path.read_text(), fmt="py:percent"), subs / f"{path.stem}.ipynb")
    (subs / "not_a_notebook.ipynb").write_bytes((FIXTURES / "not_a_notebook.txt").read_bytes())
    out = root / "grades.csv"
    out.write_text("stale content\n")
    main([str(subs), "--out", str(out), "--seed", "7", "--timeout", "5", "--jobs", "2",
          "--feedback", str(root / "feedback"), "--questions", *QUESTIONS])
    return subs, out


def test_every_fixture_has_an_expected_row():
    names = {f"{p.stem}.ipynb" for p in FIXTURES.glob("*.py") if p.name != "conftest.py"} | {"not_a_notebook.ipynb"}
    assert names == set(EXPECTED)


def test_csv_rows_are_exactly_right(graded):
    _, out = graded
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["submission", *QUESTIONS, "total", "max_total", "error"]
    want = [[name, str(d), str(m), str(d + m), "2", err] for name, (d, m, err) in sorted(EXPECTED.items())]
    assert rows[1:] == want


def test_submissions_and_output_are_untouched(graded):
    subs, out = graded
    assert len(list(subs.glob("*.ipynb"))) == len(EXPECTED)
    assert not (subs / "grades.csv").exists() and "1000" not in out.read_text()
    assert not list(out.parent.glob(".grades.csv.*"))  # no temporary file left behind


def test_seed_changes_hidden_cases_not_public_ones(tmp_path):
    from dlcourse.grading import get_question

    q = get_question("training.momentum_step")
    a, b = q.make_cases(7), q.make_cases(8)
    assert [repr(c) for c in a[:len(q.cases)]] == [repr(c) for c in b[:len(q.cases)]]
    assert repr(a[-1]) != repr(b[-1])


def test_default_questions_are_those_the_notebooks_check(tmp_path, capsys):
    nb = tmp_path / "one.ipynb"
    jupytext.write(jupytext.reads((FIXTURES / "wrong.py").read_text(), fmt="py:percent"), nb)
    main([str(nb), "--out", str(tmp_path / "g.csv"), "--timeout", "10"])
    assert "seed of the hidden cases" in capsys.readouterr().out
    header = (tmp_path / "g.csv").read_text().splitlines()[0]
    assert header == "submission,expressivity.dense_params,training.momentum_step,total,max_total,error"


def test_feedback_shows_public_verdicts_and_never_hidden_inputs(graded):
    from dlcourse.grading import get_question
    from dlcourse.grading.verdict import _inputs

    _, out = graded
    folder = out.parent / "feedback"
    assert sorted(p.name for p in folder.iterdir()) == sorted(n.replace(".ipynb", ".md") for n in EXPECTED)
    text = (folder / "hidden_only.md").read_text()
    assert text.count("✔") == 2 and text.count("Hidden cases: ✘ at least one failed (wrong answer)") == 2
    assert "Count the biases too" in text  # the hint of the mistake it makes on hidden cases
    for qid in QUESTIONS:
        q = get_question(qid)
        for case in q.make_cases(7)[len(q.cases):]:
            assert _inputs(q, q.ready(case)) not in text
            assert case.label not in text
    hidden_sizes = [c.args[0] for c in get_question(QUESTIONS[0]).make_cases(7)[5:] if c.args[0] >= 1000]
    assert hidden_sizes and not any(f"{n}" in text for n in hidden_sizes)
    wrong = (folder / "wrong.md").read_text()  # a public failure shows its inputs, as check() does
    assert "input:    s_in = 784, s_out = 128" in wrong and "Hidden cases: ✘" in wrong
    assert "Not checked: no function" in (folder / "syntax_error.md").read_text()


def test_total_timeout_caps_a_notebook(tmp_path):
    nb = tmp_path / "slow.ipynb"
    jupytext.write(jupytext.reads((FIXTURES / "infinite_loop.py").read_text(), fmt="py:percent"), nb)
    main([str(nb), "--out", str(tmp_path / "g.csv"), "--seed", "7", "--timeout", "30", "--total-timeout", "2",
          "--questions", *QUESTIONS])
    with open(tmp_path / "g.csv", newline="") as f:
        row = list(csv.reader(f))[1]
    assert row[1:4] == ["1", "0", "1"]
    assert row[-1] == "total time limit of 2 s reached in cell 4; training.momentum_step: not reached"
