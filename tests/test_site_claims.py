"""Every percentage and every "×" factor that a page's prose states is printed by one of the page's cells.

The prose of a built page (paragraphs, lists, admonitions, captions and alt text, not code, math, quizzes or the
bibliography) is searched for claims like "97.6 %", "above 90 %", "8×", "a 10-fold drop" or "3 times faster". A claim is
backed when a number printed in the same page's cell outputs matches it:

- a percentage P: an output p with |p - P| <= max(0.6, 3 % of P), or a fraction f with 100 f within that margin;
  "above / more than / at least P %" is backed by any output above P (as a percentage or a fraction), "below / under /
  at most / within P %" by any output below it;
- a factor F (F > 2; sizes such as "3×3" are not claims): an output within 15 % of F, or, after "more than / over
  / at least", any output of at least F.

A question to the reader ("how many samples for a 10 % error?") claims nothing. The pages assert what they print
(the notebooks' own ``assert`` lines), so a backed claim is a checked one.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from test_site_html import content_pages, site_dir

NUMBER = r"(\d+(?:\.\d+)?)"
PERCENT = re.compile(NUMBER + r"\s?%")
FACTOR = re.compile(NUMBER + r"\s?(?:×|x\b|-fold\b|\s?times\s+(?:more|less|fewer|larger|smaller|faster|slower|"
                    r"higher|lower|bigger|as\b))(?!\s?\d)")
SIZE = re.compile(r"\d\s?[×x]\s?$")                       # "3×3" : the first factor of a size, not a claim
AT_LEAST = re.compile(r"(above|over|more than|at least|beyond|exceeds?|greater than)\s*$")
AT_MOST = re.compile(r"(below|under|less than|at most|within|fewer than)\s*$")
PRINTED = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
NOT_PROSE_TAGS = {"pre", "code", "script", "style", "kbd", "samp", "svg", "math", "mjx-container"}
NOT_PROSE_CLASSES = {"cell_input", "highlight", "math", "citation-list", "citation", "dlcourse-quiz", "headerlink",
                     "toctree-wrapper", "bd-sidebar", "bd-header", "bd-footer", "prev-next-area", "bd-toc"}


class PageText(HTMLParser):
    """Splits a page's ``<main>`` into its prose (with alt text) and its cells' printed outputs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.modes: list[tuple[str, str]] = []   # (tag, "prose" | "output" | "skip") of the open elements
        self.prose: list[str] = []
        self.outputs: list[str] = []
        self.in_main = False

    @property
    def mode(self) -> str:
        return self.modes[-1][1] if self.modes else "prose"

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "main":
            self.in_main = True
        classes = set(a.get("class", "").split())
        if tag == "img" and self.in_main and self.mode != "skip":
            self.prose.append(" " + a.get("alt", "") + " ")
        if tag in VOID:
            return
        mode = self.mode
        if tag in ("script", "style") or "dlcourse-quiz" in classes:
            mode = "skip"                     # a quiz's feedback may not back the prose that it checks
        elif mode == "output":
            pass                              # an output's <pre> is what was printed
        elif "cell_output" in classes:
            mode = "output"
        elif tag in NOT_PROSE_TAGS or classes & NOT_PROSE_CLASSES:
            mode = "skip"
        self.modes.append((tag, mode))

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False
        for k in range(len(self.modes) - 1, -1, -1):   # tolerate unclosed children (<p> inside <li>, say)
            if self.modes[k][0] == tag:
                del self.modes[k:]
                return

    def handle_data(self, data):
        if not self.in_main:
            return
        if self.mode == "prose":
            self.prose.append(data)
        elif self.mode == "output":
            self.outputs.append(data)


def page_text(source: str) -> tuple[str, list[float]]:
    """``(prose, printed numbers)`` of one built page; inline TeX left in the prose is dropped with the math."""
    parser = PageText()
    parser.feed(source)
    prose = html.unescape(" ".join(parser.prose))
    prose = re.sub(r"\\\(.*?\\\)|\$\$.*?\$\$|\$[^$]+\$", " ", prose, flags=re.S)
    printed = [float(m.group()) for m in PRINTED.finditer(" ".join(parser.outputs))]
    return " ".join(prose.split()), printed


def _percent_backed(p: float, printed: list[float], before: str) -> bool:
    shares = printed + [100 * x for x in printed]
    if AT_LEAST.search(before):
        return any(p < x <= 100 for x in shares)
    if AT_MOST.search(before):
        return any(0 <= x < p for x in shares)
    margin = max(0.6, 0.03 * p)
    return any(abs(x - p) <= margin for x in shares)


def _factor_backed(f: float, printed: list[float], before: str) -> bool:
    if AT_LEAST.search(before):
        return any(x >= f for x in printed)
    return any(abs(x - f) <= 0.15 * f for x in printed)


def unbacked_claims(prose: str, printed: list[float]) -> list[str]:
    """The claims of ``prose`` that no number in ``printed`` backs, each with its context."""
    found = []
    for rx, backed in ((PERCENT, _percent_backed), (FACTOR, _factor_backed)):
        for m in rx.finditer(prose):
            value = float(m.group(1))
            before = prose[max(0, m.start() - 16):m.start()]
            if rx is FACTOR and (value <= 2 or SIZE.search(before)):
                continue
            end = re.search(r"[.?!](\s|$)", prose[m.end():])
            if end and end.group().startswith("?"):
                continue                  # a question for the reader ("how many steps for 99 %?") claims nothing
            if not backed(value, printed, before):
                found.append(" ".join(prose[max(0, m.start() - 70):m.end() + 25].split()))
    return found


def test_claims_are_found_and_matched():
    prose, printed = page_text(
        '<main><p>It reaches 97.6 % and beats chance by 8×, above 90 % on every seed; a 3×3 kernel.</p>'
        '<img alt="a 50 % drop" src="x.png"><div class="cell_output"><pre>accuracy 0.9763  ratio 8.2</pre></div>'
        '<div class="cell_input"><pre>print(12 %)</pre></div>'
        '<div class="dlcourse-quiz"><p>Right: 50 %</p></div></main>')
    assert "97.6 %" in prose and "print" not in prose and "Right" not in prose
    assert printed == [0.9763, 8.2]
    unbacked = unbacked_claims(prose, printed)
    assert len(unbacked) == 1 and unbacked[0].endswith("a 3×3 kernel. a 50 % drop"), unbacked
    assert unbacked_claims("a tenfold gain, 3 times faster, 12×", [3.1]) == ["a tenfold gain, 3 times faster, 12×"]
    assert unbacked_claims("under 5 % and more than 40×", [0.02, 55]) == []
    assert unbacked_claims("How many steps for 99 %? Try it.", []) == []


@pytest.fixture(scope="module")
def site():
    return site_dir()


def test_every_claim_is_printed(site):
    problems = []
    for path in content_pages(site):
        prose, printed = page_text(path.read_text(encoding="utf-8"))
        problems += [f"{path.relative_to(site)}: … {claim} …" for claim in unbacked_claims(prose, printed)]
    assert not problems, ("percentages or factors in the prose that no cell of the page prints (print and assert "
                          "them, or do not claim them):\n" + "\n".join(problems))
