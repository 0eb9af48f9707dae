"""Train the two character models of Part 5 for the full budget and ship them as checkpoints (Notes §5.3).

    python scripts/train_char_models.py [transformer] [lstm]

Uses the package's own recipe (``dlcourse.sequence.lm``: ``build_char_model``, ``train_char_model``, ``LM_CONFIG``,
``FULL_STEPS``) with its fixed seed on the CPU, then writes ``dlcourse/checkpoints/char_<kind>.pt`` with the
validation bits per character, the loss curve and the training time (``save_checkpoint`` records the sha256).
"""
from __future__ import annotations

import sys
import time

import torch

from dlcourse.cache import save_checkpoint
from dlcourse.sequence.lm import FULL_STEPS, LM_CONFIG, bits_per_char, build_char_model, train_char_model
from dlcourse.sequence.text import char_corpus


def main(kinds: list[str]) -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    vocab, train_ids, val_ids = char_corpus(0.1)
    for kind in kinds:
        model = build_char_model(kind, len(vocab))
        start = time.perf_counter()
        curve = train_char_model(model, train_ids, FULL_STEPS, LM_CONFIG["batch_size"], LM_CONFIG["context"],
                                 LM_CONFIG["lr"], LM_CONFIG["seed"])
        seconds = time.perf_counter() - start
        val = bits_per_char(model, val_ids, LM_CONFIG["context"])
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        path = save_checkpoint({"state_dict": state, "kind": kind, "vocab_size": len(vocab), "steps": FULL_STEPS,
                                "config": dict(LM_CONFIG), "val_bpc": val, "curve": curve,
                                "train_seconds": seconds, "torch": str(torch.__version__)}, f"char_{kind}")
        print(f"{kind}: {FULL_STEPS} steps in {seconds:.0f} s, validation {val:.3f} bits per character -> {path}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["transformer", "lstm"])
