"""Grade a class's exercise notebooks.

    python -m dlcourse.grading SUBMISSION.ipynb|FOLDER … --out grades.csv [--seed N] [--timeout S]
        [--total-timeout S] [--jobs N] [--isolation auto|sandbox|process] [--feedback DIR]

Each notebook runs in a process of its own; where the system allows (Linux with user namespaces), that process is in
a bubblewrap sandbox: a read-only system, an empty private folder, no network, no view of the other submissions, of
the output or of your home and working folders, and every process it starts dies with it. Its functions are checked
on the public cases and on hidden random cases drawn from the seed. Keep the seed (printed when not given): the same
seed gives the same grades.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .grade import grade_all, new_seed, write_csv
from .sandbox import MODES, choose_isolation


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
    parser.add_argument("--total-timeout", type=float, default=600.0,
                        help="seconds allowed per submission in all (0: no cap)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at the same time")
    parser.add_argument("--memory", type=int, default=2048, help="memory limit of a submission's process, in MiB")
    parser.add_argument("--isolation", choices=MODES, default="auto",
                        help="sandbox: a bubblewrap sandbox per submission (fails where none can run); process: "
                             "a plain process (no protection of your files or network); auto: a sandbox where "
                             "one runs (default)")
    parser.add_argument("--feedback", default=None, metavar="DIR",
                        help="write one Markdown file per submission into DIR (public verdicts and messages; "
                             "only pass/fail and hints for the hidden cases)")
    parser.add_argument("--questions", nargs="*", default=None,
                        help="question ids or parts to grade (default: those the notebooks check)")
    args = parser.parse_args(argv)
    found = _expand(args.submissions)
    if not found:
        parser.error("no notebooks found")
    try:
        isolation, line = choose_isolation(args.isolation)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(line)
    seed = new_seed() if args.seed is None else args.seed
    if args.seed is None:
        print(f"seed of the hidden cases: {seed} (keep it: --seed {seed} reproduces these grades)")
    out = Path(args.out).resolve()
    hide = [str(out.parent), os.getcwd(), os.path.expanduser("~"), *(str(Path(p).resolve()) for p in args.submissions)]
    if args.feedback:
        hide.append(str(Path(args.feedback).resolve()))
    start = time.perf_counter()
    grades = grade_all([p for _, p in found], seed, timeout=args.timeout, jobs=args.jobs,
                       questions=args.questions, memory_mb=args.memory, names=[n for n, _ in found],
                       isolation=isolation, hide=hide, total_timeout=args.total_timeout or None)
    write_csv(grades, out)
    if args.feedback:
        from .feedback import write_feedback

        write_feedback(grades, args.feedback)
    full = sum(g.total == g.max_total > 0 for g in grades)
    print(f"graded {len(grades)} submissions in {time.perf_counter() - start:.1f} s "
          f"({full} with full marks) -> {args.out}" + (f"; feedback in {args.feedback}" if args.feedback else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
