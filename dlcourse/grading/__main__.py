"""Grade a class's exercise notebooks.

    python -m dlcourse.grading SUBMISSION.ipynb|FOLDER … --out grades.csv [--seed N] [--timeout S] [--jobs N]

Each notebook runs in its own process (time and memory limits, a temporary working directory); its functions are
checked on the public cases and on hidden random cases drawn from the seed. Keep the seed (printed when not given):
the same seed gives the same grades.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .grade import grade_all, new_seed, write_csv


def _expand(paths: list[str]) -> list[tuple[str, Path]]:
    """``(name, path)`` of every notebook: a folder gives its notebooks, named relative to it."""
    found: list[tuple[str, Path]] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend((str(q.relative_to(p)), q) for q in sorted(p.rglob("*.ipynb"))
                         if ".ipynb_checkpoints" not in q.parts)
        else:
            found.append((str(p), p))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.grading", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", help="notebooks (.ipynb) or folders of notebooks")
    parser.add_argument("--out", required=True, help="the CSV to write (one row per submission)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the hidden cases (printed when not given)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds allowed per cell and per check")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at the same time")
    parser.add_argument("--memory", type=int, default=2048, help="memory limit of a submission's process, in MiB")
    parser.add_argument("--questions", nargs="*", default=None,
                        help="question ids or parts to grade (default: those the notebooks check)")
    args = parser.parse_args(argv)
    found = _expand(args.submissions)
    if not found:
        parser.error("no notebooks found")
    seed = new_seed() if args.seed is None else args.seed
    if args.seed is None:
        print(f"seed of the hidden cases: {seed} (keep it: --seed {seed} reproduces these grades)")
    start = time.perf_counter()
    grades = grade_all([p for _, p in found], seed, timeout=args.timeout, jobs=args.jobs,
                       questions=args.questions, memory_mb=args.memory, names=[n for n, _ in found])
    write_csv(grades, args.out)
    full = sum(g.total == g.max_total > 0 for g in grades)
    print(f"graded {len(grades)} submissions in {time.perf_counter() - start:.1f} s "
          f"({full} with full marks) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
