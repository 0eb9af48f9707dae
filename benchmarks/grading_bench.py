"""Time the grader: 20 submissions graded with 2 jobs, in sandboxes and in plain processes.

    python benchmarks/grading_bench.py [--n 20] [--jobs 2] [--timeout 30] [--isolation sandbox|process]

The submissions are made in a temporary folder from the exercise notebooks: solved ones (the solution notebooks),
untouched ones (the student notebooks) and ones with a wrong answer, for Parts 1 and 2 in turn. Without
``--isolation``, each isolation that runs here is timed in a fresh Python process (so that each one pays for starting
the grader's fork server, as a real run does); prints the wall time, the time per submission and the CPU time of all
the processes (the grader, its fork server, the sandboxes, the submissions): on a machine shared with other work the
wall time grows with the load, the CPU time much less. :func:`bench` returns them for other scripts.
"""
from __future__ import annotations

import argparse
import csv
import json
import pathlib
import resource
import subprocess
import sys
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


def bench(n: int = 20, jobs: int = 2, timeout: float = 30.0, isolation: str = "auto") -> dict:
    """Grade ``n`` fresh submissions with ``jobs`` workers; return the timing and the CSV's totals."""
    from dlcourse.grading.__main__ import main
    from dlcourse.grading.sandbox import choose_isolation

    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        (folder / "submissions").mkdir()
        make_submissions(folder / "submissions", n)
        out = folder / "grades.csv"
        start = time.perf_counter()
        main([str(folder / "submissions"), "--out", str(out), "--seed", "0", "--jobs", str(jobs),
              "--timeout", str(timeout), "--isolation", isolation])
        seconds = time.perf_counter() - start
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
    return {"submissions": n, "jobs": jobs, "isolation": choose_isolation(isolation)[0], "seconds": seconds,
            "per_submission": seconds / n, "totals": [float(r["total"]) for r in rows]}


def _report(result: dict) -> str:
    text = (f"{result['isolation']:>7}: graded {result['submissions']} submissions with {result['jobs']} jobs in "
            f"{result['seconds']:.1f} s ({result['per_submission']:.2f} s per submission)")
    if "cpu_seconds" in result:
        text += (f"; {result['cpu_seconds']:.1f} CPU s in all its processes (a quiet machine with {result['jobs']} "
                 "cores needs between that divided by the cores and that)")
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--isolation", choices=("sandbox", "process"), default=None)
    parser.add_argument("--json", action="store_true", help="print the result as JSON (one isolation)")
    args = parser.parse_args()
    if args.isolation is not None:
        result = bench(args.n, args.jobs, args.timeout, args.isolation)
        print(json.dumps(result) if args.json else _report(result))
        sys.exit(0)
    from dlcourse.grading.isolation import unavailable

    modes = ["process"] + (["sandbox"] if unavailable() is None else [])
    results = {}
    for mode in modes:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--jobs", str(args.jobs), "--timeout",
                              str(args.timeout), "--isolation", mode, "--json"], capture_output=True, text=True,
                             check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run, its fork server and every submission
        results[mode] = json.loads(run.stdout.strip().splitlines()[-1])
        results[mode]["cpu_seconds"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(_report(results[mode]), flush=True)
    if len(results) == 2:
        assert results["sandbox"]["totals"] == results["process"]["totals"], "the isolation changed a grade"
        print(f"the sandbox costs {results['sandbox']['seconds'] - results['process']['seconds']:+.1f} s "
              "(same grades)")
    else:
        print(f"no sandbox here: {unavailable()}")
