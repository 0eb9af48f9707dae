"""Check-your-understanding quizzes that end a page: multiple-choice and numeric questions with feedback.

A :class:`Quiz` displays as self-contained HTML with a few lines of JavaScript in the page itself (no CDN, no
kernel): it works on the static website, in Jupyter, in Colab and in Binder alike. Each answer the reader picks or
types gets its own feedback: why it is right, or what the mistake behind it is. Math in ``$…$`` is typeset by the
page's MathJax on the website.

Example (the last line of a notebook cell)::

    from dlcourse.quiz import Quiz, Choice, Numeric

    Quiz([
        Choice("Which gradient does a kernel weight shared over 9 positions receive?", [
            ("The sum of the 9 position gradients", True, "Yes: each use adds a term to the loss's derivative."),
            ("Their mean", False, "The chain rule adds the contributions; nothing divides by 9."),
        ]),
        Numeric("How many parameters has a 3×3 convolution from 16 to 32 channels, with biases?", 4640,
                right="9·16·32 weights + 32 biases.", wrong="Count k_w·k_h·d_in weights per output channel, plus one "
                "bias each."),
    ])

:meth:`Quiz.answer` grades an answer in Python, as the page's script does (the tests use it).
"""
from __future__ import annotations

import html
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Sequence

__all__ = ["Quiz", "Choice", "Numeric"]

_ids = itertools.count()


@dataclass
class Choice:
    """A multiple-choice question: ``options`` is a list of ``(text, correct, feedback)``.

    Several options may be correct (``multiple=True`` shows checkboxes and asks for all of them); with one correct
    option the reader clicks one answer and sees its feedback at once.
    """

    question: str
    options: Sequence[tuple[str, bool, str]]
    multiple: bool = False

    def __post_init__(self):
        if not isinstance(self.question, str) or not self.question.strip():
            raise ValueError("a question needs a non-empty text")
        options = []
        for k, opt in enumerate(self.options):
            if not (isinstance(opt, (tuple, list)) and len(opt) == 3):
                raise ValueError(f"option {k} of {self.question[:40]!r} must be (text, correct, feedback), got {opt!r}")
            text, correct, feedback = opt
            if not isinstance(correct, bool):
                raise TypeError(
                    f"option {k} of {self.question[:40]!r}: 'correct' must be True or False, got {correct!r}"
                )
            if not str(feedback).strip():
                raise ValueError(f"option {k} of {self.question[:40]!r} has no feedback: say why it is right or wrong")
            options.append((str(text), correct, str(feedback)))
        if len(options) < 2:
            raise ValueError(f"{self.question[:40]!r} needs at least two options, got {len(options)}")
        n_right = sum(c for _, c, _ in options)
        if n_right == 0:
            raise ValueError(f"{self.question[:40]!r} has no correct option")
        if n_right > 1 and not self.multiple:
            raise ValueError(f"{self.question[:40]!r} has {n_right} correct options: pass multiple=True")
        self.options = options

    def grade(self, answer) -> tuple[bool, str]:
        """``answer``: an option index (or, with ``multiple=True``, a collection of indices)."""
        chosen = {answer} if isinstance(answer, int) else set(answer)
        if not chosen or not all(isinstance(i, int) and 0 <= i < len(self.options) for i in chosen):
            raise ValueError(f"answer must be option indices in 0..{len(self.options) - 1}, got {answer!r}")
        right = {i for i, (_, c, _) in enumerate(self.options) if c}
        feedback = " ".join(self.options[i][2] for i in sorted(chosen))
        return chosen == right, feedback

    def spec(self) -> dict:
        return {"kind": "choice", "multiple": self.multiple,
                "options": [{"correct": c} for _, c, _ in self.options]}


