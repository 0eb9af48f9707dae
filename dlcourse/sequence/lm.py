"""Character language models on the course's English text (Notes §5.3): a decoder-only Transformer and an LSTM of
the same training budget, both trained once through :func:`dlcourse.cache.cached_model` and reused by the
attention view.

Quality is measured in bits per character on the validation text, −(1/N) Σ log₂ p(c_t | c_<t): 0 would be perfect
prediction; a uniform guess over the 103 characters costs log₂ 103 ≈ 6.7 bits.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._utils import check_positive_int, check_tensor
from .text import char_corpus, random_windows
from .transformer import DecoderOnlyLM

__all__ = ["CharLSTM", "train_char_model", "bits_per_char", "sample", "char_transformer", "char_lstm", "LM_CONFIG",
           "FULL_STEPS", "build_char_model", "pretrained_char_model"]

LM_CONFIG = {"batch_size": 16, "context": 64, "lr": 3e-3, "seed": 0}
"""The training recipe shared by the two character models: Adam, cosine decay to 0, the same batches."""

FULL_STEPS = 3000
"""Steps of the full recipe: the Transformer page trains it live (under a minute on 2 CPU cores); the shipped
checkpoints of ``scripts/train_char_models.py`` are the same recipe, run once elsewhere."""


class CharLSTM(nn.Module):
    """Embedding → one ``nn.LSTM`` layer → linear head: ids (B, n) → next-character logits (B, n, vocab)."""

    def __init__(self, vocab_size: int, hidden: int = 256, embed: int = 64):
        super().__init__()
        self.embed = nn.Embedding(check_positive_int(vocab_size, "vocab_size"), check_positive_int(embed, "embed"))
        self.lstm = nn.LSTM(embed, check_positive_int(hidden, "hidden"), batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        check_tensor(ids, "ids", ndim=2)
        out, _ = self.lstm(self.embed(ids))
        return self.head(out)


def train_char_model(model: nn.Module, train_ids: torch.Tensor, steps: int, batch_size: int, context: int,
                     lr: float, seed: int = 0, progress: bool = True) -> list[float]:
    """Train a next-character model with Adam (cosine decay, clipping at norm 1) on random windows of
    ``train_ids``; returns the training loss in bits per character, averaged every 50 steps."""
    from tqdm.auto import tqdm

    dev = next(model.parameters()).device
    ids = train_ids.to(dev)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    model.train()
    curve, running = [], 0.0
    for step in tqdm(range(check_positive_int(steps, "steps")), desc=type(model).__name__, disable=not progress,
                     mininterval=1.0):
        X, Y = random_windows(ids, batch_size, context, gen)
        loss = nn.functional.cross_entropy(model(X).flatten(0, 1), Y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running += loss.item()
        if (step + 1) % 50 == 0:
            curve.append(running / 50 / math.log(2))
            running = 0.0
    model.eval()
    return curve


@torch.no_grad()
def bits_per_char(model: nn.Module, ids: torch.Tensor, context: int, max_windows: int | None = None,
                  stride: int | None = None) -> float:
    """Bits per character of ``model`` on ``ids`` (Notes §5.3), −(1/N) Σ log₂ p(c_t | c_<t).

    ``stride=None``: consecutive, non-overlapping windows of ``context`` characters; a prediction sees only the
    earlier characters of its window (on average about context / 2). ``stride=s``: windows every ``s`` characters,
    each scoring only its last ``s`` predictions (the first window scores all of them), so that every character but
    the first ``context − s`` is predicted from at least ``context − s`` characters before it (a sliding evaluation).
    """
    context = check_positive_int(context, "context")
    stride = context if stride is None else check_positive_int(stride, "stride")
    if stride > context:
        raise ValueError(f"stride must be at most context={context}, got {stride}")
    if ids.dim() != 1 or len(ids) <= context:
        raise ValueError(f"ids must be a 1-D tensor longer than context={context}, got shape {tuple(ids.shape)}")
    dev = next(model.parameters()).device
    starts = torch.arange(0, len(ids) - context, stride)
    if max_windows is not None:
        starts = starts[: check_positive_int(max_windows, "max_windows")]
    offsets = torch.arange(context)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for k in range(0, len(starts), 256):
        rows = starts[k:k + 256, None] + offsets
        X, Y = ids[rows].to(dev), ids[rows + 1].to(dev)
        nll = nn.functional.cross_entropy(model(X).flatten(0, 1), Y.flatten(), reduction="none").view(len(X), context)
        keep = torch.zeros_like(nll, dtype=torch.bool)
        keep[:, context - stride:] = True
        if k == 0:
            keep[0] = True                                 # the first window has no earlier window to rely on
        total += nll[keep].sum().item()
        count += int(keep.sum())
    model.train(was_training)
    return total / count / math.log(2)


@torch.no_grad()
def sample(model: nn.Module, vocab, prompt: str, length: int, temperature: float = 1.0, context: int = 64,
           seed: int = 0) -> str:
    """Continue ``prompt`` by ``length`` characters drawn from softmax(logits / temperature), feeding each one back
    (the model sees at most the last ``context`` characters)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    dev = next(model.parameters()).device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    ids = vocab.encode(prompt).tolist()
    model.eval()
    for _ in range(check_positive_int(length, "length")):
        x = torch.tensor([ids[-context:]], device=dev)
        probs = torch.softmax(model(x)[0, -1].float().cpu() / temperature, dim=-1)
        ids.append(int(torch.multinomial(probs, 1, generator=gen)))
    return vocab.decode(ids)


