"""The question registry: one :class:`Question` per graded function, found by its id ``"<subpackage>.<function>"``.

Question modules live in :mod:`dlcourse.grading.questions` (one module per part); every module there is imported the
first time the registry is read, so adding a file is all it takes to add questions.
"""
from __future__ import annotations

import copy
import importlib
import pkgutil
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

__all__ = ["Case", "Mistake", "Question", "register", "get_question", "all_questions"]


class Case:
    """The arguments of one call: ``Case(*args, label="...", **kwargs)``.

    Arguments are plain data (tensors, numbers, lists, tuples, dicts, strings, None) so that they can be sent to the
    process that runs a submission; a question's ``prepare`` turns them into callables where the function needs one.
    """

    def __init__(self, *args: Any, label: str = "", **kwargs: Any):
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        self.label = label

    def copy(self) -> "Case":
        """A deep copy, so that a function that changes its inputs in place cannot spoil the next call."""
        return Case(*copy.deepcopy(self.args), label=self.label, **copy.deepcopy(self.kwargs))

    def call(self, fn: Callable) -> Any:
        return fn(*self.args, **self.kwargs)

    def __repr__(self) -> str:
        return f"Case({self.label!r}, args={self.args!r}, kwargs={self.kwargs!r})"


@dataclass(frozen=True)
class Mistake:
    """A plausible wrong answer: ``fn`` has the reference's signature; ``hint`` is shown when a candidate agrees
    with ``fn`` on the case it failed. The tests check that every mistake fails the question and gets its hint."""

    name: str
    fn: Callable
    hint: str


@dataclass
class Question:
    """One graded function.

    Attributes:
        qid: ``"<subpackage>.<function>"``; the candidate is the function of that name in the student's notebook.
        reference: the correct implementation; the candidate must have its signature.
        cases: fixed public cases (include the edge cases: empty sizes, zero coefficients, exact thresholds).
        random_case: draws one case from a ``torch.Generator``; ``n_random`` of them are added (hidden when grading:
            the instructor's seed draws them).
        mistakes: plausible wrong implementations with the hint each one deserves.
        forbid: dotted names of callables the answer may not call (the package's own reference, the PyTorch operator
            it re-implements), one name each: the other names it is importable under count too
            (:func:`dlcourse.grading.forbid.aliases`); calling one fails the question.
        prepare: turns a data-only case into the real call (for example builds a ``grad_fn`` from a matrix).
        postprocess: maps an output to what is compared (for example weights to the truth table they compute), for
            questions with many right answers.
        rtol, atol: tolerances of ``torch.allclose`` for floating-point outputs (integers compare exactly).
        points: points of the question.
    """

    qid: str
    reference: Callable
    cases: Sequence[Case]
    random_case: Callable[[torch.Generator], Case] | None = None
    n_random: int = 10
    mistakes: Sequence[Mistake] = ()
    forbid: Sequence[str] = ()
    prepare: Callable[[Case], Case] | None = None
    postprocess: Callable[[Any], Any] | None = None
    rtol: float = 1e-5
    atol: float = 1e-6
    points: int = 1
    module: str = field(default="", compare=False)

    def __post_init__(self):
        part, _, name = self.qid.partition(".")
        if not part or not name.isidentifier():
            raise ValueError(f"a question id is '<subpackage>.<function>', got {self.qid!r}")
        if not callable(self.reference):
            raise TypeError(f"{self.qid}: reference must be callable, got {type(self.reference).__name__}")
        if not self.cases:
            raise ValueError(f"{self.qid}: give at least one public case")

    @property
    def function_name(self) -> str:
        """The name the candidate has in the student's notebook."""
        return self.qid.split(".", 1)[1]

    def make_cases(self, seed: int = 0) -> list[Case]:
        """The public cases, then ``n_random`` cases drawn with ``seed`` (labelled ``random case k``)."""
        cases = [c if c.label else Case(*c.args, label=f"public case {i + 1}", **c.kwargs)
                 for i, c in enumerate(self.cases)]
        if self.random_case is not None:
            gen = torch.Generator().manual_seed(seed)
            for k in range(self.n_random):
                case = self.random_case(gen)
                case.label = f"random case {k + 1}" + (f" ({case.label})" if case.label else "")
                cases.append(case)
        return cases

    def ready(self, case: Case) -> Case:
        """A fresh copy of ``case`` with ``prepare`` applied: what a function is called with."""
        case = case.copy()
        return self.prepare(case) if self.prepare is not None else case


_REGISTRY: dict[str, Question] = {}
_DISCOVERED = False
DISCOVERY_ERRORS: dict[str, str] = {}
"""Question modules that failed to import, with the error (the tests require it to stay empty)."""


def register(question: Question) -> Question:
    """Add ``question`` to the registry and return it. An id may be registered again only by the same module."""
    import inspect

    caller = inspect.stack()[1].frame.f_globals.get("__name__", "")
    question.module = question.module or caller
    old = _REGISTRY.get(question.qid)
    if old is not None and old.module != question.module:
        raise ValueError(f"question {question.qid!r} is already defined in {old.module}")
    _REGISTRY[question.qid] = question
    return question


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    from . import questions

    for info in sorted(pkgutil.iter_modules(questions.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        name = f"{questions.__name__}.{info.name}"
        try:
            importlib.import_module(name)
        except Exception as err:  # one broken part must not take the other parts' exercises down
            DISCOVERY_ERRORS[name] = f"{type(err).__name__}: {err}"
            warnings.warn(f"questions in {name} are unavailable: {DISCOVERY_ERRORS[name]}", RuntimeWarning,
                          stacklevel=2)


def get_question(qid: str) -> Question:
    """The question of id ``qid``; a ``KeyError`` lists the known ids when there is none."""
    _discover()
    try:
        return _REGISTRY[qid]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"no question {qid!r}; known questions: {known}") from None


def all_questions() -> list[Question]:
    """Every registered question, sorted by id."""
    _discover()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
