"""The character corpus (Notes §5.3, the language model): English text split into train and validation, encoded as
integers, with the unigram and bigram baselines a language model has to beat.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .._utils import check_positive_int
from ..data import load_text

__all__ = ["CharVocab", "char_corpus", "random_windows", "unigram_bits", "bigram_bits"]


@dataclass
class CharVocab:
    """The characters of a text, sorted; ``encode`` maps a string to int64 ids, ``decode`` the other way."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return torch.tensor([index[c] for c in text], dtype=torch.long)
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the vocabulary of {len(self)} characters") from None

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def char_corpus(val_fraction: float = 0.1, max_chars: int | None = None):
    """The course's English text (:func:`dlcourse.data.load_text`, about 465k characters), split in two.

    Returns ``(vocab, train_ids, val_ids)``: the :class:`CharVocab` of the whole text and two int64 tensors. The
    split is contiguous: the last ``val_fraction`` of the text is the validation text, never seen in training
    (a random split of windows would put overlapping windows on both sides).
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    text = load_text(max_chars)
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    cut = int(round(len(ids) * (1.0 - val_fraction)))
    return vocab, ids[:cut], ids[cut:]


def random_windows(ids: torch.Tensor, batch_size: int, context: int, generator: torch.Generator | None = None):
    """A batch of ``batch_size`` random windows: inputs ``ids[s:s+context]`` and targets shifted by one, both
    (batch_size, context) int64, on the device of ``ids``."""
    batch_size, context = check_positive_int(batch_size, "batch_size"), check_positive_int(context, "context")
    if ids.dim() != 1 or len(ids) <= context:
        raise ValueError(f"ids must be a 1-D tensor longer than context={context}, got shape {tuple(ids.shape)}")
    start = torch.randint(0, len(ids) - context, (batch_size,), generator=generator).to(ids.device)
    offsets = torch.arange(context, device=ids.device)
    X = ids[start[:, None] + offsets]
    return X, ids[start[:, None] + offsets + 1]


def unigram_bits(train_ids: torch.Tensor, val_ids: torch.Tensor, vocab_size: int, smoothing: float = 1.0) -> float:
    """Bits per character on ``val_ids`` of character frequencies counted on ``train_ids`` (add-``smoothing``)."""
    counts = torch.bincount(train_ids.cpu(), minlength=vocab_size).double() + smoothing
    logp = (counts / counts.sum()).log2()
    return float(-logp[val_ids.cpu()].mean())


def bigram_bits(train_ids: torch.Tensor, val_ids: torch.Tensor, vocab_size: int, smoothing: float = 1.0) -> float:
    """Bits per character on ``val_ids`` of P(next | current) counted on ``train_ids`` (add-``smoothing``)."""
    a, b = train_ids[:-1].cpu(), train_ids[1:].cpu()
    counts = torch.bincount(a * vocab_size + b, minlength=vocab_size ** 2).double().view(vocab_size, vocab_size)
    counts += smoothing
    logp = (counts / counts.sum(1, keepdim=True)).log2()
    v = val_ids.cpu()
    return float(-logp[v[:-1], v[1:]].mean())