@dataclass
class Numeric:
    """A question answered by a number, right within ``tolerance`` (absolute) or ``rel_tolerance`` (relative).

    ``right`` explains the answer; ``wrong`` is the general hint for a wrong number; ``mistakes`` maps the numbers
    that a known mistake gives to a targeted hint ("you averaged instead of summing").
    """

    question: str
    answer: float
    right: str
    wrong: str
    tolerance: float = 0.0
    rel_tolerance: float = 1e-6
    mistakes: dict[float, str] = field(default_factory=dict)
    unit: str = ""

    def __post_init__(self):
        if not isinstance(self.question, str) or not self.question.strip():
            raise ValueError("a question needs a non-empty text")
        if isinstance(self.answer, bool) or not isinstance(self.answer, (int, float)) or not math.isfinite(self.answer):
            raise TypeError(f"answer must be a finite number, got {self.answer!r}")
        if self.tolerance < 0 or self.rel_tolerance < 0:
            raise ValueError(f"tolerances must be >= 0, got {self.tolerance} and {self.rel_tolerance}")
        if not self.right.strip() or not self.wrong.strip():
            raise ValueError(f"{self.question[:40]!r}: give feedback for a right and for a wrong answer")
        for value in self.mistakes:
            if self._close(float(value)):
                raise ValueError(f"{self.question[:40]!r}: mistake {value} is within the tolerance of the answer")

    def _close(self, value: float) -> bool:
        return abs(value - self.answer) <= max(self.tolerance, self.rel_tolerance * abs(self.answer))

    def grade(self, answer) -> tuple[bool, str]:
        value = float(answer)
        if self._close(value):
            return True, self.right
        for mistake, hint in self.mistakes.items():
            if abs(value - mistake) <= max(self.tolerance, self.rel_tolerance * abs(mistake)):
                return False, hint
        return False, self.wrong

    def spec(self) -> dict:
        return {"kind": "numeric", "answer": self.answer, "tol": self.tolerance, "rel": self.rel_tolerance,
                "mistakes": [[float(v), i] for i, v in enumerate(self.mistakes)]}


_SCRIPT = r"""(function () {
  var box = document.getElementById(%(uid)s);
  if (!box || box.dataset.ready) return;
  box.dataset.ready = "1";
  var spec = JSON.parse(box.querySelector("script.dlcourse-quiz-data").textContent);
  function show(q, key, ok) {
    q.querySelectorAll(".dlcourse-quiz-feedback > div").forEach(function (d) { d.hidden = true; });
    var keys = [].concat(key);
    keys.forEach(function (k) { var d = q.querySelector('[data-fb="' + k + '"]'); if (d) d.hidden = false; });
    var verdict = q.querySelector(".dlcourse-quiz-verdict");
    verdict.textContent = ok ? "\u2714 Right." : "\u2718 Not quite.";
    verdict.className = "dlcourse-quiz-verdict " + (ok ? "dlcourse-quiz-right" : "dlcourse-quiz-wrong");
  }
  spec.forEach(function (s, i) {
    var q = box.querySelector('[data-q="' + i + '"]');
    if (s.kind === "choice" && !s.multiple) {
      q.querySelectorAll("button.dlcourse-quiz-option").forEach(function (b) {
        b.addEventListener("click", function () {
          var k = Number(b.dataset.opt);
          q.querySelectorAll("button.dlcourse-quiz-option").forEach(function (o) { o.classList.remove("picked"); });
          b.classList.add("picked");
          show(q, "o" + k, s.options[k].correct);
        });
      });
    } else if (s.kind === "choice") {
      q.querySelector("button.dlcourse-quiz-check").addEventListener("click", function () {
        var picked = [], ok = true;
        q.querySelectorAll("input[type=checkbox]").forEach(function (c) {
          var k = Number(c.dataset.opt);
          if (c.checked) picked.push("o" + k);
          if (c.checked !== s.options[k].correct) ok = false;
        });
        show(q, picked.length ? picked : "none", ok && picked.length > 0);
      });
    } else {
      var input = q.querySelector("input"), check = q.querySelector("button.dlcourse-quiz-check");
      function grade() {
        var v = Number(String(input.value).replace(",", ".").trim());
        if (input.value.trim() === "" || !isFinite(v)) { show(q, "nan", false); return; }
        var close = function (a, b) { return Math.abs(a - b) <= Math.max(s.tol, s.rel * Math.abs(b)); };
        if (close(v, s.answer)) { show(q, "right", true); return; }
        for (var m = 0; m < s.mistakes.length; m++) {
          if (close(v, s.mistakes[m][0])) { show(q, "m" + s.mistakes[m][1], false); return; }
        }
        show(q, "wrong", false);
      }
      check.addEventListener("click", grade);
      input.addEventListener("keydown", function (e) { if (e.key === "Enter") grade(); });
    }
  });
})();"""

_STYLE = """<style>
.dlcourse-quiz{border:1px solid var(--pst-color-border,#ccc);border-radius:.4em;padding:.6em 1em;margin:1em 0}
.dlcourse-quiz-q{margin:.8em 0 1.2em}
.dlcourse-quiz-q p{margin:.2em 0 .5em}
.dlcourse-quiz-option{display:block;width:100%;text-align:left;margin:.25em 0;padding:.35em .7em;cursor:pointer;
  border:1px solid var(--pst-color-border,#bbb);border-radius:.3em;background:var(--pst-color-surface,#f7f7f7);
  color:inherit;font:inherit}
.dlcourse-quiz-option:hover,.dlcourse-quiz-option.picked{border-color:var(--pst-color-primary,#1f77b4)}
.dlcourse-quiz-check{margin:.3em 0;padding:.25em .8em;cursor:pointer;font:inherit}
.dlcourse-quiz input[type=text]{font:inherit;padding:.2em .4em;width:10em}
.dlcourse-quiz-verdict{font-weight:bold;margin-top:.3em}
.dlcourse-quiz-right{color:#2a7d2a}.dlcourse-quiz-wrong{color:#b03030}
.dlcourse-quiz-feedback div{margin:.2em 0}
</style>"""


