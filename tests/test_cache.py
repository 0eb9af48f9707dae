"""The trained-model cache: trained once, loaded after, retrained when the code or config changes; checkpoints."""
import multiprocessing as mp

import pytest
import torch
from torch import nn

from dlcourse import cache


def _build():
    torch.manual_seed(0)
    return nn.Linear(3, 2)


def _train(model):
    with torch.no_grad():
        model.weight.add_(1.0)
    model(torch.ones(1, 3)).sum().backward()       # training leaves gradients behind
    return {"loss": [1.0, 0.5]}


def _train_other(model):
    with torch.no_grad():
        model.weight.add_(2.0)


@pytest.fixture()
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DLCOURSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_trains_once_then_loads(cache_folder, capsys):
    first = cache.cached_model("lin", _build, _train, {"lr": 0.1}, device="cpu")
    assert first.cache_info["trained"] and "trained in" in capsys.readouterr().out
    assert not first.training and all(p.grad is None for p in first.parameters())
    again = cache.cached_model("lin", _build, _train, {"lr": 0.1}, device="cpu")
    assert not again.cache_info["trained"] and "loaded from the cache" in capsys.readouterr().out
    assert torch.equal(first.weight, again.weight) and again.cache_info["summary"] == {"loss": [1.0, 0.5]}
    assert len(list(cache_folder.glob("lin-*.pt"))) == 1


def test_key_changes_with_config_and_code(cache_folder):
    a = cache.cache_key("lin", _build, _train, {"lr": 0.1})
    assert a == cache.cache_key("lin", _build, _train, {"lr": 0.1})
    assert a != cache.cache_key("lin", _build, _train, {"lr": 0.2})
    assert a != cache.cache_key("lin", _build, _train_other, {"lr": 0.1})
    trained = cache.cached_model("lin", _build, _train_other, {"lr": 0.1}, device="cpu", verbose=False)
    assert trained.cache_info["trained"]
    assert torch.allclose(trained.weight, _build().weight + 2.0)


def test_retrain_and_bad_input(cache_folder):
    cache.cached_model("lin", _build, _train, device="cpu", verbose=False)
    assert cache.cached_model("lin", _build, _train, device="cpu", retrain=True, verbose=False).cache_info["trained"]
    with pytest.raises(ValueError, match="name"):
        cache.cached_model("a b", _build, _train)
    with pytest.raises(TypeError, match="nn.Module"):
        cache.cached_model("x", lambda: 3, _train, device="cpu")
    with pytest.raises(TypeError, match="JSON"):
        cache.cached_model("y", _build, lambda m: object(), device="cpu")
    with pytest.raises(TypeError, match="config"):
        cache.cached_model("z", _build, _train, config=[1, 2])


def _worker(folder, queue):
    import os

    os.environ["DLCOURSE_CACHE"] = folder
    model = cache.cached_model("lin", _build, _train, {"lr": 0.1}, device="cpu", verbose=False)
    queue.put((model.cache_info["trained"], model.weight.sum().item()))


def test_two_processes_train_once(cache_folder):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(cache_folder), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert sorted(r[0] for r in results) == [False, True]      # one trained, the other waited and loaded
    assert results[0][1] == pytest.approx(results[1][1])
    assert not list(cache_folder.glob("*.tmp"))


def test_shipped_checkpoint_checks_sha(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "checkpoint_dir", lambda: tmp_path)
    path = cache.save_checkpoint({"w": torch.ones(3)}, "tiny")
    assert torch.equal(cache.shipped_checkpoint("tiny")["w"], torch.ones(3))
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ValueError, match="sha256"):
        cache.shipped_checkpoint("tiny")
    with pytest.raises(FileNotFoundError, match="ships no checkpoint"):
        cache.shipped_checkpoint("missing")
    with pytest.raises(ValueError, match="MiB"):
        cache.save_checkpoint({"w": torch.zeros(2_000_000)}, "huge")
