"""Every registered question, the same way: the reference passes, each declared mistake fails with its hint, calling
a forbidden callable fails, a stub says "not implemented yet". Questions added for later parts are covered too."""
from __future__ import annotations

import dataclasses
import sys

import pytest
import torch

from dlcourse.grading import STRICT_ENV, all_questions, check, get_question, score
from dlcourse.grading.forbid import forbidden, resolve
from dlcourse.grading.verdict import judge, run_cases

QUESTIONS = all_questions()
MISTAKES = [(q, m) for q in QUESTIONS for m in q.mistakes]


def _grade(question, fn, seed=0):
    cases = question.make_cases(seed)
    return judge(question, cases, run_cases(question, fn, cases))


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)


def test_every_question_module_imports():
    from dlcourse.grading.registry import DISCOVERY_ERRORS

    assert DISCOVERY_ERRORS == {}


def test_questions_of_parts_1_and_2_exist():
    ids = {q.qid for q in QUESTIONS}
    assert {"expressivity.dense_params", "training.momentum_step", "training.nesterov_step"} <= ids
    assert len([i for i in ids if i.split(".")[0] in ("expressivity", "training")]) >= 5


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.qid)
def test_reference_passes(question):
    unbanned = dataclasses.replace(question, forbid=())  # the reference may be on its own ban list
    for seed in (0, 1):
        result = _grade(unbanned, question.reference, seed)
        assert result.passed and result.score == result.max_score == question.points, result.message


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.qid)
def test_question_is_well_formed(question):
    assert len(question.mistakes) >= 3, f"{question.qid}: declare at least three plausible mistakes"
    for name in question.forbid:
        assert callable(resolve(name)[2]), name
    assert len(question.make_cases(0)) == len(question.cases) + (question.n_random if question.random_case else 0)
    # Hidden cases depend on the seed; public ones do not.
    if question.random_case is not None:
        a, b = question.make_cases(0)[-1], question.make_cases(1)[-1]
        assert repr(a) != repr(b)


@pytest.mark.parametrize("question, mistake", MISTAKES, ids=lambda x: getattr(x, "qid", getattr(x, "name", "")))
def test_mistake_fails_with_its_hint(question, mistake):
    result = _grade(question, mistake.fn)
    assert not result.passed and result.score == 0 and result.reason == "wrong answer", result.message
    assert mistake.hint in result.message
    assert "expected" in result.message and "got" in result.message
    assert len(result.message) < 1500, "a verdict is a summary, not a wall of numbers"


@pytest.mark.parametrize("question", [q for q in QUESTIONS if q.forbid], ids=lambda q: q.qid)
def test_calling_a_forbidden_callable_fails(question):
    target = resolve(question.forbid[0])[2]  # an alias taken before the check: caught by the call monitor
    ref = question.reference

    def cheat(*args, **kwargs):
        try:
            target(*args, **kwargs)
        except BaseException:
            pass
        return ref(*args, **kwargs)

    result = _grade(question, cheat)
    assert not result.passed and result.reason == "forbidden call", result.message
    assert "forbids" in result.message


def test_forbidden_is_restored_even_on_error():
    import dlcourse.training as training

    original = training.momentum_step
    with pytest.raises(ZeroDivisionError):
        with forbidden(["dlcourse.training.momentum_step", "torch.optim.SGD"]) as calls:
            assert training.momentum_step is not original
            raise ZeroDivisionError
    assert training.momentum_step is original and sys.getprofile() is None and calls == []


def test_forbidden_catches_a_late_lookup_and_an_operator():
    def via_module(w, v, grad, lr, alpha):
        import dlcourse.training

        return dlcourse.training.momentum_step(w, v, grad, lr, alpha)

    def via_sgd(w, v, grad, lr, alpha):
        p = torch.nn.Parameter(w.clone())
        opt = torch.optim.SGD([p], lr=lr, momentum=alpha)
        p.grad = grad.clone()
        opt.step()
        return p.detach(), w - p.detach()

    q = get_question("training.momentum_step")
    for fn, name in ((via_module, "dlcourse.training.momentum_step"), (via_sgd, "torch.optim.SGD")):
        result = _grade(q, fn)
        assert result.reason == "forbidden call" and name in result.message, result.message


def test_stub_says_not_implemented_and_check_never_raises(capsys):
    def dense_params(s_in, s_out, bias=True):
        raise NotImplementedError

    def crashes(s_in, s_out, bias=True):
        raise SystemExit("bye")

    result = check("expressivity.dense_params", dense_params)
    assert not result.passed and result.score == 0 and result.max_score == 1
    assert "not implemented yet" in result.message and "not implemented yet" in capsys.readouterr().out
    assert check("expressivity.dense_params", crashes).reason == "error"
    assert check("expressivity.dense_params", 42).reason == "error"
    assert "no question" in check("nope.nothing", dense_params).message
    assert check("expressivity.dense_params", lambda s_in, s_out, bias=True: object()).reason == "error"


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(AssertionError, match="wrong output"):
        check("expressivity.dense_params", lambda s_in, s_out, bias=True: s_in * s_out)
    assert check("expressivity.dense_params", lambda s_in, s_out, bias=True: s_in * s_out + s_out * bias).passed


