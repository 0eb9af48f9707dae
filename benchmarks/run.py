"""Time every chapter notebook against its budget and the from-scratch operators against PyTorch's.

    python benchmarks/run.py                 # everything
    python benchmarks/run.py --notebooks     # only the pages
    python benchmarks/run.py --operators     # only the operators
    python benchmarks/run.py --only pooling  # pages whose path contains "pooling"
    DLCOURSE_DEVICE=cuda python benchmarks/run.py   # the same on a GPU

Prints Markdown tables. Budgets live in benchmarks/budgets.py, not in tests: a page over budget is flagged,
never failed.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "_ext"), str(ROOT / "benchmarks")]


def chapter_notebooks(only: str | None = None) -> list[pathlib.Path]:
    paths = sorted((ROOT / "chapters").rglob("*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    return [p for p in paths if only is None or only in str(p)]


def run_notebooks(only: str | None) -> None:
    """Execute the pages exactly as the tests do (nbval, one fresh kernel per notebook, one after another) and print
    the table that the test run prints: the same hook (``conftest.py``) measures both, into
    ``_build/page-times.json``."""
    import json
    import subprocess

    import budgets
    import notebook_cache

    paths = [str(p.relative_to(ROOT)) for p in chapter_notebooks(only)]
    print("\n## Pages (wall time of a full execution in a fresh kernel)\n", flush=True)
    subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", *paths],
                   cwd=ROOT, check=False)
    times = json.loads(notebook_cache.TIMES.read_text())
    print(notebook_cache.times_table({p: times[p] for p in paths if p in times}, budgets.COURSE_BUDGET_S))


def _timeit(fn, device) -> float:
    from dlcourse.timing import timeit

    return timeit(fn, repeat=5, warmup=1, device=device, min_time=0.5)


def operator_cases(device):
    """(name, from-scratch callable, PyTorch callable) triples for the package's reference operators."""
    import torch
    import torch.nn.functional as F

    import dlcourse.vision as V

    g = torch.Generator().manual_seed(0)
    cases = []

    def randn(*shape, grad=False):
        t = torch.randn(*shape, generator=g).to(device)
        return t.requires_grad_(grad)

    # Each case owns its tensors (closures bind names late, so no name is reused).
    xc, wc, bc = randn(8, 64, 56, 56, grad=True), randn(64, 64, 3, 3, grad=True), randn(64, grad=True)
    xf, wf, bf = xc.detach(), wc.detach(), bc.detach()

    def fwd_bwd(conv):
        def run():
            conv(xc, wc, bc, padding=1).sum().backward()
        return run

    cases.append(("conv2d forward 8×64×56×56, 64 3×3", lambda: V.conv2d(xf, wf, bf, padding=1),
                  lambda: F.conv2d(xf, wf, bf, padding=1)))
    cases.append(("conv2d forward+backward 8×64×56×56, 64 3×3", fwd_bwd(V.conv2d), fwd_bwd(F.conv2d)))
    xt, wt = randn(8, 64, 28, 28), randn(64, 32, 3, 3)
    cases.append(("conv_transpose2d 8×64×28×28, stride 2", lambda: V.conv_transpose2d(xt, wt, stride=2, padding=1),
                  lambda: F.conv_transpose2d(xt, wt, stride=2, padding=1)))
    xp = randn(8, 64, 56, 56)
    cases.append(("max_pool2d 8×64×56×56, k=2", lambda: V.max_pool2d(xp, 2), lambda: F.max_pool2d(xp, 2)))
    cases.append(("avg_pool2d 8×64×56×56, k=2", lambda: V.avg_pool2d(xp, 2), lambda: F.avg_pool2d(xp, 2)))
    xb = randn(32, 64, 28, 28)
    ours, theirs = V.BatchNorm2d(64).to(device), torch.nn.BatchNorm2d(64).to(device)
    cases.append(("BatchNorm2d train 32×64×28×28", lambda: ours(xb), lambda: theirs(xb)))
    fg = randn(4, 256, 32, 32)
    cases.append(("gram_matrix 4×256×32×32", lambda: V.gram_matrix(fg),
                  lambda: torch.bmm(fg.flatten(2), fg.flatten(2).transpose(1, 2))))
    xy = torch.rand(10_000, 2, generator=g) * 500
    nb = torch.cat([xy, xy + 10 + torch.rand(10_000, 2, generator=g) * 40], 1).to(device)
    ns = torch.rand(10_000, generator=g).to(device)
    try:
        from torchvision.ops import nms as tv_nms
    except ImportError:  # PyTorch itself has no NMS operator
        tv_nms = None
    cases.append(("nms 10,000 boxes, IoU 0.5 (vs torchvision.ops.nms)", lambda: V.nms(nb, ns, 0.5),
                  None if tv_nms is None else (lambda: tv_nms(nb, ns, 0.5))))
    return cases


def run_operators(device) -> None:
    print(f"\n## Operators: from scratch vs PyTorch on {device} (median per call)\n")
    print("| operator | from scratch (ms) | PyTorch (ms) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, ours, theirs in operator_cases(device):
        t_ours = _timeit(ours, device)
        if theirs is None:  # no PyTorch operator installed to compare with
            print(f"| {name} | {t_ours * 1e3:.2f} | not installed | |", flush=True)
            continue
        t_theirs = _timeit(theirs, device)
        print(f"| {name} | {t_ours * 1e3:.2f} | {t_theirs * 1e3:.2f} | {t_ours / t_theirs:.2f}× |", flush=True)


def run_extras(device) -> None:
    """Benchmarks that parts of the course provide themselves (style transfer speed, grading throughput)."""
    from style_bench import style_step_seconds, transform_net_seconds

    print("\n## Style transfer (Notes §3.9.3)\n")
    print("| size | optimisation step (s) | transformation network, one pass (s) |")
    print("| --- | ---: | ---: |")
    for size in (128, 256):
        print(f"| {size} px | {style_step_seconds(size, device=device):.3f} | "
              f"{transform_net_seconds(size, device=device):.4f} |", flush=True)
    grading = ROOT / "benchmarks" / "grading_bench.py"
    if grading.exists():
        import runpy

        print("\n## Grading\n", flush=True)
        runpy.run_path(str(grading), run_name="__main__")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", action="store_true", help="time the pages only")
    parser.add_argument("--operators", action="store_true", help="time the operators only")
    parser.add_argument("--extras", action="store_true", help="style transfer and grading benchmarks only")
    parser.add_argument("--only", help="only pages whose path contains this text")
    args = parser.parse_args(argv)
    everything = not (args.notebooks or args.operators or args.extras)

    sys.path.insert(0, str(ROOT))
    import torch

    import dlcourse

    device = dlcourse.device()
    print(f"# Benchmark on {device} (torch {torch.__version__}, {os.cpu_count()} CPU cores, "
          f"{torch.get_num_threads()} threads)")
    if everything or args.operators:
        run_operators(device)
    if everything or args.extras:
        run_extras(device)
    if everything or args.notebooks:
        run_notebooks(args.only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