def _corpus():
    return char_corpus(0.1)


def build_char_model(kind: str, vocab_size: int) -> nn.Module:
    """A fresh character model, seeded: ``"transformer"`` (decoder-only, 2 layers, d_model 128, 4 heads, d_ff 256,
    context 64) or ``"lstm"`` (one layer of 256, embedding 64)."""
    torch.manual_seed(LM_CONFIG["seed"])
    if kind == "transformer":
        return DecoderOnlyLM(vocab_size, d_model=128, num_heads=4, num_layers=2, d_ff=256, context=LM_CONFIG["context"])
    if kind == "lstm":
        return CharLSTM(vocab_size, hidden=256, embed=64)
    raise ValueError(f"kind must be 'transformer' or 'lstm', got {kind!r}")


def _cached(kind: str, steps: int, device, verbose: bool):
    from ..cache import cached_model

    vocab, train_ids, _ = _corpus()
    config = dict(LM_CONFIG, model=kind, vocab=len(vocab), steps=check_positive_int(steps, "steps"))

    def build():
        return build_char_model(config["model"], config["vocab"])

    def train(model):
        return {"curve": train_char_model(model, train_ids, config["steps"], config["batch_size"],
                                          config["context"], config["lr"], config["seed"])}

    return cached_model(f"char_{kind}", build, train, config, device=device, verbose=verbose)


def char_transformer(steps: int = 400, device=None, verbose: bool = True) -> DecoderOnlyLM:
    """The decoder-only character Transformer of :func:`build_char_model` trained for ``steps`` steps of
    :data:`LM_CONFIG` through :func:`dlcourse.cache.cached_model` (trained once, then loaded)."""
    return _cached("transformer", steps, device, verbose)


def char_lstm(steps: int = 400, device=None, verbose: bool = True) -> CharLSTM:
    """The character LSTM of :func:`build_char_model`, same budget as :func:`char_transformer`, cached."""
    return _cached("lstm", steps, device, verbose)


def pretrained_char_model(kind: str, device=None) -> nn.Module:
    """The character model of ``kind`` trained for :data:`FULL_STEPS` steps by ``scripts/train_char_models.py``
    (same code, same seed) and shipped as a checkpoint; ``model.checkpoint_info`` holds its training summary
    (steps, seconds, validation bits per character, the loss curve)."""
    from .._utils import device as default_device
    from ..cache import shipped_checkpoint

    ckpt = shipped_checkpoint(f"char_{kind}")
    model = build_char_model(kind, ckpt["vocab_size"])
    model.load_state_dict(ckpt["state_dict"])
    model.to(device if device is not None else default_device()).eval()
    model.checkpoint_info = {k: v for k, v in ckpt.items() if k != "state_dict"}
    return model
