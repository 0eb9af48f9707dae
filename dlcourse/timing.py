"""One timing helper for the pages and the benchmarks: the median wall time of a call, with CUDA synchronised."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch

from ._utils import check_positive_int

__all__ = ["timeit", "synchronize"]


def synchronize(device: torch.device | str | None = None) -> None:
    """Wait for queued GPU work (CUDA kernels run asynchronously: without this, a timer measures only the launch)."""
    dev = torch.device(device) if device is not None else None
    if (dev is None or dev.type == "cuda") and torch.cuda.is_available():
        torch.cuda.synchronize(dev)
    elif dev is not None and dev.type == "mps":
        torch.mps.synchronize()


def timeit(fn: Callable[[], object], repeat: int = 5, warmup: int = 1, number: int = 1,
           device: torch.device | str | None = None, min_time: float = 0.0) -> float:
    """Median seconds of one call of ``fn()`` over ``repeat`` timed rounds of ``number`` calls each.

    ``warmup`` untimed calls come first (the first call of an operator allocates and picks kernels). The device is
    synchronised before and after every round, so GPU work is counted. With ``min_time`` > 0, rounds go on until
    that many seconds were timed in all (at least ``repeat`` of them): steadier figures for fast calls.
    """
    repeat, number = check_positive_int(repeat, "repeat"), check_positive_int(number, "number")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")
    if not callable(fn):
        raise TypeError(f"fn must be callable with no arguments, got {type(fn).__name__}")
    for _ in range(warmup):
        fn()
    rounds: list[float] = []
    while len(rounds) < repeat or sum(rounds) * number < min_time:
        synchronize(device)
        start = time.perf_counter()
        for _ in range(number):
            fn()
        synchronize(device)
        rounds.append((time.perf_counter() - start) / number)
        if len(rounds) >= 10_000:
            break
    return statistics.median(rounds)
