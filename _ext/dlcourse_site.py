"""Sphinx extension that makes the course website self-contained and adds a "cited by" table.

1. Offline assets. MathJax 3 and the Jupyter widget manager are installed by npm (``npm ci`` reads
   ``package-lock.json``) and copied from ``node_modules/`` into ``<html>/vendor/`` when the HTML builder starts, so
   no page loads a script, a style sheet or a font from a CDN. ``_config.yml`` points ``mathjax_path`` and
   ``nb_ipywidgets_js`` at the copies (``../vendor/...``: Sphinx puts ``_static/`` in front of local script paths).
   The folder is deliberately not ``_static``: Jupyter Book adds every file of a source ``_static`` folder to every
   page.
2. Page furniture: the course's style sheet (``_ext/static/dlcourse-site.css``: dark-mode figures, wide outputs on
   phones) and FontAwesome's ``autoReplaceSvg: 'nest'`` setting, without which the theme's icon script replaces
   the ``<i>`` icons inside live widgets (the Play button) by SVGs that the widget can no longer update.
3. ``{cited-by}`` directive: a table listing, for every key of the bibliography, the pages that cite it.
4. The notebook cache: before anything is read, the jupyter-cache is emptied when it was filled with another
   version of the ``dlcourse`` package (see ``notebook_cache.py``), so cached outputs never hide a page that the
   current package breaks.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
VENDOR = "vendor"

# (npm package folder inside node_modules, destination inside <html>/vendor, files or folders to copy).
ASSETS = [
    ("mathjax", "mathjax", [
        "LICENSE",
        "es5/tex-mml-chtml.js",          # TeX + MathML input, CommonHTML output, menu: one file
        "es5/output/chtml/fonts/woff-v2",  # its web fonts
        "es5/input/tex/extensions",       # TeX packages the autoloader fetches on demand (\cancel, \boldsymbol ...)
        "es5/ui",                         # the right-click menu and its lazy parts
        "es5/a11y",                       # accessibility explorers, loaded from the menu
        "es5/sre",                        # the speech rule engine they need
        "es5/adaptors",
    ]),
    ("@jupyter-widgets/html-manager", "html-manager", [
        "package.json",                   # names its licence (BSD-3-Clause); the package ships no LICENSE file
        "dist/embed.js",                  # standalone bundle (ipywidgets 8 core controls built in)
        "dist/embed.js.LICENSE.txt",
        "dist/*.woff2", "dist/*.woff", "dist/*.ttf", "dist/*.eot", "dist/*.svg",  # its icon fonts
    ]),
]

# Script paths relative to <html>/_static (how Sphinx writes local script paths), as _config.yml names them.
MATHJAX_PATH = f"../{VENDOR}/mathjax/es5/tex-mml-chtml.js"
WIDGETS_PATH = f"../{VENDOR}/html-manager/dist/embed.js"

FONTAWESOME_CONFIG = (
    "window.FontAwesomeConfig = Object.assign(window.FontAwesomeConfig || {}, {autoReplaceSvg: 'nest'});"
)


def _node_modules(app: Sphinx) -> Path:
    return Path(app.confdir) / "node_modules"


def _copy_assets(app: Sphinx) -> None:
    """Copy the npm packages' files the site serves into ``<outdir>/vendor`` (only what changed)."""
    if app.builder is None or app.builder.format != "html":
        return
    modules = _node_modules(app)
    missing = [f"{pkg}/{item}" for pkg, _, items in ASSETS for item in items
               if "*" not in item and not (modules / pkg / item).exists()]
    if missing:
        raise ExtensionError(
            "the website serves MathJax and the widget manager itself, but node_modules lacks "
            f"{', '.join(missing)}: run `npm ci` in {app.confdir} first")
    target = Path(app.outdir) / VENDOR
    copied = 0
    for pkg, dest, items in ASSETS:
        for item in items:
            sources = sorted((modules / pkg).glob(item)) if "*" in item else [modules / pkg / item]
            for src in sources:
                files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
                for f in files:
                    out = target / dest / f.relative_to(modules / pkg)
                    if out.exists() and out.stat().st_size == f.stat().st_size \
                            and out.stat().st_mtime >= f.stat().st_mtime:
                        continue
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, out)
                    copied += 1
    logger.info(f"[dlcourse_site] offline assets in {target} ({copied} file(s) updated)")


def _check_config(app: Sphinx, config) -> None:
    """Fail early when the configuration would make pages load MathJax or the widget manager from a CDN."""
    if config.mathjax_path != MATHJAX_PATH:
        raise ExtensionError(
            f"mathjax_path must be {MATHJAX_PATH!r} (served from the build), got {config.mathjax_path!r}"
        )
    widgets_js = getattr(config, "nb_ipywidgets_js", None) or {}
    if list(widgets_js) != [WIDGETS_PATH]:
        raise ExtensionError(f"nb_ipywidgets_js must name only {WIDGETS_PATH!r}, got {list(widgets_js)}")


def _theme_defaults(app: Sphinx, config) -> None:
    """Theme defaults that the theme combination gets wrong.

    pydata-sphinx-theme logs a console error on a visitor's first page when no default colour mode is set."""
    if not config.html_context.get("default_mode"):
        config.html_context["default_mode"] = "auto"
    # pydata-sphinx-theme 0.17 fills an unset navbar_persistent with a search field, which makes an empty header bar
    # appear above sphinx-book-theme's own header (that theme has its search in the sidebar).
    config.html_theme_options.setdefault("navbar_persistent", [])