def _inline(text: str) -> str:
    """Escape HTML but keep ``$…$`` math for MathJax (as ``\\(…\\)``) and render `code` and **bold**."""
    out = html.escape(text)
    out = re.sub(r"(?<!\\)\$(.+?)(?<!\\)\$", lambda m: r"\(" + m.group(1) + r"\)", out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


class Quiz:
    """A block of 1–8 questions (:class:`Choice`, :class:`Numeric`) with instant, explained feedback.

    Args:
        questions: the questions, in order (3–5 suit the end of a page).
        title: the heading shown above them.
    """

    def __init__(self, questions: Sequence[Choice | Numeric], title: str = "Check your understanding"):
        questions = list(questions)
        if not 1 <= len(questions) <= 8:
            raise ValueError(f"a quiz holds 1 to 8 questions, got {len(questions)}")
        for k, q in enumerate(questions):
            if not isinstance(q, (Choice, Numeric)):
                raise TypeError(f"question {k} must be a Choice or a Numeric, got {type(q).__name__}")
        self.questions = questions
        self.title = str(title)
        self.uid = f"dlcourse-quiz-{next(_ids)}"

    def answer(self, index: int, answer) -> tuple[bool, str]:
        """Grade ``answer`` to question ``index``: ``(right, feedback)`` as the page would show it."""
        if not 0 <= index < len(self.questions):
            raise IndexError(f"question index must be in 0..{len(self.questions) - 1}, got {index}")
        return self.questions[index].grade(answer)

    def _question_html(self, i: int, q: Choice | Numeric) -> str:
        parts = [f'<div class="dlcourse-quiz-q" data-q="{i}"><p><b>{i + 1}.</b> {_inline(q.question)}</p>']
        feedback = []
        if isinstance(q, Choice):
            for k, (text, _, fb) in enumerate(q.options):
                if q.multiple:
                    parts.append(f'<label style="display:block"><input type="checkbox" data-opt="{k}"> '
                                 f'{_inline(text)}</label>')
                else:
                    parts.append(f'<button type="button" class="dlcourse-quiz-option" data-opt="{k}">'
                                 f'{_inline(text)}</button>')
                feedback.append((f"o{k}", fb))
            if q.multiple:
                parts.append('<button type="button" class="dlcourse-quiz-check">Check</button>')
                feedback.append(("none", "Pick at least one answer."))
        else:
            unit = f" {_inline(q.unit)}" if q.unit else ""
            parts.append(f'<input type="text" inputmode="decimal" aria-label="answer to question {i + 1}">{unit} '
                         '<button type="button" class="dlcourse-quiz-check">Check</button>')
            feedback += [("right", q.right), ("wrong", q.wrong), ("nan", "Type a number.")]
            feedback += [(f"m{k}", hint) for k, hint in enumerate(q.mistakes.values())]
        parts.append('<div class="dlcourse-quiz-verdict" aria-live="polite"></div><div class="dlcourse-quiz-feedback">')
        parts += [f'<div data-fb="{key}" hidden>{_inline(text)}</div>' for key, text in feedback]
        parts.append("</div></div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        spec = json.dumps([q.spec() for q in self.questions]).replace("</", "<\\/")
        body = "".join(self._question_html(i, q) for i, q in enumerate(self.questions))
        script = _SCRIPT % {"uid": json.dumps(self.uid)}
        return (f'{_STYLE}<div class="dlcourse-quiz mathjax_process" id="{self.uid}">'
                f'<p><b>{html.escape(self.title)}</b></p>{body}'
                f'<script type="application/json" class="dlcourse-quiz-data">{spec}</script>'
                f"<script>{script}</script></div>")

    def __repr__(self) -> str:
        lines = [self.title]
        for i, q in enumerate(self.questions):
            lines.append(f"{i + 1}. {q.question}")
            if isinstance(q, Choice):
                lines += [f"   {chr(97 + k)}) {text}" for k, (text, _, _) in enumerate(q.options)]
        return "\n".join(lines)
