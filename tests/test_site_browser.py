"""The built website in a real browser: headless Chromium, offline, against the site served on 127.0.0.1.

For every page: it loads; its math is typeset by the local MathJax (no raw TeX left); its images load; every frame
scrubber (an ``input[type=range]`` inside ``.dlcourse-scrubber``) changes its image when moved, and choosing another
precomputed run in one that has them changes it too; every quiz question answers a wrong choice with "Not quite" and
the right one with "Right", each with its feedback; widget views are rendered by the local widget manager; no
console errors and no failed requests; and, resized to a phone in dark mode, nothing overflows sideways. Any
request to another host is blocked and fails the test: the site must work offline. Screenshots of a few pages (phone
in dark mode, desktop) are written to ``_build/screenshots/`` (or ``$DLCOURSE_SCREENSHOTS``) for a person to look at.

Needs Debian's ``chromium`` (``apt-get install chromium``; ``$DLCOURSE_CHROMIUM`` names another binary) and the
``playwright`` Python package, which drives it over the DevTools protocol without downloading a browser. Under CI
(``CI=true``) a missing build, browser or package fails; elsewhere the test is skipped with the reason.
"""
from __future__ import annotations

import functools
import http.server
import os
import pathlib
import shutil
import tempfile
import threading
import time
from urllib.parse import urlsplit

import pytest

from test_site_html import ROOT, content_pages, site_dir

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("DLCOURSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = pathlib.Path(os.environ.get("DLCOURSE_SCREENSHOTS", ROOT / "_build" / "screenshots"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server():
    site = site_dir()
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser_context():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the `playwright` package is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="dlcourse-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport=DESKTOP,
            service_workers="block")
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


class PageLog:
    """Console errors, uncaught exceptions, failed and blocked requests seen while a page is open."""

    def __init__(self, page, base: str):
        self.errors: list[str] = []
        self.blocked: list[str] = []
        host = urlsplit(base).netloc

        def on_console(msg):
            if msg.type == "error" and "favicon.ico" not in (msg.location or {}).get("url", ""):
                self.errors.append(f"console: {msg.text} ({(msg.location or {}).get('url', '')})")

        def on_response(resp):
            if resp.status >= 400 and not resp.url.endswith("favicon.ico"):
                self.errors.append(f"HTTP {resp.status}: {resp.url}")

        def on_failed(req):
            if urlsplit(req.url).netloc == host:
                self.errors.append(f"request failed: {req.url} ({req.failure})")

        def route(r):
            url = r.request.url
            if urlsplit(url).scheme in ("data", "blob", "about") or urlsplit(url).netloc == host:
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort()

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        page.route("**/*", route)


# Wait until MathJax (if the page loads it) has finished its first typesetting pass.
WAIT_MATHJAX = """async () => {
  const t0 = Date.now();
  while (document.querySelector('script[src*="mathjax"]')
         && !(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > 15000) return 'MathJax did not start';
    await new Promise(r => setTimeout(r, 50));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  return 'ok';
}"""

# Math: every Sphinx math element holds MathJax output, and no TeX delimiters are left in the prose.
CHECK_MATH = """() => {
  const article = document.querySelector('article') || document.body;
  const math = [...article.querySelectorAll('.math')];
  const unrendered = math.filter(el => !el.querySelector('mjx-container') && el.tagName !== 'MJX-CONTAINER')
                         .map(el => el.textContent.trim().slice(0, 60));
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, .highlight, mjx-container, .cell_input')
       .forEach(e => e.remove());
  const text = clone.textContent;
  const raw = ['$$', '\\\\(', '\\\\)', '\\\\[', '\\\\]', '\\\\begin{'].filter(d => text.includes(d));
  return {n: math.length, containers: article.querySelectorAll('mjx-container').length, unrendered, raw};
}"""

CHECK_IMAGES = """async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(r => { img.onload = img.onerror = r; })));
  return imgs.filter(img => !(img.naturalWidth > 0)).map(img => img.getAttribute('src').slice(0, 100));
}"""

# Move every scrubber's slider and report whether its image changed.
CHECK_SCRUBBERS = """async () => {
  const out = [];
  for (const box of document.querySelectorAll('.dlcourse-scrubber')) {
    for (const input of box.querySelectorAll('input[type=range]')) {
      const img = box.querySelector('img');
      const before = img ? img.getAttribute('src') : null;
      const min = Number(input.min || 0), max = Number(input.max || 100);
      const target = Number(input.value) === max ? min : max;
      input.value = String(target);
      input.dispatchEvent(new Event('input', {bubbles: true}));
      input.dispatchEvent(new Event('change', {bubbles: true}));
      await new Promise(r => setTimeout(r, 50));
      const after = img ? img.getAttribute('src') : null;
      out.push({hasImage: !!img, changed: before !== after, frames: max - min + 1});
    }
  }
  return out;
}"""