def _dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Drop repeated inline scripts: sphinx-thebe's set-up snippet is registered twice under Jupyter Book, and the
    second copy throws "Identifier 'THEBE_JS_URL' has already been declared" in the browser console."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        key = (str(getattr(js, "filename", js) or ""), getattr(js, "attributes", {}).get("body", ""))
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    scripts[:] = kept


def _mathjax_for_outputs(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Load MathJax on a page whose only math is in a cell's HTML output (a quiz, class ``mathjax_process``): Sphinx
    adds MathJax to the pages whose prose has math, and would leave the quiz's ``\\(…\\)`` as raw TeX."""
    if "mathjax_process" in context.get("body", ""):
        app.env.get_domain("math").data["has_equations"][pagename] = True


# ----------------------------------------------------------------------------------------------- cited-by table
class cited_by(nodes.General, nodes.Element):
    """Placeholder replaced by the table once every page has been read."""


class CitedByDirective(SphinxDirective):
    """``{cited-by}``: a table of every bibliography key with links to the pages that cite it."""

    has_content = False

    def run(self):
        return [cited_by("")]


def _entry_label(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = " ".join(people[0].last_names) if people else "Anon."
    if len(people) == 2:
        names += " and " + " ".join(people[1].last_names)
    elif len(people) > 2:
        names += " et al."
    title = entry.fields.get("title", "")
    for char in "{}$":
        title = title.replace(char, "")
    return f"{names} ({entry.fields.get('year', 'n.d.')}), {title}"


def _fill_cited_by(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    placeholders = list(doctree.findall(cited_by))
    if not placeholders:
        return
    env = app.env
    domain = env.get_domain("cite")
    entries = domain.bibdata.data.entries
    citing: dict[str, set[str]] = {key: set() for key in entries}
    for ref in domain.citation_refs:
        if ref.docname == docname:  # the page with the table cites everything
            continue
        for target in ref.targets:
            citing.setdefault(target.key, set()).add(ref.docname)
    order = {doc: i for i, doc in enumerate(_reading_order(app))}

    table = nodes.table(classes=["dlcourse-cited-by"])
    group = nodes.tgroup(cols=2)
    table += group
    group += nodes.colspec(colwidth=60)
    group += nodes.colspec(colwidth=40)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for text in ("Work", "Cited on"):
        row += nodes.entry("", nodes.paragraph(text=text))
    head += row
    body = nodes.tbody()
    group += body
    for key in sorted(entries, key=lambda k: _entry_label(entries[k]).lower()):
        row = nodes.row()
        row += nodes.entry("", nodes.paragraph(text=_entry_label(entries[key])))
        cell = nodes.paragraph()
        docs = sorted(citing.get(key, ()), key=lambda d: order.get(d, len(order)))
        for i, doc in enumerate(docs):
            if i:
                cell += nodes.Text(", ")
            title = env.titles[doc].astext() if doc in env.titles else doc
            uri = app.builder.get_relative_uri(docname, doc)
            cell += nodes.reference("", title, internal=True, refuri=uri)
        if not docs:
            cell += nodes.emphasis(text="background reading")
        row += nodes.entry("", cell)
        body += row
    for node in placeholders:
        node.replace_self(table.deepcopy())


def _reading_order(app: Sphinx) -> list[str]:
    """Documents in table-of-contents order, so that the links follow the course."""
    env = app.env
    order: list[str] = []

    def walk(doc: str) -> None:
        if doc in order:
            return
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(app.config.root_doc)
    return order + sorted(set(env.found_docs) - set(order))


def _always_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages re-read on every build: those with a cited-by table (it depends on every page), and every notebook,
    so that its outputs always come from the jupyter-cache (which the package fingerprint keeps current), never from
    a doctree that Sphinx pickled before the package changed. Re-reading a cached notebook executes nothing."""
    docs = []
    for doc in env.found_docs:
        path = Path(env.doc2path(doc))
        if path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
            if "{cited-by}" in text or "{code-cell}" in text:
                docs.append(doc)
    return docs


def _add_static_path(app: Sphinx, config) -> None:
    config.html_static_path.append(str(HERE / "static"))


def _check_notebook_cache(app: Sphinx, config) -> None:
    import notebook_cache

    path = getattr(config, "nb_execution_cache_path", "") or str(notebook_cache.CACHE)
    if getattr(config, "nb_execution_mode", "") == "cache":
        notebook_cache.open_cache(Path(path))


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _check_config)
    app.connect("config-inited", _check_notebook_cache)
    app.connect("config-inited", _add_static_path)
    app.connect("config-inited", _theme_defaults)
    app.connect("builder-inited", _copy_assets)
    # Early: a later handler may return a template name, which ends the event (emit_firstresult).
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    app.connect("html-page-context", _mathjax_for_outputs, priority=200)   # before sphinx.ext.mathjax (500)
    app.add_css_file("dlcourse-site.css")
    app.add_js_file(None, body=FONTAWESOME_CONFIG, priority=100)

    app.add_node(cited_by)
    app.add_directive("cited-by", CitedByDirective)
    app.connect("doctree-resolved", _fill_cited_by)
    app.connect("env-get-outdated", _always_outdated)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
