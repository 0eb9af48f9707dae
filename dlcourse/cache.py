"""Trained models, trained once and reused: by the page that introduces them, later pages, the grader and the tests.

:func:`cached_model` builds a model, trains it the first time and stores its weights under :func:`cache_dir`
(``$DLCOURSE_CACHE``, default the user cache folder ``~/.cache/dlcourse``). The file's key is the model's name, its
configuration and a hash of the source code of ``build`` and ``train``: change either and the model is trained
again; keep them and every later call loads the same weights, on any device. Files are written atomically and a lock
makes a second process that asks for the same model wait for the first one's training, then load its result.

:func:`shipped_checkpoint` loads a checkpoint that ships inside the package (``dlcourse/checkpoints/``, each file
at most 5 MB), verified by its sha256 in ``dlcourse/checkpoints/SHA256SUMS``. Such files are made by scripts in
``scripts/`` with fixed seeds and the code the pages run, for models a CPU cannot train well in a page's minute.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import nn

__all__ = ["cache_dir", "cached_model", "cache_key", "shipped_checkpoint", "save_checkpoint", "checkpoint_dir",
           "sha256_file", "CHECKPOINT_MAX_BYTES"]

CHECKPOINT_MAX_BYTES = 5 * 1024 * 1024
_FORMAT = 1  # bump to invalidate every cached file at once


def cache_dir() -> Path:
    """The folder of trained weights: ``$DLCOURSE_CACHE`` or ``~/.cache/dlcourse`` (created when missing)."""
    path = Path(os.environ.get("DLCOURSE_CACHE", "") or Path.home() / ".cache" / "dlcourse").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _source(fn: Callable) -> str:
    """The source code of ``fn`` (a function, a lambda, a ``functools.partial`` or a class); its qualified name when
    the source is not available (a function typed into an interactive prompt)."""
    target = getattr(fn, "func", fn)
    try:
        text = inspect.getsource(target)
    except (OSError, TypeError):
        text = f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', repr(target))}"
    if target is not fn:  # a partial: its bound arguments are part of the recipe
        text += repr(getattr(fn, "args", ())) + repr(sorted(getattr(fn, "keywords", {}).items()))
    return text


def _canonical(config: Mapping[str, Any]) -> str:
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict of settings, got {type(config).__name__}")
    try:
        return json.dumps(config, sort_keys=True, default=str)
    except (TypeError, ValueError) as err:
        raise TypeError(f"config must hold JSON-like values (numbers, strings, lists, dicts): {err}") from err


def cache_key(name: str, build: Callable, train: Callable, config: Mapping[str, Any]) -> str:
    """The 16-hex-digit key of a trained model: its name, its config and the source of ``build`` and ``train``."""
    digest = hashlib.sha256()
    for part in (str(_FORMAT), name, _canonical(config), _source(build), _source(train)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive lock on ``path`` while the block runs (POSIX ``flock``; no lock where it is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: atomic writes still keep readers safe
        yield
        return
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _atomic_save(obj, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _resolve_device(device) -> torch.device:
    from ._utils import device as default_device

    return torch.device(device) if device is not None else default_device()


def cached_model(name: str, build: Callable[[], nn.Module], train: Callable[[nn.Module], Any],
                 config: Mapping[str, Any] | None = None, *, device: torch.device | str | None = None,
                 retrain: bool = False, verbose: bool = True) -> nn.Module:
    """Return the trained model ``name``: loaded from the cache, or built, trained and cached when missing.

    Args:
        name: a short name such as ``"digit_cnn"`` or ``"vae"`` (letters, digits, ``_`` and ``-``).
        build: ``build() -> nn.Module``, a fresh untrained model (seed inside it if the initialisation matters).
        train: ``train(model)`` trains the model in place; it is on ``device`` already. It may return a
            JSON-serialisable summary (a loss curve, a validation accuracy), kept beside the weights.
        config: every setting that changes the result (sizes, epochs, learning rate, seed). It is part of the key,
            with the source code of ``build`` and ``train``.
        device: where the model is trained and returned; ``None`` means :func:`dlcourse.device`.
        retrain: train again even when a cached file exists (and replace it).
        verbose: print one line saying whether the model was trained or loaded, and how long it took.

    Returns:
        the model in eval mode on ``device``, with ``model.cache_info``: a dict with ``trained`` (True when this call
        trained it), ``seconds`` (this call's time), ``train_seconds`` (the training's time, when it was done),
        ``path`` (the cached file) and ``summary`` (what ``train`` returned).
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"name must be a non-empty string of letters, digits, '_' and '-', got {name!r}")
    if not callable(build) or not callable(train):
        raise TypeError("build and train must be callables: build() -> nn.Module, train(model) -> summary or None")
    config = {} if config is None else config
    _canonical(config)  # a clear error for a config that is not a dict of plain values
    config = dict(config)
    dev = _resolve_device(device)
    key = cache_key(name, build, train, config)
    path = cache_dir() / f"{name}-{key}.pt"
    start = time.perf_counter()
    with _lock(path.with_name(f".{path.name}.lock")):
        model = build()
        if not isinstance(model, nn.Module):
            raise TypeError(f"build() must return an nn.Module, got {type(model).__name__}")
        if path.exists() and not retrain:
            stored = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(stored["state_dict"])
            model.to(dev).eval()
            info = {"trained": False, "seconds": time.perf_counter() - start,
                    "train_seconds": stored.get("train_seconds"), "path": str(path),
                    "summary": json.loads(stored.get("summary", "null"))}
            if verbose:
                print(f"{name}: loaded from the cache in {info['seconds']:.2f} s "
                      f"(trained once, in {info['train_seconds']:.1f} s, on {stored.get('device', '?')})")
        else:
            model.to(dev).train()
            summary = train(model)
            model.zero_grad(set_to_none=True)  # trained or loaded, the model comes back the same: no gradients
            train_seconds = time.perf_counter() - start
            try:
                summary_text = json.dumps(summary, default=float)
            except (TypeError, ValueError) as err:
                raise TypeError(f"train() must return a JSON-serialisable summary or None: {err}") from err
            state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
            _atomic_save({"state_dict": state, "config": _canonical(config), "summary": summary_text,
                          "train_seconds": train_seconds, "device": str(dev)}, path)
            model.eval()
            info = {"trained": True, "seconds": train_seconds, "train_seconds": train_seconds, "path": str(path),
                    "summary": summary}
            if verbose:
                print(f"{name}: trained in {train_seconds:.1f} s on {dev} and cached (the next call loads it)")
    model.cache_info = info
    return model


