"""The questions on the pages' ideas and experiments (Parts 1-3): the package's own functions with their defaults are
right answers, a wrong answer of any type gets a verdict with a message (never an exception), and the hints that
carry the lesson (validation not test, 2/λ_max, sums not means) are the ones shown."""
from __future__ import annotations

import pytest
import torch

from dlcourse.grading import STRICT_ENV, get_question
from dlcourse.grading.verdict import judge, run_cases

NEW = ["expressivity.sawtooth_pieces", "expressivity.train_xor", "training.largest_stable_lr",
       "training.early_stopping", "vision.conv_stack", "vision.mean_rule_slowdown", "vision.tv_ascent_step",
       "vision.content_loss", "vision.style_loss"]


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)


def _grade(qid, fn, seed=0):
    question = get_question(qid)
    cases = question.make_cases(seed)
    return judge(question, cases, run_cases(question, fn, cases, guard=False))


WRONG_TYPES = {"a string": "42", "None": None, "a dict": {"answer": 1}, "a list of strings": ["a", "b"],
               "an empty tuple": (), "a 5-tuple": (1, 2, 3, 4, 5), "a tensor of the wrong shape": torch.zeros(7, 3)}


@pytest.mark.parametrize("qid", NEW)
@pytest.mark.parametrize("kind", list(WRONG_TYPES))
def test_wrong_types_get_a_verdict(qid, kind):
    value = WRONG_TYPES[kind]
    result = _grade(qid, lambda *args, **kwargs: value)
    assert not result.passed and result.score == 0
    assert result.reason in ("wrong answer", "error") and result.message.startswith(f"✘ {qid}")


@pytest.mark.parametrize("qid", NEW)
def test_a_raising_answer_gets_a_verdict(qid):
    def broken(*args, **kwargs):
        return 1 / 0

    result = _grade(qid, broken)
    assert result.reason == "error" and "ZeroDivisionError" in result.message


def test_the_package_defaults_are_right_answers():
    from dlcourse.vision import content_loss, style_loss

    for qid, fn in (("vision.content_loss", content_loss), ("vision.style_loss", style_loss)):
        for seed in (0, 1, 2):
            result = _grade(qid, fn, seed)
            assert result.passed, result.message


def test_the_gatys_only_answer_fails_with_the_convention_hint():
    def gatys_content(features, target, convention="gatys"):
        return 0.5 * ((features - target) ** 2).sum()

    result = _grade("vision.content_loss", gatys_content)
    assert not result.passed and "convention='notes'" in result.message


def test_both_conventions_are_checked():
    questions = [get_question("vision.content_loss"), get_question("vision.style_loss")]
    for q in questions:
        conventions = {c.kwargs.get("convention", "notes") for c in q.cases}
        assert conventions == {"notes", "gatys"}


def test_early_stopping_on_the_test_curve_is_told_to_use_validation():
    from dlcourse.grading.questions.training import early_stopping

    def on_test(train_loss, val_loss, test_loss, patience):
        return early_stopping(train_loss, test_loss, test_loss, patience)

    result = _grade("training.early_stopping", on_test)
    assert not result.passed and "validation" in result.hint and "TEST" in result.hint


