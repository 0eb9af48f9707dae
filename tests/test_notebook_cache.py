"""One execution per notebook: what nbval executed is what the book build finds in its cache, never a stale run."""
import sys

import nbformat
import pytest

import notebook_cache  # _ext/notebook_cache.py (conftest.py puts _ext on the path)


def _notebook(code: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A page"), nbformat.v4.new_code_cell(code)]
    return nb


def _executed(nb):
    done = nbformat.from_dict(nb)
    done.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    return done


def test_store_match_and_forget(tmp_path):
    cache = notebook_cache.open_cache(tmp_path / "cache")
    nb = _notebook("print(1 + 1)")
    notebook_cache.store(_executed(nb), tmp_path / "page.md", 1.5, cache)
    record = cache.match_cache_notebook(nb)                       # matched by code, outputs come from the cache
    assert record.data["execution_seconds"] == 1.5
    code = [c for c in cache.get_cache_bundle(record.pk).nb.cells if c.cell_type == "code"]
    assert code[0].outputs[0]["text"] == "2\n"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(_notebook("print(1 + 2)"))     # changed code: no match, so it executes again
    notebook_cache.forget(nb, cache)
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nb)
    notebook_cache.forget(nb, cache)                              # forgetting twice is harmless


def test_a_changed_package_empties_the_cache(tmp_path, monkeypatch):
    cache = notebook_cache.open_cache(tmp_path / "cache")
    nb = _notebook("print(1 + 1)")
    notebook_cache.store(_executed(nb), tmp_path / "page.md", 1.0, cache)
    assert notebook_cache.open_cache(tmp_path / "cache").match_cache_notebook(nb)   # same package: kept
    monkeypatch.setattr(notebook_cache, "package_fingerprint", lambda: "another package")
    cache = notebook_cache.open_cache(tmp_path / "cache")
    assert cache.list_cache_records() == []
    assert (tmp_path / "cache" / "dlcourse-package.sha256").read_text().strip() == "another package"


def test_fingerprint_follows_the_package(tmp_path, monkeypatch):
    first = notebook_cache.package_fingerprint()
    assert first == notebook_cache.package_fingerprint() and len(first) == 64
    fake = tmp_path / "dlcourse"
    fake.mkdir()
    (fake / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(notebook_cache, "ROOT", tmp_path)
    before = notebook_cache.package_fingerprint()
    (fake / "a.py").write_text("x = 2\n")
    assert notebook_cache.package_fingerprint() != before


def test_times_table_flags_pages_over_budget():
    table = notebook_cache.times_table({"a.ipynb": {"seconds": 70.0, "budget": 60.0, "status": "ok"},
                                        "b.ipynb": {"seconds": 10.0, "budget": 60.0, "status": "failed"}}, 900)
    assert "| a.ipynb | 70.0 | 60 | OVER BUDGET |" in table and "| b.ipynb | 10.0 | 60 | failed |" in table
    assert "**80.0**" in table and sys.modules["notebook_cache"] is notebook_cache


def test_executed_notebook_keeps_live_widgets_and_drops_closed_ones():
    """The widget state read from the kernel goes into ``metadata.widgets`` (what the book's widget manager renders);
    the view of a widget closed before the end (a finished ``tqdm`` bar) is dropped, as Jupyter drops it."""
    import importlib.util
    import pathlib

    # The repository's root conftest.py, by path: exercises/solutions/ has a conftest module of its own.
    spec = importlib.util.spec_from_file_location("root_conftest", pathlib.Path(__file__).parents[1] / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)

    view = "application/vnd.jupyter.widget-view+json"
    nb = _notebook("show()")
    live = nbformat.v4.new_output("display_data", data={view: {"model_id": "live"}, "text/plain": "Slider()"})
    closed = nbformat.v4.new_output("display_data", data={view: {"model_id": "gone"}, "text/plain": "HBox()"})
    text = nbformat.v4.new_output("stream", name="stdout", text="done\n")
    state = {"version_major": 2, "version_minor": 0, "state": {"live": {"model_name": "IntSliderModel", "state": {}}}}

    class File:
        pass

    file = File()
    file.nb = nb
    run = {"file": file, "skipped": False, "outputs": {0: [live, closed, text]}, "widgets": state}
    done = conftest._executed_notebook(run)
    assert done.metadata["widgets"]["application/vnd.jupyter.widget-state+json"] == state
    assert [o.get("data", {}).get(view, {}).get("model_id") for o in done.cells[1].outputs] == ["live", None]
    run["widgets"] = None
    assert "widgets" not in conftest._executed_notebook(run).metadata
