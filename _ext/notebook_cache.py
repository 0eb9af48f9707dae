"""One execution per notebook and run: the notebooks that the tests execute (nbval) fill the jupyter-cache that the
book build reads (``execute_notebooks: cache``), so ``make test`` runs each page once.

Staleness: jupyter-cache matches a notebook by the source of its code cells, so a page whose code changed is always
executed afresh. The package the pages import is fingerprinted too: the cache holds the fingerprint of the package
it was filled with, and a build or test run with another package empties the cache first. A notebook that fails
under the tests is removed from the cache, so the build executes it again (and fails) rather than showing old
outputs.
"""
from __future__ import annotations

import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
TIMES = ROOT / "_build" / "page-times.json"
_STAMP = "dlcourse-package.sha256"


def package_fingerprint() -> str:
    """sha256 of every file of the ``dlcourse`` package (sources, data, checkpoints), by path and content."""
    digest = hashlib.sha256()
    package = ROOT / "dlcourse"
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def open_cache(path: pathlib.Path = CACHE):
    """The jupyter-cache at ``path``, emptied first when it was filled with another version of the package."""
    from jupyter_cache import get_cache

    path.mkdir(parents=True, exist_ok=True)
    cache = get_cache(str(path))
    stamp = path / _STAMP
    current = package_fingerprint()
    if not stamp.exists() or stamp.read_text().strip() != current:
        for record in cache.list_cache_records():
            cache.remove_cache(record.pk)
        stamp.write_text(current + "\n")
    return cache


def store(nb, source: pathlib.Path, seconds: float, cache) -> None:
    """Cache an executed notebook (outputs filled in) under the MyST source it is paired with."""
    from jupyter_cache.base import CacheBundleIn

    cache.cache_notebook_bundle(CacheBundleIn(nb, str(source), data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


def forget(nb, cache) -> None:
    """Remove the cached execution of this notebook's code, if any."""
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        return
    cache.remove_cache(record.pk)


def write_times(times: dict[str, dict]) -> None:
    """Merge ``{notebook: {"seconds", "budget", "status"}}`` into ``_build/page-times.json``."""
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    old.update(times)
    TIMES.write_text(json.dumps(dict(sorted(old.items())), indent=1) + "\n")


def times_table(times: dict[str, dict], course_budget: float) -> str:
    """A Markdown table of the pages' execution times against their budgets, with the course's total."""
    lines = ["| notebook | seconds | budget | status |", "| --- | ---: | ---: | --- |"]
    total = 0.0
    for path, t in sorted(times.items()):
        total += t["seconds"]
        over = t["status"] == "ok" and t["seconds"] > t["budget"]
        status = "OVER BUDGET" if over else t["status"]
        lines.append(f"| {path} | {t['seconds']:.1f} | {t['budget']:.0f} | {status} |")
    lines.append(f"| **all {len(times)} notebooks** | **{total:.1f}** | {course_budget:.0f} | "
                 f"{'ok' if total <= course_budget else 'OVER BUDGET'} |")
    return "\n".join(lines)