def test_verdict_summarises_tensors():
    q = get_question("training.momentum_step")
    result = _grade(q, lambda w, v, grad, lr, alpha: (w[None], v))
    assert "problem:" in result.message and "has shape (1, 3), expected (3,)" in result.message
    result = _grade(q, lambda w, v, grad, lr, alpha: (w - lr * grad - alpha * v, lr * grad + alpha * v + 1e-3))
    assert "largest error" in result.message and "output[1]" in result.message


def test_score_adds_up(capsys):
    check("expressivity.dense_params", lambda s_in, s_out, bias=True: s_in * s_out + (s_out if bias else 0))
    check("training.momentum_step", lambda w, v, grad, lr, alpha: (w, v))
    total, maximum = score("expressivity.dense_params", "training.momentum_step", "training.nesterov_step")
    assert (total, maximum) == (1, 3)
    assert "total" in capsys.readouterr().out


def test_registry_rejects_bad_and_duplicate_ids():
    from dlcourse.grading import Case, Question, register

    with pytest.raises(ValueError):
        Question("no_dot", lambda: 0, [Case()])
    q = get_question("expressivity.dense_params")
    with pytest.raises(ValueError, match="already defined"):
        register(dataclasses.replace(q, module="somewhere.else"))
    with pytest.raises(KeyError, match="known questions"):
        get_question("expressivity.nothing")


def test_forbidden_aliases_come_from_one_dotted_name():
    from dlcourse.grading.forbid import aliases

    assert "dlcourse.vision.conv.conv2d" in aliases("dlcourse.vision.conv2d")
    assert "torch.conv2d" in aliases("torch.nn.functional.conv2d")
    assert "dlcourse.training.optim.momentum_step" in aliases("dlcourse.training.momentum_step")
    assert aliases("torch.Tensor.backward") == ("torch.Tensor.backward",)

    def via_submodule(x, weight, bias=None, stride=1, padding=0):
        from dlcourse.vision.conv import conv2d

        return conv2d(x, weight, bias, stride, padding)

    def via_torch(x, weight, bias=None, stride=1, padding=0):
        return torch.conv2d(x, weight, bias, stride, padding)

    q = dataclasses.replace(get_question("vision.conv2d"),
                            forbid=("dlcourse.vision.conv2d", "torch.nn.functional.conv2d"))
    for fn, name in ((via_submodule, "dlcourse.vision.conv2d"), (via_torch, "torch.nn.functional.conv2d")):
        result = _grade(q, fn)
        assert result.reason == "forbidden call" and name in result.message, result.message


def test_replies_are_sealed():
    import multiprocessing
    import threading

    from dlcourse.grading import wire

    key = b"k" * 32
    body = wire.pack({"changed": ["f"]}, b"payload")
    assert wire.unpack(wire.unseal(key, 3, wire.seal(key, 3, body))) == ({"changed": ["f"]}, b"payload")
    for bad in (wire.seal(key, 2, body), wire.seal(b"x" * 32, 3, body), body, b""):
        with pytest.raises(ValueError):
            wire.unseal(key, 3, bad)
    parent, child = multiprocessing.Pipe(duplex=True)  # the raw channel speaks Connection's framing
    recv, send = wire.raw_channel(child.fileno())
    thread = threading.Thread(target=lambda: send(5, recv(), key))
    thread.start()
    parent.send_bytes(body)
    assert wire.unseal(key, 5, parent.recv_bytes()) == body
    thread.join()


def test_the_guides_example_is_a_working_question():
    """The example in dlcourse/grading/__init__.py names modules that exist and makes a question that works."""
    import dlcourse.grading as grading

    code = grading.__doc__.split("::\n\n", 1)[1].split("\n\nRules of thumb")[0]
    code = "\n".join(line[4:] for line in code.splitlines()).replace("register(Question(", "question = (Question(")
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own docstring
    question = namespace["question"]
    assert _grade(dataclasses.replace(question, forbid=()), question.reference).passed
    for mistake in question.mistakes:
        result = _grade(question, mistake.fn)
        assert result.reason == "wrong answer" and mistake.hint in result.message
    assert _grade(question, lambda z: torch.heaviside(z, torch.ones(()))).reason == "forbidden call"


def test_a_folder_mixing_sheets_of_one_part_grades_each_on_its_own_sheet():
    """Part 3's four sheets all check ``vision.*`` questions: a notebook of one is not marked on the others'."""
    import nbformat

    from dlcourse.grading.grade import _same_sheets, questions_in

    def notebook(*qids):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f'check("{q}", f)') for q in qids]
        return nbformat.writes(nb).encode()

    manifold, detection = notebook("vision.fgsm", "vision.roc_auc"), notebook("vision.box_iou")
    chosen = questions_in([manifold, detection])
    assert {q.qid for q in _same_sheets(chosen, manifold)} == {"vision.fgsm", "vision.roc_auc"}
    assert {q.qid for q in _same_sheets(chosen, detection)} == {"vision.box_iou"}
    assert _same_sheets(chosen, notebook()) == chosen                 # checks nothing: graded on everything