def test_early_stopping_agrees_with_fit():
    """The question's rule is that of dlcourse.loop.fit(patience=...): the same best epoch and number of epochs."""
    from dlcourse.loop import fit
    from dlcourse.grading.questions.training import early_stopping

    gen = torch.Generator().manual_seed(0)
    X, X_val = torch.randn(40, 5, generator=gen), torch.randn(40, 5, generator=gen)
    y, y_val = (X[:, 0] > 0).long(), torch.randint(0, 2, (40,), generator=gen)  # noisy validation: it overfits
    model = torch.nn.Sequential(torch.nn.Linear(5, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    hist = fit(model, X, y, X_val=X_val, y_val=y_val, epochs=60, lr=0.05, batch_size=8, patience=4,
               progress=False)
    assert len(hist.val_loss) < 60  # it did stop early
    best, stop = early_stopping(hist.train_loss, hist.val_loss, hist.val_loss, 4)
    assert (best, stop + 1) == (hist.best_epoch, len(hist.val_loss))


def test_largest_stable_lr_is_the_divergence_threshold():
    from dlcourse.grading.questions.training import largest_stable_lr

    H = torch.tensor([[6.0, 2.0], [2.0, 3.0]], dtype=torch.float64)
    limit = largest_stable_lr(H)

    def norm_after(lr):
        w = torch.ones(2, dtype=torch.float64)
        for _ in range(200):
            w = w - lr * (H @ w)
        return w.norm().item()

    assert norm_after(0.98 * limit) < 1e-2 < 1e2 < norm_after(1.02 * limit)


def test_sawtooth_pieces_match_the_counted_pieces():
    from dlcourse.expressivity import count_linear_pieces, sawtooth_net, shallow_sawtooth_net
    from dlcourse.grading.questions.expressivity import sawtooth_pieces

    for k in range(1, 5):
        pieces, units = sawtooth_pieces(k)
        assert count_linear_pieces(sawtooth_net(k, device="cpu"), 0.0, 1.0) == pieces
        assert count_linear_pieces(shallow_sawtooth_net(k, device="cpu"), 0.0, 1.0) == pieces
        assert units == pieces - 1  # m units, at most m + 1 pieces


def test_conv_stack_matches_pytorch():
    from dlcourse.grading.questions.vision_basics import conv_stack

    layers = [(3, 1, 1), (3, 2, 1), (2, 2, 0), (5, 1, 0)]
    net = torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, k, stride=s, padding=p, bias=False) for k, s, p in layers])
    for layer in net:
        torch.nn.init.ones_(layer.weight)
    x = torch.rand(1, 1, 40, 40, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[-2] // 2, y.shape[-1] // 2].backward()
    rows = (x.grad[0, 0] != 0).any(1).nonzero()
    size, field = conv_stack(40, layers)
    assert size == y.shape[-1] and field == int(rows.max() - rows.min() + 1)


def test_mean_rule_slowdown_is_the_ratio_of_the_gradients():
    import torch.nn.functional as F

    from dlcourse.grading.questions.vision_basics import mean_rule_slowdown

    image, kernel = torch.rand(1, 1, 12, 9), torch.rand(1, 1, 4, 3, requires_grad=True)
    out = F.conv2d(image, kernel)
    (summed,) = torch.autograd.grad(out.sum(), kernel)  # the chain rule: a sum over the output pixels
    averaged = summed / out.numel()                      # the notes' mean over the same contributions
    torch.testing.assert_close(summed / averaged, torch.full_like(summed, float(mean_rule_slowdown(12, 9, 4, 3))))


def test_tv_ascent_step_is_the_step_of_maximize_activation():
    """The question's step is built from the pieces maximize_activation uses: its objective with the package's
    total_variation, its normalised step, its clamp."""
    from dlcourse.grading.questions.gradient_ascent import tv_ascent_step
    from dlcourse.vision import ascent

    gen = torch.Generator().manual_seed(0)
    weights, start = torch.randn(1, 3, 16, 16, generator=gen), torch.rand(1, 3, 16, 16, generator=gen)
    x = start.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad((weights * x).sum() - 3.0 * ascent.total_variation(x), x)
    expected = start.clone()
    ascent._normalized_step(expected, grad, 0.05)
    torch.testing.assert_close(tv_ascent_step(start, weights, 0.05, 3.0), expected.clamp_(0, 1))
    smoother = tv_ascent_step(start, torch.zeros_like(weights), 0.05, 3.0)  # the penalty alone smooths
    assert ascent.total_variation(smoother) < ascent.total_variation(start)


def test_xor_postprocess_reads_any_solving_net():
    from dlcourse.grading.questions.expressivity import train_xor, xor_predictions

    W1, b1, W2, b2 = train_xor()
    assert xor_predictions(W1, b1, W2, b2).tolist() == [0, 1, 1, 0]
    assert xor_predictions(W1.tolist(), b1.tolist(), W2.tolist(), b2.tolist()).tolist() == [0, 1, 1, 0]
    with pytest.raises(ValueError, match="W1"):
        xor_predictions(torch.zeros(3, 2), b1, W2, b2)


def test_the_grader_grades_an_answer_that_trains_with_an_optimizer():
    """A first optimizer step imports modules that read the call stack, which the grader refuses: the grader's
    processes import them beforehand, so a trained answer (exercise train_xor) is graded, not failed with an error."""
    import nbformat

    from dlcourse.grading.grade import grade_submission

    source = ("import torch\n\n"
              "def train_xor():\n"
              "    w = torch.zeros(2, requires_grad=True)\n"
              "    optimizer = torch.optim.Adam([w], lr=0.1)\n"
              "    (w.sum() ** 2).backward()\n"
              "    optimizer.step()\n"
              "    return 10 * torch.ones(2, 2), torch.tensor([-5.0, -15.0]), torch.tensor([[1.0, -1.0]]), "
              "torch.tensor([-1.0])\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    graded = grade_submission("adam", nbformat.writes(nb).encode(), [get_question("expressivity.train_xor")], seed=0,
                              timeout=60, isolation="process")
    result = graded.results["expressivity.train_xor"]
    assert result.passed, result.message
