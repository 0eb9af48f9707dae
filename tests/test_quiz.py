"""Quizzes: validation of the questions, grading in Python, and the self-contained HTML the page shows."""
import pytest

from dlcourse.quiz import Choice, Numeric, Quiz


def _quiz():
    return Quiz([
        Choice("Shared weight: sum or mean of $\\partial L/\\partial w$?", [
            ("sum", True, "Each use adds a term."), ("mean", False, "Nothing divides.")]),
        Numeric("Parameters of a 3×3 conv from 16 to 32 channels with biases?", 4640, right="9·16·32 + 32.",
                wrong="Count weights and biases.", mistakes={4608: "You forgot the 32 biases."}),
        Choice("Which are linear?", [("1×1 conv", True, "A matrix per pixel."), ("ReLU", False, "Bent at 0."),
                                     ("avg pool", True, "A fixed weighted sum.")], multiple=True),
    ])


def test_grading_matches_the_feedback():
    quiz = _quiz()
    assert quiz.answer(0, 0) == (True, "Each use adds a term.")
    assert quiz.answer(0, 1) == (False, "Nothing divides.")
    assert quiz.answer(1, "4640") == (True, "9·16·32 + 32.")
    assert quiz.answer(1, 4608) == (False, "You forgot the 32 biases.")
    assert quiz.answer(1, 12)[1] == "Count weights and biases."
    assert quiz.answer(2, [0, 2])[0] and not quiz.answer(2, [0])[0]
    with pytest.raises(ValueError, match="option indices"):
        quiz.answer(0, 5)


def test_html_is_self_contained():
    page = _quiz()._repr_html_()
    assert "<script>" in page and "http" not in page          # no CDN, nothing fetched
    assert r"\(\partial L/\partial w\)" in page                # math left for MathJax
    assert page.count('class="dlcourse-quiz-option"') == 2 and page.count('type="checkbox"') == 3
    assert 'data-fb="m0" hidden>You forgot the 32 biases.' in page


@pytest.mark.parametrize("make, match", [
    (lambda: Choice("q", [("a", True, "ok")]), "two options"),
    (lambda: Choice("q", [("a", False, "x"), ("b", False, "y")]), "no correct"),
    (lambda: Choice("q", [("a", True, "x"), ("b", True, "y")]), "multiple=True"),
    (lambda: Choice("q", [("a", True, ""), ("b", False, "y")]), "feedback"),
    (lambda: Numeric("q", 1.0, right="", wrong="w"), "feedback"),
    (lambda: Numeric("q", 1.0, right="r", wrong="w", tolerance=0.5, mistakes={1.2: "m"}), "tolerance"),
    (lambda: Quiz([]), "1 to 8"),
    (lambda: Quiz(["not a question"]), "Choice or a Numeric"),
])
def test_bad_questions_are_refused(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
