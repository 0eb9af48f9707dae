"""Train the sample judge and write ``dlcourse/checkpoints/judge.pt`` (with its sha256 in ``SHA256SUMS``).

    python scripts/train_judge.py

Fixed seed and the package's own code (:func:`dlcourse.generative.judge.train_judge`); trained on the MNIST-5k
training split, so the test split stays unseen. Prints the judge's scores on held-out digits and on non-digits.
"""
import time

import torch

from dlcourse.cache import save_checkpoint, shipped_checkpoint
from dlcourse.data import load_mnist5k
from dlcourse.generative import judge_score
from dlcourse.generative.judge import non_digits, train_judge
from dlcourse.vision.small_cnn import DigitCNN


def main() -> None:
    torch.manual_seed(0)
    X, y = load_mnist5k("train")
    model = DigitCNN(num_classes=11)
    start = time.perf_counter()
    losses = train_judge(model, X, y, epochs=12, seed=0)
    model.eval()
    path = save_checkpoint({"state_dict": {k: v.cpu() for k, v in model.state_dict().items()}, "losses": losses},
                           "judge")
    print(f"trained in {time.perf_counter() - start:.0f} s; wrote {path} ({path.stat().st_size / 2**20:.2f} MiB)")
    shipped_checkpoint("judge")
    Xt, yt = load_mnist5k("test")
    score = judge_score(Xt, device="cpu")
    right = ((score.labels == yt).float().mean().item())
    print(f"held-out digits: {score}; confident and right: {100 * right:.1f} %")
    noise = non_digits(1000, Xt, torch.Generator().manual_seed(1))
    print(f"non-digits: {judge_score(noise, device='cpu')}")
    print(f"uniform noise: {judge_score(torch.rand(500, 1, 28, 28), device='cpu')}")
    blend = 0.5 * Xt[:500] + 0.5 * Xt[500:]
    print(f"50/50 blends of two test digits: {judge_score(blend, device='cpu')}")


if __name__ == "__main__":
    main()
