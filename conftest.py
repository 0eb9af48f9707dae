"""Test-run set-up shared by every test: for the notebooks that nbval executes, their timing table and their outputs
stored in the book's jupyter-cache (``_ext/notebook_cache.py``), so that the book build that follows renders them
without executing them again."""
from __future__ import annotations

import copy
import json
import os
import pathlib
import sys
import tempfile
import warnings

import pytest

# Kernels inherit this process's environment, and ipykernel shows figures inline only when MPLBACKEND is unset:
# with MPLBACKEND=Agg every notebook would lose its figures. Tests without a display fall back to Agg anyway.
os.environ.pop("MPLBACKEND", None)
ROOT = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT / "_ext"), str(ROOT / "benchmarks")]

import budgets  # noqa: E402  (benchmarks/budgets.py)
import notebook_cache  # noqa: E402  (_ext/notebook_cache.py)

_runs: dict[str, dict] = {}
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Run in the kernel after a notebook's last cell: the state of every live ipywidget, in the form the book's widget
# manager renders offline (nbclient stores it in ``metadata.widgets`` when it executes a notebook; nbval does not).
_WIDGET_STATE = """
import json as _dlcourse_json, sys as _dlcourse_sys
with open({path!r}, "w") as _dlcourse_file:
    _dlcourse_json.dump(_dlcourse_sys.modules["ipywidgets"].Widget.get_manager_state()
                        if "ipywidgets" in _dlcourse_sys.modules else None, _dlcourse_file)
"""


def _notebook_of(item):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:
        return None
    return item.parent if isinstance(item, IPyNbCell) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    notebook = _notebook_of(item)
    if notebook is None:
        return
    run = _runs.setdefault(str(notebook.fspath), {"seconds": 0.0, "failed": False, "skipped": False,
                                                  "file": notebook, "outputs": {}})
    run["seconds"] += report.duration  # setup of the first cell starts the kernel; the last teardown stops it
    run["failed"] |= report.failed
    run["skipped"] |= report.skipped
    if report.when == "call" and item.test_outputs is not None:
        run["outputs"][item.cell_num] = copy.deepcopy(item.test_outputs)
        if item.cell_num == _code_cells(notebook.nb) - 1 and not run["failed"]:
            run["widgets"] = _widget_state(notebook.kernel)


def _code_cells(nb) -> int:
    return sum(cell.cell_type == "code" for cell in nb.cells)


def _widget_state(kernel, timeout: float = 60) -> dict | None:
    """The ipywidgets state of the notebook's kernel (``{"version_major", "version_minor", "state"}``), or None when
    no widget was made. The kernel is still running: nbval stops it when the notebook's last cell is torn down."""
    if kernel is None or not kernel.is_alive():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "widgets.json"
        try:
            msg_id = kernel.execute_cell_input(_WIDGET_STATE.format(path=str(path)), allow_stdin=False)
            kernel.await_reply(msg_id, timeout=timeout)
            kernel.await_idle(msg_id, timeout=timeout)
            state = json.loads(path.read_text())
        except Exception as error:  # the page still renders, only its widgets would be missing
            warnings.warn(f"could not read the notebook's widget state: {error!r}", stacklevel=1)
            return None
    return state if state and state.get("state") else None


def _executed_notebook(run: dict):
    """The notebook with the outputs nbval saw, or None when some code cell was not run."""
    nb = copy.deepcopy(run["file"].nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if run["skipped"] or sorted(run["outputs"]) != list(range(len(code))):
        return None
    widgets = run.get("widgets") or {"state": {}}
    if widgets["state"]:
        nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": widgets}
    for k, cell in enumerate(code):
        cell.outputs = [out for out in run["outputs"][k] if _shown(out, widgets["state"])]
        cell.execution_count = k + 1
        for out in cell.outputs:
            if out.get("output_type") == "execute_result":
                out["execution_count"] = k + 1
    return nb


def _shown(output, widget_state: dict) -> bool:
    """False for the view of a widget that was closed before the notebook ended (a ``tqdm`` bar with
    ``leave=False``): Jupyter removes it from the page, and the book's widget manager would find no model for it."""
    view = output.get("data", {}).get(_WIDGET_VIEW)
    return view is None or view.get("model_id") in widget_state


def pytest_sessionfinish(session, exitstatus):
    if not _runs:
        return
    cache = notebook_cache.open_cache()
    times = {}
    for path, run in _runs.items():
        ipynb = pathlib.Path(path)
        rel = str(ipynb.resolve().relative_to(ROOT))
        nb = _executed_notebook(run)
        if nb is None and not run["failed"]:
            continue  # only some cells were selected: neither a timing nor a cache entry
        times[rel] = {"seconds": round(run["seconds"], 2), "budget": budgets.budget(rel),
                      "status": "failed" if run["failed"] else "ok"}
        source = ipynb.with_suffix(".md")
        if run["failed"] or nb is None:
            notebook_cache.forget(run["file"].nb, cache)
        elif source.exists():
            notebook_cache.store(nb, source, run["seconds"], cache)
    if times:
        notebook_cache.write_times(times)
        session.config._dlcourse_times = times


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    times = getattr(config, "_dlcourse_times", None)
    if times:
        terminalreporter.section("notebook execution times (a fresh kernel each, budgets in benchmarks/budgets.py)")
        terminalreporter.write_line(notebook_cache.times_table(times, budgets.COURSE_BUDGET_S))


def pytest_collection_modifyitems(config, items):
    """Tests that read the built site (they use the ``site`` or ``server`` fixture) get the ``site`` marker, so that
    ``make test`` runs them after the book build: ``pytest -m "not site"`` first, ``pytest -m site`` last."""
    for item in items:
        if {"site", "server", "browser_context"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.site)
