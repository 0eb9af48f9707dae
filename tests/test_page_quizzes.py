"""Every chapter page ends with a "Check your understanding" quiz that builds on its own (no page state needed)."""
import ast
import re
from pathlib import Path

import pytest

from dlcourse.quiz import Quiz

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p for p in (ROOT / "chapters").glob("*/*.md") if p.name != "index.md")
HEADING = "## Check your understanding"


def _blocks(text: str):
    """Split a MyST notebook into ("md", lines) and ("code", options, source) blocks, in order."""
    blocks, lines, i = [], text.splitlines(), 0
    md: list[str] = []
    while i < len(lines):
        if lines[i].startswith("```{code-cell}"):
            blocks.append(("md", md))
            md, body = [], []
            i += 1
            while i < len(lines) and lines[i] != "```":
                body.append(lines[i])
                i += 1
            options = []
            if body and body[0] == "---":                      # a YAML options block
                end = body.index("---", 1)
                options, body = body[1:end], body[end + 1:]
            while body and body[0].startswith(":"):            # short-form options such as :tags:
                options.append(body.pop(0))
            blocks.append(("code", options, "\n".join(body).strip()))
        else:
            md.append(lines[i])
        i += 1
    blocks.append(("md", md))
    return blocks


def _quiz_section(path: Path):
    """The blocks after the page's last level-2 heading, which must be the quiz heading."""
    blocks = _blocks(path.read_text(encoding="utf-8"))
    last = None
    for k, block in enumerate(blocks):
        if block[0] == "md" and any(line.startswith("## ") for line in block[1]):
            last = k
    assert last is not None, f"{path.name} has no '## ' section"
    headings = [line for line in blocks[last][1] if line.startswith("## ")]
    assert headings[-1].strip() == HEADING, (
        f"{path.name}: the last section is {headings[-1]!r}, expected {HEADING!r} at the very end of the page")
    md_after = blocks[last][1][blocks[last][1].index(headings[-1]) + 1:]
    return md_after, blocks[last + 1:]


def _build(source: str):
    """Run a quiz cell on its own and return the value of its last expression."""
    tree = ast.parse(source)
    assert tree.body and isinstance(tree.body[-1], ast.Expr), "the quiz cell must end with the Quiz expression"
    namespace: dict = {}
    exec(compile(ast.Module(tree.body[:-1], type_ignores=[]), "<quiz cell>", "exec"), namespace)  # noqa: S102
    return eval(compile(ast.Expression(tree.body[-1].value), "<quiz cell>", "eval"), namespace)


def test_there_are_pages():
    assert len(PAGES) >= 17


@pytest.mark.parametrize("path", PAGES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_page_ends_with_a_quiz(path):
    md_after, rest = _quiz_section(path)
    assert any(line.strip() for line in md_after), f"{path.name}: say in a sentence what the quiz is for"
    quiz_cells = [b for b in rest if b[0] == "code" and "Quiz(" in b[2]]
    assert len(quiz_cells) == 1, f"{path.name}: expected one quiz cell in the last section, got {len(quiz_cells)}"
    _, options, source = quiz_cells[0]
    assert any(re.search(r"remove-input", o) for o in options), f"{path.name}: tag the quiz cell remove-input"
    assert quiz_cells[0] is [b for b in rest if b[0] == "code"][-1], f"{path.name}: the quiz is the last cell"
    quiz = _build(source)
    assert isinstance(quiz, Quiz), f"{path.name}: the quiz cell's last expression is a {type(quiz).__name__}"
    assert 3 <= len(quiz.questions) <= 5, f"{path.name}: {len(quiz.questions)} questions, expected 3 to 5"
    page = quiz._repr_html_()
    assert "<script>" in page
    roles = re.findall(r"\{(?:eq|doc|cite|ref|numref)(?::\w+)?\}", page)
    assert not roles, f"{path.name}: MyST roles are not rendered inside the quiz's HTML: {roles}"
