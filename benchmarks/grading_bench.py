"""Time the grader: 20 submissions graded with 2 jobs.

    python benchmarks/grading_bench.py [--n 20] [--jobs 2] [--timeout 30]

The submissions are made in a temporary folder from the exercise notebooks: solved ones (the solution notebooks),
untouched ones (the student notebooks) and ones with a wrong answer, for Parts 1 and 2 in turn. Prints the wall time
and the time per submission; :func:`bench` returns them for other scripts.
"""
from __future__ import annotations

import argparse
import csv
import pathlib
import tempfile
import time

import jupytext

ROOT = pathlib.Path(__file__).resolve().parents[1]
PARTS = ("01_expressivity", "02_training")


def make_submissions(folder: pathlib.Path, n: int = 20) -> list[pathlib.Path]:
    """Write ``n`` submissions (.ipynb) into ``folder``: solved, untouched and wrong ones, both parts in turn."""
    paths = []
    for i in range(n):
        part = PARTS[i % len(PARTS)]
        kind = ("solved", "untouched", "wrong")[(i // len(PARTS)) % 3]
        source = ROOT / "exercises" / ("solutions" if kind != "untouched" else "") / f"{part}.md"
        nb = jupytext.read(source)
        if kind == "wrong":  # one slip per notebook: a missing bias term, a sign error in the update
            for cell in nb.cells:
                cell.source = cell.source.replace("(s_out if bias else 0)", "0").replace("w - v_new", "w + v_new")
        path = folder / f"student{i + 1:02d}_{part}.ipynb"
        jupytext.write(nb, path)
        paths.append(path)
    return paths


def bench(n: int = 20, jobs: int = 2, timeout: float = 30.0) -> dict:
    """Grade ``n`` fresh submissions with ``jobs`` workers; return the timing and the CSV's totals."""
    from dlcourse.grading.__main__ import main

    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        (folder / "submissions").mkdir()
        make_submissions(folder / "submissions", n)
        out = folder / "grades.csv"
        start = time.perf_counter()
        main([str(folder / "submissions"), "--out", str(out), "--seed", "0", "--jobs", str(jobs),
              "--timeout", str(timeout)])
        seconds = time.perf_counter() - start
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
    return {"submissions": n, "jobs": jobs, "seconds": seconds, "per_submission": seconds / n,
            "totals": [float(r["total"]) for r in rows]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    result = bench(args.n, args.jobs, args.timeout)
    print(f"graded {result['submissions']} submissions with {result['jobs']} jobs in {result['seconds']:.1f} s "
          f"({result['per_submission']:.2f} s per submission)")