# Pick another precomputed run in every scrubber that has them: the image, the frame count and the slider follow.
CHECK_RUN_CHOICES = """async () => {
  const out = [];
  for (const box of document.querySelectorAll('.dlcourse-scrubber')) {
    const select = box.querySelector('select.dlcourse-scrubber-choice');
    if (!select || select.options.length < 2) continue;
    const img = box.querySelector('img'), before = img.getAttribute('src');
    const count = box.querySelector('.dlcourse-scrubber-count').textContent;
    select.value = select.options[select.selectedIndex === 0 ? 1 : 0].value;
    select.dispatchEvent(new Event('change', {bubbles: true}));
    await new Promise(r => setTimeout(r, 50));
    out.push({changed: img.getAttribute('src') !== before
                       || box.querySelector('.dlcourse-scrubber-count').textContent !== count});
  }
  return out;
}"""

# In every quiz, answer each question once: a wrong option (or number) and then the right one, reading the verdict
# and the feedback that appear. The right answers come from the quiz's own data.
CHECK_QUIZZES = """async () => {
  const out = [];
  for (const quiz of document.querySelectorAll('.dlcourse-quiz')) {
    const spec = JSON.parse(quiz.querySelector('script.dlcourse-quiz-data').textContent);
    spec.forEach((s, i) => {
      const q = quiz.querySelector('[data-q="' + i + '"]');
      const verdict = () => q.querySelector('.dlcourse-quiz-verdict').textContent;
      const shown = () => [...q.querySelectorAll('.dlcourse-quiz-feedback > div')]
        .filter(d => !d.hidden).map(d => d.textContent);
      let wrong, right;
      if (s.kind === 'choice' && !s.multiple) {
        const buttons = q.querySelectorAll('button.dlcourse-quiz-option');
        const bad = s.options.findIndex(o => !o.correct), good = s.options.findIndex(o => o.correct);
        buttons[bad].click(); wrong = [verdict(), shown()];
        buttons[good].click(); right = [verdict(), shown()];
      } else if (s.kind === 'choice') {
        const boxes = q.querySelectorAll('input[type=checkbox]');
        boxes.forEach((b, k) => { b.checked = !s.options[k].correct; });
        q.querySelector('button.dlcourse-quiz-check').click(); wrong = [verdict(), shown()];
        boxes.forEach((b, k) => { b.checked = s.options[k].correct; });
        q.querySelector('button.dlcourse-quiz-check').click(); right = [verdict(), shown()];
      } else {
        const input = q.querySelector('input'), button = q.querySelector('button.dlcourse-quiz-check');
        input.value = String(s.answer * 3 + 7); button.click(); wrong = [verdict(), shown()];
        input.value = String(s.answer); button.click(); right = [verdict(), shown()];
      }
      out.push({wrong, right});
    });
  }
  return out;
}"""

# Widget views that a page keeps (those without an HTML alternative) are rendered by the local widget manager, each
# into the ``div.widget-subarea`` that the manager inserts before the view's script.
CHECK_WIDGETS = """async () => {
  const scripts = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const done = s => { const d = s.previousElementSibling;
                      return d && d.classList.contains('widget-subarea') && d.querySelector('.jupyter-widgets'); };
  const t0 = Date.now();
  while (scripts.some(s => !done(s)) && Date.now() - t0 < 10000) await new Promise(r => setTimeout(r, 100));
  return {views: scripts.length, rendered: scripts.filter(done).length};
}"""

