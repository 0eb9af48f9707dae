"""Adversarial attacks, the autoencoder, ROC AUC and the out-of-distribution images of Notes §3.10."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcourse.vision import (
    Autoencoder,
    evolutionary_attack,
    fgsm,
    ood_images,
    pgd,
    pgd_project,
    psnr,
    reconstruction_error,
    roc_auc,
    roc_curve,
)


def _model(seed=0, d=12, k=3):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, k))


def _data(seed=0, n=8):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 3, 4, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_fgsm_matches_a_manual_signed_step_and_stays_in_the_ball():
    model, (x, y) = _model(), _data()
    xr = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(nn.functional.cross_entropy(model(xr), y), xr)
    expected = (x + 0.1 * grad.sign()).clamp(0, 1)
    adv = fgsm(model, x, y, 0.1)
    assert torch.allclose(adv, expected)
    assert (adv - x).abs().max() <= 0.1 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    assert torch.allclose(fgsm(model, x, y, 0.1, targeted=True), (x - 0.1 * grad.sign()).clamp(0, 1))
    assert all(p.grad is None for p in model.parameters())          # only the input gets a gradient


def test_fgsm_raises_the_loss_and_targeted_lowers_it():
    model, (x, y) = _model(), _data()
    def ce(z, t):
        return nn.functional.cross_entropy(model(z), t).item()
    assert ce(fgsm(model, x, y, 0.05), y) > ce(x, y)
    assert ce(fgsm(model, x, y, 0.05, targeted=True), y) < ce(x, y)


def test_pgd_one_step_without_random_start_is_fgsm():
    model, (x, y) = _model(), _data()
    assert torch.allclose(pgd(model, x, y, 0.1, 0.1, 1, random_start=False), fgsm(model, x, y, 0.1))


@pytest.mark.parametrize("targeted", [False, True])
def test_pgd_stays_in_the_ball_and_in_range(targeted):
    model, (x, y) = _model(), _data()
    g = torch.Generator().manual_seed(0)
    adv = pgd(model, x, y, 0.07, 0.03, 10, targeted=targeted, generator=g)
    assert (adv - x).abs().max() <= 0.07 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    again = pgd(model, x, y, 0.07, 0.03, 10, targeted=targeted, generator=torch.Generator().manual_seed(0))
    assert torch.equal(adv, again)


def test_pgd_is_at_least_as_strong_as_fgsm_on_average():
    model, (x, y) = _model(1), _data(1, n=64)
    def ce(z):
        return nn.functional.cross_entropy(model(z), y).item()
    strong = pgd(model, x, y, 0.1, 0.025, 10, generator=torch.Generator().manual_seed(0))
    assert ce(strong) >= ce(fgsm(model, x, y, 0.1))


def test_pgd_project_is_the_box_projection():
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(4, 5, generator=g)
    x = x0 + torch.randn(4, 5, generator=g)
    p = pgd_project(x, x0, 0.2)
    lo, hi = (x0 - 0.2).clamp(min=0), (x0 + 0.2).clamp(max=1)
    assert torch.equal(p, torch.maximum(torch.minimum(x, hi), lo))
    inside = pgd_project(x0 + 0.05, x0, 0.2)
    assert torch.allclose(inside, (x0 + 0.05).clamp(max=1))


@pytest.mark.parametrize("call", [
    lambda m, x, y: fgsm(m, x, y, -0.1),
    lambda m, x, y: fgsm(m, x * 2, y, 0.1),
    lambda m, x, y: fgsm(m, x - 1, y, 0.1),
    lambda m, x, y: fgsm(m, x, y + 3, 0.1),
    lambda m, x, y: fgsm(m, x, y[:-1], 0.1),
    lambda m, x, y: pgd(m, x, y, 0.1, -0.01, 3),
    lambda m, x, y: pgd(m, x, y, float("nan"), 0.01, 3),
    lambda m, x, y: pgd(m, x, -y - 1, 0.1, 0.01, 3),
    lambda m, x, y: pgd_project(x, x * 3, 0.1),
    lambda m, x, y: evolutionary_attack(lambda z: m(z).softmax(1), x, 5, eps=0.1),
    lambda m, x, y: evolutionary_attack(lambda z: m(z).softmax(1), x + 1, 0, eps=0.1),
    lambda m, x, y: evolutionary_attack(lambda z: m(z).softmax(1), x, 0, eps=-1.0),
    lambda m, x, y: evolutionary_attack(lambda z: m(z).softmax(1), x, 0, population=1),
])
def test_bad_input_raises_value_error(call):
    model, (x, y) = _model(), _data()
    with pytest.raises(ValueError):
        call(model, x, y)


@pytest.mark.parametrize("call", [
    lambda m, x, y: fgsm(m, x, y.float(), 0.1),
    lambda m, x, y: fgsm(m, x.long(), y, 0.1),
    lambda m, x, y: pgd(m, x, y, 0.1, 0.01, 2.5),
    lambda m, x, y: fgsm(m, x, y, "0.1"),
])
def test_wrong_types_raise_type_error(call):
    model, (x, y) = _model(), _data()
    with pytest.raises(TypeError):
        call(model, x, y)


def test_evolutionary_attack_reads_only_probabilities_and_succeeds():
    model, (x, _) = _model(2), _data(2, n=6)
    seen = []

    def predict_proba(z):
        seen.append((torch.is_grad_enabled(), len(z)))
        return model(z).softmax(1)

    with torch.no_grad():
        target = model(x).topk(2, 1).indices[:, 1]                 # the runner-up class: reachable
    adv, queries = evolutionary_attack(predict_proba, x, target, eps=0.5, max_queries=3000,
                                       generator=torch.Generator().manual_seed(0))
    assert not any(grad for grad, _ in seen)                          # every query ran without autograd
    assert all(p.grad is None for p in model.parameters())
    assert queries.shape == (6,) and queries.dtype == torch.long
    assert int(queries.sum()) == sum(n for _, n in seen)               # each image sent counts as one query
    assert (adv - x).abs().max() <= 0.5 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    white = pgd(model, x, target, 0.5, 0.05, 40, targeted=True, random_start=False)
    with torch.no_grad():
        success = model(adv).argmax(1) == target
        reachable = model(white).argmax(1) == target                  # where a white-box attack gets there
    assert reachable.sum() >= 3 and success[reachable].float().mean() >= 0.75, (success, reachable)
    assert (queries[success] <= 3000).all()


def test_reconstruction_error_psnr_and_autoencoder_shapes():
    g = torch.Generator().manual_seed(0)
    x, x_hat = torch.rand(5, 1, 28, 28, generator=g), torch.rand(5, 1, 28, 28, generator=g)
    err = reconstruction_error(x, x_hat)
    assert err.shape == (5,)
    assert torch.allclose(err, torch.stack([nn.functional.mse_loss(a, b) for a, b in zip(x, x_hat, strict=False)]))
    assert torch.allclose(psnr(x_hat, x), 10 * torch.log10(1 / err))
    ae = Autoencoder(bottleneck=7)
    z = ae.encode(x)
    assert z.shape == (5, 7) and ae.decode(z).shape == x.shape and 0 <= ae(x).min() and ae(x).max() <= 1
    with pytest.raises(ValueError):
        ae(torch.rand(2, 1, 14, 14))
    with pytest.raises(ValueError):
        ae.decode(torch.rand(2, 3))
    with pytest.raises(ValueError):
        reconstruction_error(x, x_hat[:2])


def test_roc_auc_equals_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as sk_roc

    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        labels = torch.randint(0, 2, (60,), generator=g)
        labels[:2] = torch.tensor([0, 1])
        scores = (torch.randint(0, 8, (60,), generator=g) + labels * 2).float()   # many ties
        assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels.numpy(), scores.numpy()), abs=1e-12)
        fpr, tpr, _ = roc_curve(scores, labels)
        sk_fpr, sk_tpr, _ = sk_roc(labels.numpy(), scores.numpy(), drop_intermediate=False)
        assert torch.allclose(fpr, torch.from_numpy(sk_fpr)) and torch.allclose(tpr, torch.from_numpy(sk_tpr))
    assert roc_auc(torch.tensor([0.1, 0.2, 0.9]), torch.tensor([0, 0, 1])) == 1.0
    assert roc_auc(torch.tensor([0.9, 0.2, 0.1]), torch.tensor([0, 0, 1])) == 0.0
    with pytest.raises(ValueError):
        roc_auc(torch.rand(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError):
        roc_auc(torch.rand(4), torch.tensor([0, 1, 2, 0]))


@pytest.mark.parametrize("kind", ["shapes", "letters", "photos", "noise"])
def test_ood_images(kind):
    x = ood_images(kind, 10, seed=1)
    assert x.shape == (10, 1, 28, 28) and x.min() >= 0 and x.max() <= 1 and x.std() > 0.05
    assert torch.equal(x, ood_images(kind, 10, seed=1))
    with pytest.raises(ValueError):
        ood_images("faces", 3)
