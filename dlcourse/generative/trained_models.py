"""The trained generative models the pages share, trained once and cached (:func:`dlcourse.cache.cached_model`).

``trained_vae`` (the VAE of Notes §4.1, reused by §4.5), ``trained_gan`` (the DCGAN of §4.2) and ``trained_flow``
(the coupling flow of §4.3 on two moons) are registered under ``"vae"``, ``"gan"`` and ``"flow"`` for
:func:`dlcourse.generative.trained`. Each one's settings are its config: change one and it is trained again.
"""
from __future__ import annotations

import torch

from ..cache import cached_model
from ..data import load_mnist5k
from .flows import CouplingFlow
from .gan import Discriminator, Generator, train_gan
from .toy2d import two_moons
from .vae import VAE, train_vae

__all__ = ["VAE_CONFIG", "GAN_CONFIG", "FLOW_CONFIG", "trained_vae", "trained_gan", "trained_flow", "train_flow"]

VAE_CONFIG = {"latent_dim": 16, "hidden": 256, "epochs": 120, "lr": 3e-3, "batch_size": 128, "beta": 1.0}
GAN_CONFIG = {"latent_dim": 32, "width": 32, "steps": 1200, "batch_size": 64, "lr": 2e-3, "real_label": 0.9}
FLOW_CONFIG = {"n_layers": 6, "hidden": 64, "steps": 800, "batch_size": 256, "lr": 3e-3, "n_points": 4000}


def trained_vae(seed: int = 0, device: torch.device | str | None = None, retrain: bool = False, **overrides) -> VAE:
    """The VAE of Notes §4.1 trained on the MNIST-5k ``"train"`` digits (BCE reconstruction + KL, Adam).

    ``seed`` fixes the initialisation and the batches (§4.5 compares two seeds); ``overrides`` change entries of
    :data:`VAE_CONFIG`. ``model.cache_info["summary"]`` holds the per-epoch loss, reconstruction and KL.
    """
    config = {**VAE_CONFIG, **overrides, "seed": int(seed)}
    unknown = set(config) - set(VAE_CONFIG) - {"seed"}
    if unknown:
        raise ValueError(f"unknown VAE settings {sorted(unknown)}; known: {sorted(VAE_CONFIG)}")

    def build() -> VAE:
        torch.manual_seed(config["seed"])
        return VAE(config["latent_dim"], config["hidden"])

    def train(model: VAE) -> dict:
        X, _ = load_mnist5k("train")
        return train_vae(model, X, epochs=config["epochs"], lr=config["lr"], beta=config["beta"],
                         batch_size=config["batch_size"], seed=config["seed"])

    name = "vae" if seed == 0 and not overrides else f"vae_seed{seed}"
    return cached_model(name, build, train, config, device=device, retrain=retrain)


class _GANPair(torch.nn.Module):
    """Generator and discriminator saved together; ``sample`` is the generator's."""

    def __init__(self, latent_dim: int, width: int) -> None:
        super().__init__()
        self.G = Generator(latent_dim, width)
        self.D = Discriminator(width)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.G(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.G.sample(n, generator)


def trained_gan(seed: int = 0, device: torch.device | str | None = None, retrain: bool = False) -> torch.nn.Module:
    """The DCGAN of Notes §4.2 trained on the MNIST-5k ``"train"`` digits (non-saturating loss, Adam β = (0.5, 0.999),
    one-sided label smoothing: the real images' target is ``GAN_CONFIG["real_label"]``).

    ``seed`` fixes the initialisation and the batches (``trained("gan")`` is seed 0; other seeds measure the spread).
    Returns a module with ``G`` (a :class:`Generator`), ``D`` (a :class:`Discriminator`) and ``sample(n, generator)``;
    ``cache_info["summary"]`` holds the per-step losses.
    """
    config = {**GAN_CONFIG, "seed": int(seed)}

    def build() -> _GANPair:
        torch.manual_seed(config["seed"])
        return _GANPair(config["latent_dim"], config["width"])

    def train(pair: _GANPair) -> dict:
        X, _ = load_mnist5k("train")
        hist = train_gan(pair.G, pair.D, X, steps=config["steps"], batch_size=config["batch_size"], lr=config["lr"],
                         betas=(0.5, 0.999), real_label=config["real_label"], seed=config["seed"])
        return {"d_loss": hist["d_loss"], "g_loss": hist["g_loss"]}

    name = "gan" if seed == 0 else f"gan_seed{seed}"
    return cached_model(name, build, train, config, device=device, retrain=retrain)


def train_flow(flow: CouplingFlow, X: torch.Tensor, steps: int = 800, batch_size: int = 256, lr: float = 3e-3,
               seed: int = 0, progress: bool = True) -> list[float]:
    """Maximum likelihood for a flow (Notes §4.3): Adam on −mean log p(x) over random batches of ``X`` (N, dim).
    Returns the loss (negative log-likelihood per point, in nats) of every step."""
    from tqdm.auto import tqdm

    if not isinstance(flow, CouplingFlow):
        raise TypeError(f"flow must be a CouplingFlow, got {type(flow).__name__}")
    dev = next(flow.parameters()).device
    X = X.to(dev)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = []
    flow.train()
    for _ in tqdm(range(steps), desc="flow", disable=not progress, leave=False):
        xb = X[torch.randint(len(X), (batch_size,), generator=gen).to(dev)]
        loss = -flow.log_prob(xb).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    flow.eval()
    return losses


def trained_flow(device: torch.device | str | None = None, retrain: bool = False) -> CouplingFlow:
    """The coupling flow of Notes §4.3 fitted to 4,000 points of :func:`two_moons` by maximum likelihood."""
    config = dict(FLOW_CONFIG)

    def build() -> CouplingFlow:
        torch.manual_seed(0)
        return CouplingFlow(2, config["n_layers"], config["hidden"])

    def train(flow: CouplingFlow) -> dict:
        X = two_moons(config["n_points"], seed=0)
        losses = train_flow(flow, X, config["steps"], config["batch_size"], config["lr"])
        return {"loss": losses}

    return cached_model("flow", build, train, config, device=device, retrain=retrain)
