"""Timing of the from-scratch :func:`~dlcourse.vision.conv2d` against ``F.conv2d`` (Notes §3.1)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from dlcourse.timing import timeit
from dlcourse.vision import conv2d

__all__ = ["benchmark_conv2d"]


def benchmark_conv2d(batch_size: int = 8, channels: int = 64, size: int = 56, kernel: int = 3,
                     device: torch.device | str | None = None, min_time: float = 1.0) -> dict[str, float]:
    """Median seconds of forward and forward+backward for ``conv2d`` and ``F.conv2d`` and their ratios.

    Default problem: an 8×64×56×56 input, 64 filters of 3×3, padding 1. Returns a dict with keys
    ``scratch_fwd, torch_fwd, scratch_fwd_bwd, torch_fwd_bwd, ratio_fwd, ratio_fwd_bwd`` (ratio = scratch / torch).
    """
    dev = torch.device(device) if device is not None else torch.device("cpu")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, channels, size, size, generator=gen).to(dev).requires_grad_()
    w = (torch.randn(channels, channels, kernel, kernel, generator=gen) * 0.05).to(dev).requires_grad_()
    pad = kernel // 2

    def fwd(f):
        with torch.no_grad():
            return f(x, w, padding=pad)

    def fwd_bwd(f):
        y = f(x, w, padding=pad)
        return torch.autograd.grad(y, (x, w), torch.ones_like(y))

    res = {}
    for name, f in (("scratch", conv2d), ("torch", F.conv2d)):
        for mode, fn in (("fwd", fwd), ("fwd_bwd", fwd_bwd)):
            res[f"{name}_{mode}"] = timeit(lambda fn=fn, f=f: fn(f), device=dev, min_time=min_time)
    res["ratio_fwd"] = res["scratch_fwd"] / res["torch_fwd"]
    res["ratio_fwd_bwd"] = res["scratch_fwd_bwd"] / res["torch_fwd_bwd"]
    return res


if __name__ == "__main__":  # python benchmarks/conv_bench.py
    for key, value in benchmark_conv2d().items():
        print(f"{key:16s} {value:.4f}")
