"""Tests of the shared infrastructure: device choice, seeding, data loaders, the training loop, plotting helpers."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from torch import nn

import dlcourse
from dlcourse import data, plotting
from dlcourse.loop import History, accuracy, evaluate, fit, fused_adam, iterate_minibatches


# --- device and seeding -------------------------------------------------------------------------------------------
def test_device_defaults_to_an_available_device(monkeypatch):
    monkeypatch.delenv("DLCOURSE_DEVICE", raising=False)
    dev = dlcourse.device()
    assert isinstance(dev, torch.device)
    torch.zeros(1, device=dev)  # usable


def test_device_override(monkeypatch):
    monkeypatch.setenv("DLCOURSE_DEVICE", "cpu")
    assert dlcourse.device() == torch.device("cpu")
    monkeypatch.setenv("DLCOURSE_DEVICE", "not-a-device")
    with pytest.raises(ValueError, match="DLCOURSE_DEVICE"):
        dlcourse.device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("DLCOURSE_DEVICE", "cuda")
        with pytest.raises(ValueError, match="CUDA is not available"):
            dlcourse.device()


def test_size_scale():
    assert dlcourse.size_scale("cpu") == 1
    assert dlcourse.size_scale(torch.device("cuda")) > 1


def test_seed_everything_makes_runs_repeatable():
    dlcourse.seed_everything(3)
    a = (torch.randn(3), np.random.rand(), torch.randperm(10))
    dlcourse.seed_everything(3)
    b = (torch.randn(3), np.random.rand(), torch.randperm(10))
    assert torch.equal(a[0], b[0]) and a[1] == b[1] and torch.equal(a[2], b[2])
    with pytest.raises(TypeError):
        dlcourse.seed_everything(1.5)


# --- data ---------------------------------------------------------------------------------------------------------
def test_mnist5k_shapes_ranges_and_fixed_split():
    Xtr, ytr = data.load_mnist5k("train")
    Xte, yte = data.load_mnist5k("test")
    assert Xtr.shape == (4000, 1, 28, 28) and Xte.shape == (1000, 1, 28, 28)
    assert Xtr.dtype == torch.float32 and ytr.dtype == torch.int64
    assert 0.0 <= Xtr.min() and Xtr.max() <= 1.0 and Xtr.max() > 0.9
    assert torch.bincount(ytr).tolist() == [400] * 10 and torch.bincount(yte).tolist() == [100] * 10
    Xtr2, _ = data.load_mnist5k("train")
    assert torch.equal(Xtr, Xtr2)
    Xall, _ = data.load_mnist5k("all", flatten=True)
    assert Xall.shape == (5000, 784)
    # train and test do not overlap
    rows = {tuple(r) for r in Xtr.view(4000, -1)[:, 200:260].numpy().round(3).tolist()}
    assert sum(tuple(r) in rows for r in Xte.view(1000, -1)[:, 200:260].numpy().round(3).tolist()) < 20


def test_digits8x8():
    X, y = data.load_digits8x8("train")
    Xt, yt = data.load_digits8x8("test", flatten=True)
    assert X.shape[1:] == (1, 8, 8) and Xt.shape[1] == 64
    assert len(X) + len(Xt) == 1797
    assert float(X.max()) == 1.0 and float(X.min()) == 0.0


def test_bad_split_is_rejected():
    with pytest.raises(ValueError, match="split"):
        data.load_mnist5k("validation")


@pytest.mark.parametrize("name", sorted(data.PHOTOS))
def test_photos(name):
    x = data.load_photo(name, size=32)
    assert x.dim() == 3 and x.shape[0] == 3 and min(x.shape[1:]) == 32
    assert x.dtype == torch.float32 and 0.0 <= x.min() and x.max() <= 1.0


def test_photo_errors_and_gray():
    with pytest.raises(ValueError, match="unknown photo"):
        data.load_photo("lena")
    with pytest.raises(ValueError, match="positive"):
        data.load_photo("chelsea", size=0)
    assert data.load_photo("chelsea", size=16, gray=True).shape[0] == 1


def test_text():
    text = data.load_text()
    assert len(text) > 400_000 and text == data.load_text()
    assert data.load_text(max_chars=100) == text[:100]


def test_train_test_indices_partition():
    tr, te = data.train_test_indices(100, 0.3, seed=1)
    assert len(te) == 30 and sorted(np.concatenate([tr, te]).tolist()) == list(range(100))
    with pytest.raises(ValueError):
        data.train_test_indices(10, 1.5)


# --- training loop ------------------------------------------------------------------------------------------------
def _blobs(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    X = torch.randn(n, 2, generator=g) + 3.0 * y[:, None].float()
    return X, y


def test_fit_learns_a_separable_problem():
    X, y = _blobs()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    hist = fit(model, X, y, epochs=20, lr=0.05, X_val=X, y_val=y, progress=False)
    assert isinstance(hist, History)
    assert len(hist.train_loss) == 20 and len(hist.val_acc) == 20
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert hist.val_acc[-1] > 0.95
    loss, acc = evaluate(model, X, y, nn.functional.cross_entropy)
    assert acc == pytest.approx(hist.val_acc[-1])


def test_fit_early_stopping_restores_best_weights():
    X, y = _blobs()
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    hist = fit(model, X, y, epochs=200, lr=0.5, X_val=X[:50], y_val=y[:50], patience=3, progress=False)
    assert len(hist.val_loss) < 200
    best = min(hist.val_loss)
    loss, _ = evaluate(model, X[:50], y[:50], nn.functional.cross_entropy)
    assert loss == pytest.approx(best, rel=1e-5)


def test_fit_regression_and_errors():
    X = torch.randn(64, 3)
    y = X @ torch.tensor([1.0, -2.0, 0.5])
    model = nn.Linear(3, 1)
    hist = fit(model, X, y[:, None], epochs=50, lr=0.1, classification=False, progress=False)
    assert hist.train_loss[-1] < 1e-2 and not hist.train_acc
    with pytest.raises(ValueError, match="same length"):
        fit(model, X, y[:10, None], progress=False)
    with pytest.raises(ValueError, match="validation"):
        fit(model, X, y[:, None], patience=2, classification=False, progress=False)


def test_accuracy_and_minibatches():
    assert accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0]]), torch.tensor([0, 0])) == 0.5
    with pytest.raises(ValueError):
        accuracy(torch.zeros(3), torch.zeros(3, dtype=torch.long))
    batches = list(iterate_minibatches(10, 4, shuffle=False))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert torch.equal(torch.cat(batches), torch.arange(10))


@pytest.mark.parametrize("decoupled, weight_decay", [(False, 0.0), (False, 0.1), (True, 0.1)])
def test_fused_adam_takes_the_steps_of_plain_adam(decoupled, weight_decay):
    torch.manual_seed(0)
    start = [torch.randn(4, 3), torch.randn(7)]
    fused_params = [nn.Parameter(w.clone()) for w in start]
    plain_params = [nn.Parameter(w.clone()) for w in start]
    fused = fused_adam(fused_params, 0.05, weight_decay=weight_decay, decoupled=decoupled)
    plain = (torch.optim.AdamW if decoupled else torch.optim.Adam)(plain_params, lr=0.05, weight_decay=weight_decay)
    assert isinstance(fused, torch.optim.AdamW if decoupled else torch.optim.Adam)
    for step in range(5):
        for params, opt in ((fused_params, fused), (plain_params, plain)):
            opt.zero_grad()
            sum(((w - step) ** 2).sum() for w in params).backward()
            opt.step()
    for a, b in zip(fused_params, plain_params, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert not torch.equal(fused_params[0], start[0])


# --- plotting -----------------------------------------------------------------------------------------------------
def test_plotting_helpers_draw_and_validate():
    import matplotlib.pyplot as plt

    fig = plotting.show_images(torch.rand(5, 1, 8, 8), titles=list("abcde"), ncols=3, suptitle="grid")
    assert len(fig.axes) == 6
    ax = plotting.plot_curves({"train": [3, 2, 1], "val": [3, 2.5, 2.2]}, title="curves")
    assert len(ax.lines) == 2 and ax.get_title() == "curves"
    X, y = _blobs(40)
    ax = plotting.plot_decision_boundary(lambda g: (g.sum(1) > 3).long(), X, y, title="boundary")
    assert ax.get_xlabel() == "$x_1$"
    ax = plotting.plot_loss_surface(lambda w: (w**2).sum(1), (-1, 1), (-1, 1), {"path": [[0.5, 0.5], [0.1, 0.1]]})
    assert len(ax.lines) == 1
    with pytest.raises(ValueError):
        plotting.plot_decision_boundary(lambda g: g[:, 0], torch.zeros(4, 3), torch.zeros(4))
    with pytest.raises(ValueError):
        plotting.show_images([])
    plt.close("all")
