"""Deterministic sequence tasks (Notes §5): the same seed gives the same data on every machine.

- :func:`lag_task`: the answer is the symbol ``k`` steps back (a fixed window of ``w`` past symbols sees it iff k ≤ w).
- :func:`adding_problem`: sum the two marked numbers of a long sequence (the classic long-range test of an RNN).
- :func:`copy_task`, :func:`reverse_task`: sequence-to-sequence pairs (source, target).
- :func:`majority_task`: a property of a whole sequence, for a classifier.
"""
from __future__ import annotations

import torch

from .._utils import check_positive_int

__all__ = ["lag_task", "adding_problem", "copy_task", "reverse_task", "majority_task"]


def _gen(seed: int) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    return torch.Generator().manual_seed(seed)


def lag_task(n: int, length: int, k: int, vocab: int = 4, seed: int = 0):
    """Random symbols whose label is the symbol ``k`` steps before the end (Notes §5.1).

    Returns ``(X, y)``: ``X`` int64 (n, length) of symbols in ``0..vocab-1`` and ``y`` int64 (n,) equal to
    ``X[:, length - k]``: with ``k = 1`` the label is the last symbol, with ``k = length`` the first. A model that
    reads only the last ``w`` symbols sees the answer exactly when ``k ≤ w``; otherwise it can only guess (accuracy
    ``1 / vocab``).
    """
    n, length, k, vocab = (check_positive_int(v, name) for v, name in
                           ((n, "n"), (length, "length"), (k, "k"), (vocab, "vocab")))
    if k > length:
        raise ValueError(f"k must be at most the sequence length {length}, got {k}")
    X = torch.randint(0, vocab, (n, length), generator=_gen(seed))
    return X, X[:, length - k].clone()


def adding_problem(n: int, length: int, seed: int = 0):
    """The adding problem of Hochreiter & Schmidhuber (1997): inputs (n, length, 2), targets (n,).

    Channel 0 holds numbers drawn uniformly from [0, 1]; channel 1 marks two of them with 1 (one in the first half of
    the sequence, one in the second). The target is the sum of the two marked numbers. Predicting the mean, 1, has a
    mean squared error of 1/6 ≈ 0.167 (the variance of a sum of two uniforms); a model that solves the task does
    much better, and it has to carry the first number across up to ``length`` steps.
    """
    n = check_positive_int(n, "n")
    length = check_positive_int(length, "length")
    if length < 2:
        raise ValueError(f"length must be at least 2 (two marked numbers), got {length}")
    gen = _gen(seed)
    values = torch.rand(n, length, generator=gen)
    half = length // 2
    first = torch.randint(0, half, (n,), generator=gen)
    second = torch.randint(half, length, (n,), generator=gen)
    marks = torch.zeros(n, length)
    rows = torch.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    X = torch.stack([values, marks], dim=-1)
    y = values[rows, first] + values[rows, second]
    return X, y


def copy_task(n: int, length: int, vocab: int = 10, seed: int = 0):
    """Pairs ``(source, target)`` of int64 (n, length) with ``target == source`` (symbols in ``0..vocab-1``)."""
    n, length = check_positive_int(n, "n"), check_positive_int(length, "length")
    vocab = check_positive_int(vocab, "vocab")
    src = torch.randint(0, vocab, (n, length), generator=_gen(seed))
    return src, src.clone()


def reverse_task(n: int, length: int, vocab: int = 10, seed: int = 0):
    """Pairs ``(source, target)`` of int64 (n, length) with ``target = source`` read backwards."""
    src, _ = copy_task(n, length, vocab, seed)
    return src, src.flip(1)


def majority_task(n: int, length: int, seed: int = 0):
    """Binary sequences (n, length) of int64 and the label 1 where ones outnumber zeros (``length`` must be odd).

    The share of ones of each sequence is drawn uniformly, so easy (all ones) and hard (one vote apart) sequences
    both occur; the label depends on every position, not on a local pattern.
    """
    n, length = check_positive_int(n, "n"), check_positive_int(length, "length")
    if length % 2 == 0:
        raise ValueError(f"length must be odd (no ties), got {length}")
    gen = _gen(seed)
    p = torch.rand(n, 1, generator=gen)
    X = (torch.rand(n, length, generator=gen) < p).long()
    return X, (X.sum(1) * 2 > length).long()