# ------------------------------------------------------------------------------------------- shipped checkpoints
def checkpoint_dir() -> Path:
    """The package's folder of shipped checkpoints, ``dlcourse/checkpoints``."""
    return Path(__file__).resolve().parent / "checkpoints"


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _known_sums() -> dict[str, str]:
    sums = checkpoint_dir() / "SHA256SUMS"
    if not sums.exists():
        return {}
    pairs = (line.split() for line in sums.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {file: digest for digest, file in pairs}


def shipped_checkpoint(name: str) -> dict:
    """Load ``dlcourse/checkpoints/<name>.pt`` (on the CPU) after checking its sha256 against ``SHA256SUMS``.

    Raises ``FileNotFoundError`` when the package has no such checkpoint and ``ValueError`` when the file does not
    match its recorded hash (a damaged or replaced file is never loaded).
    """
    file = f"{name}.pt"
    path = checkpoint_dir() / file
    sums = _known_sums()
    if not path.exists() or file not in sums:
        have = sorted(sums) or ["none"]
        raise FileNotFoundError(f"the package ships no checkpoint {file!r} (it has: {', '.join(have)})")
    actual = sha256_file(path)
    if actual != sums[file]:
        raise ValueError(f"checkpoint {file} has sha256 {actual}, expected {sums[file]}: the file is damaged or was "
                         "replaced; reinstall the package or run the script in scripts/ that makes it")
    return torch.load(path, map_location="cpu", weights_only=True)


def save_checkpoint(obj: dict, name: str) -> Path:
    """Write ``obj`` as ``dlcourse/checkpoints/<name>.pt`` and record its sha256 (for the scripts in ``scripts/``).

    Refuses files over :data:`CHECKPOINT_MAX_BYTES`: checkpoints travel inside the package.
    """
    folder = checkpoint_dir()
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.pt"
    _atomic_save(obj, path)
    size = path.stat().st_size
    if size > CHECKPOINT_MAX_BYTES:
        path.unlink()
        raise ValueError(f"checkpoint {name} is {size / 2**20:.1f} MiB; the package ships at most "
                         f"{CHECKPOINT_MAX_BYTES / 2**20:.0f} MiB per file")
    sums = _known_sums()
    sums[path.name] = sha256_file(path)
    (folder / "SHA256SUMS").write_text("".join(f"{d}  {f}\n" for f, d in sorted(sums.items())))
    return path
