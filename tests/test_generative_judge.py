"""The shipped sample judge: confident on real held-out digits, not on noise or blends; the trained-model registry."""
import pytest
import torch

from dlcourse.data import load_mnist5k
from dlcourse.generative import judge, judge_score, register_trained, trained, trained_names
from dlcourse.generative.judge import non_digits


@pytest.fixture(scope="module")
def test_digits():
    return load_mnist5k("test")


def test_judge_on_real_digits_noise_and_blends(test_digits):
    X, y = test_digits
    real = judge_score(X, device="cpu")
    assert real.confident >= 0.85 and real.classes == 10
    assert (real.labels[real.labels >= 0] == y[real.labels >= 0]).float().mean() >= 0.97   # confident means right
    assert sum(real.counts) == int((real.labels >= 0).sum())
    gen = torch.Generator().manual_seed(3)
    assert judge_score(torch.rand(300, 1, 28, 28, generator=gen), device="cpu").confident <= 0.02
    assert judge_score(non_digits(300, X, gen), device="cpu").confident <= 0.02
    assert judge_score(0.5 * X[:300] + 0.5 * X[300:600], device="cpu").confident <= 0.15
    assert "judged confidently" in str(real)


def test_judge_resizes_other_sizes(test_digits):
    X, _ = test_digits
    small = torch.nn.functional.interpolate(X[:200], size=(16, 16), mode="bilinear", antialias=True)
    assert judge_score(small, device="cpu").confident >= 0.6
    assert judge(device="cpu")(X[:2]).shape == (2, 11)


@pytest.mark.parametrize("bad, match", [
    (torch.rand(4, 28, 28), "4 dimensions"),
    (torch.rand(4, 3, 28, 28), r"\(N, 1, H, W\)"),
    (torch.rand(2, 1, 28, 28) * 255, r"\[0, 1\]"),
])
def test_judge_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        judge_score(bad, device="cpu")
    with pytest.raises(ValueError, match="threshold"):
        judge_score(torch.rand(2, 1, 28, 28), threshold=1.5, device="cpu")


def test_trained_registry():
    @register_trained("_probe")
    def _probe(device=None):
        return torch.nn.Linear(1, 1)

    assert "_probe" in trained_names() and isinstance(trained("_probe"), torch.nn.Linear)
    with pytest.raises(ValueError, match="no trained model"):
        trained("nothing-here")
    with pytest.raises(ValueError, match="registered already"):
        register_trained("_probe")(lambda device=None: None)