# The outermost elements sticking out of a phone screen (to name the culprit of an overflow).
WIDE_ELEMENTS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => !(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 3).map(e => e.tagName.toLowerCase()
    + (e.className && e.className.baseVal === undefined ? '.' + String(e.className).split(' ').join('.') : ''))"""

OVERFLOW = """() => ({scroll: Math.max(document.body.scrollWidth, document.documentElement.scrollWidth),
               width: window.innerWidth, theme: document.documentElement.dataset.theme})"""


def _open(context, url: str, base: str):
    page = context.new_page()
    log = PageLog(page, base)
    page.goto(url, wait_until="load", timeout=30_000)
    assert page.evaluate(WAIT_MATHJAX) == "ok", f"{url}: MathJax did not start"
    return page, log


def test_every_page_in_the_browser(server, browser_context):
    site, base = server
    pages = [p.relative_to(site).as_posix() for p in content_pages(site)]
    assert pages, "no pages"
    problems, scrubbers, total_math, choices, questions = [], 0, 0, 0, 0
    started = time.time()
    for rel in pages:
        page, log = _open(browser_context, base + rel, base)
        math = page.evaluate(CHECK_MATH)
        total_math += math["n"]
        if math["unrendered"]:
            problems.append(f"{rel}: math not typeset: {math['unrendered'][:3]}")
        if math["raw"]:
            problems.append(f"{rel}: raw TeX delimiters left in the text: {math['raw']}")
        broken = page.evaluate(CHECK_IMAGES)
        if broken:
            problems.append(f"{rel}: images that did not load: {broken}")
        for s in page.evaluate(CHECK_SCRUBBERS):
            scrubbers += 1
            if not s["hasImage"]:
                problems.append(f"{rel}: a scrubber slider has no image")
            elif s["frames"] > 1 and not s["changed"]:
                problems.append(f"{rel}: moving a scrubber slider did not change its image")
        for k, run in enumerate(page.evaluate(CHECK_RUN_CHOICES)):
            choices += 1
            if not run["changed"]:
                problems.append(f"{rel}: choosing another precomputed run in scrubber {k + 1} changed nothing")
        for k, q in enumerate(page.evaluate(CHECK_QUIZZES)):
            questions += 1
            (wrong_verdict, wrong_feedback), (right_verdict, right_feedback) = q["wrong"], q["right"]
            if "Not quite" not in wrong_verdict or not any(t.strip() for t in wrong_feedback):
                problems.append(f"{rel}: quiz question {k + 1}: a wrong answer got {wrong_verdict!r} {wrong_feedback}")
            if "Right" not in right_verdict or not any(t.strip() for t in right_feedback):
                problems.append(
                    f"{rel}: quiz question {k + 1}: the right answer got {right_verdict!r} {right_feedback}"
                )
        widgets = page.evaluate(CHECK_WIDGETS)
        if widgets["rendered"] < widgets["views"]:
            problems.append(f"{rel}: {widgets['views'] - widgets['rendered']} of {widgets['views']} widget views "
                            "not rendered by the widget manager")
        # The same page on a phone in dark mode (as the theme's switch sets it): nothing may overflow sideways.
        page.set_viewport_size(PHONE)
        page.emulate_media(color_scheme="dark")
        page.evaluate("document.documentElement.dataset.theme = 'dark'; document.documentElement.dataset.mode = 'dark'")
        page.wait_for_timeout(100)  # relayout; late console errors (widget manager, deferred scripts)
        size = page.evaluate(OVERFLOW)
        if size["scroll"] > size["width"]:
            wide = page.evaluate(WIDE_ELEMENTS)
            problems.append(f"{rel}: page is {size['scroll']} px wide on a {size['width']} px screen: {wide}")
        problems += [f"{rel}: {e}" for e in log.errors]
        problems += [f"{rel}: tried to reach the network: {u}" for u in log.blocked]
        page.close()
    print(f"\n{len(pages)} pages, {total_math} math elements, {scrubbers} scrubber sliders, {choices} switches "
          f"between precomputed runs, {questions} quiz questions checked in {time.time() - started:.1f} s")
    assert questions > 0, "no quiz on any page"
    assert not problems, "\n".join(problems)


def test_phone_and_dark_mode(server, browser_context):
    """The theme's dark mode applies on load; screenshots of a few pages, on a phone in dark mode and on a desktop
    in light mode, are kept for review (overflow on a phone is checked for every page above)."""
    site, base = server
    pages = [p.relative_to(site).as_posix() for p in content_pages(site)]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    figure_pages = [p for p in pages if p.startswith("chapters/")
                    and "cell_output" in (site / p).read_text(encoding="utf-8")]
    shots = ["intro.html", *figure_pages[:2]]
    # The theme keeps the visitor's choice in localStorage: choose dark as a visitor would.
    browser_context.add_init_script(
        "try { localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark'); } catch (e) {}")
    problems = []
    for rel in shots:
        if not (site / rel).is_file():
            continue
        page, log = _open(browser_context, base + rel, base)
        theme = page.evaluate("document.documentElement.dataset.theme")
        if theme != "dark":
            problems.append(f"{rel}: dark mode not applied on load (data-theme={theme!r})")
        name = rel.replace("/", "__").replace(".html", "")
        page.evaluate("document.documentElement.dataset.theme = 'light'")
        page.wait_for_timeout(100)
        page.screenshot(path=str(SCREENSHOTS / f"desktop-light-{name}.png"))
        page.set_viewport_size(PHONE)
        page.emulate_media(color_scheme="dark")
        page.evaluate("document.documentElement.dataset.theme = 'dark'; window.scrollTo(0, 0)")
        page.wait_for_timeout(150)
        page.screenshot(path=str(SCREENSHOTS / f"phone-dark-{name}.png"))
        figure = page.locator("article .cell_output img")
        if figure.count():
            figure.first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"phone-dark-{name}-figure.png"))
        problems += [f"{rel}: {e}" for e in log.errors]
        page.close()
    assert not problems, "\n".join(problems)
