"""Train the 28 px digit denoiser that ships as ``dlcourse/checkpoints/diffusion28.pt`` (Notes §4.4).

The page on diffusion (chapters/04_generative/diffusion.md) trains a 16 px model live in a minute; a 28 px model
needs longer than a page's budget on a CPU, so this script trains it with the same code
(:func:`dlcourse.generative.train_diffusion`, :data:`dlcourse.generative.DIFFUSION28_CONFIG`, fixed seed) and writes
the EMA weights with their sha256:

    OMP_NUM_THREADS=1 python scripts/train_diffusion28.py            # 12,000 steps (about 10 min on one core)
    python scripts/train_diffusion28.py --steps 200 --name scratch   # a quick check that the script runs
"""
from __future__ import annotations

import argparse
import time

import torch

from dlcourse.cache import save_checkpoint
from dlcourse.generative.diffusion_train import (DIFFUSION28_CONFIG, _train_from_config, build_diffusion_unet)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=DIFFUSION28_CONFIG["steps"])
    parser.add_argument("--name", default="diffusion28", help="checkpoint name (dlcourse/checkpoints/<name>.pt)")
    args = parser.parse_args()
    config = {**DIFFUSION28_CONFIG, "steps": args.steps}
    torch.set_num_threads(1)
    start = time.perf_counter()
    model = build_diffusion_unet(config)
    summary = _train_from_config(model, config, progress=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    path = save_checkpoint({"state_dict": state, "config": config, "summary": summary}, args.name)
    print(f"trained {config['steps']} steps in {time.perf_counter() - start:.0f} s; final loss "
          f"{summary['losses'][-1]:.4f}; wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
