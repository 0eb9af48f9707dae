"""Every MyST page is paired with a committed .ipynb that matches it and carries no outputs."""
from __future__ import annotations

import pathlib

import jupytext
import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("chapters", "exercises")


def _myst_notebooks():
    for folder in NOTEBOOK_DIRS:
        for md in sorted((ROOT / folder).rglob("*.md")):
            if "_build" in md.parts or ".ipynb_checkpoints" in md.parts:
                continue
            if "jupytext:" in md.read_text()[:300]:
                yield md


def _cells(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


MD_FILES = list(_myst_notebooks())


def test_there_are_notebooks():
    assert MD_FILES, "no MyST notebooks found under chapters/ or exercises/"


@pytest.mark.parametrize("md", MD_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pair_in_sync(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{md.name} has no paired {ipynb.name}: run `jupytext --sync {md.relative_to(ROOT)}`"
    from_md = jupytext.read(md)
    from_ipynb = nbformat.read(ipynb, as_version=4)
    assert _cells(from_md) == _cells(from_ipynb), (
        f"{ipynb.relative_to(ROOT)} is out of sync with {md.name}: run `jupytext --sync {md.relative_to(ROOT)}`")
    assert from_ipynb.metadata.get("jupytext", {}).get("formats") == "md:myst,ipynb"


@pytest.mark.parametrize("md", MD_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_ipynb_has_no_outputs(md):
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{md.with_suffix('.ipynb').name}: cells {dirty} carry outputs; strip them before committing"


@pytest.mark.parametrize("md", MD_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_first_cell_installs_the_package(md):
    """The hidden first code cell installs dlcourse from the configured repository when it is missing (Colab)."""
    import yaml

    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    first = next(c for c in jupytext.read(md).cells if c.cell_type == "code")
    assert "remove-cell" in first.metadata.get("tags", []), f"{md.name}: the first code cell must be hidden"
    assert f"git+{repo['url']}@{repo['branch']}" in first.source, (
        f"{md.name}: the install cell must name {repo['url']}@{repo['branch']}; run scripts/set_repository.py")
