"""The variational autoencoder (Notes §4.1): the KL term, the reparameterisation trick, an MLP VAE and its loss.

The encoder maps an image X to the mean μ(X) and the log-variance log σ²(X) of a diagonal Gaussian Q(z|X); the
decoder maps a latent code z back to an image. Training minimises, per image,

    reconstruction(X, X̂) + β · KL[ N(μ, σ²) ‖ N(0, I) ],

and generation decodes z ~ N(0, I) (Notes §4.1.2).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._utils import check_positive_int, check_tensor

__all__ = ["kl_divergence", "reparameterize", "VAE", "vae_loss", "train_vae"]


def _check_mu_logvar(mu, logvar) -> None:
    check_tensor(mu, "mu", ndim=2, floating=True)
    check_tensor(logvar, "logvar", ndim=2, floating=True)
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape (N, latent_dim), got {tuple(mu.shape)} and "
                         f"{tuple(logvar.shape)}")


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""KL divergence of the diagonal Gaussian :math:`\mathcal N(\mu, \operatorname{diag}\sigma^2)` from the standard
    normal, per sample and summed over the latent dimensions (Notes §4.1.1):

    .. math:: \mathrm{KL} = \tfrac12 \sum_j \big(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1\big)

    Shape: ``mu``, ``logvar`` (N, D) with ``logvar`` = :math:`\log\sigma^2`; output (N,).
    """
    _check_mu_logvar(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(dim=1)  # ½ Σ_j (μ² + σ² − log σ² − 1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Draw :math:`z = \mu + \sigma \odot \varepsilon`, :math:`\varepsilon \sim \mathcal N(0, I)`, so that gradients
    flow to ``mu`` and ``logvar`` through a sample (Notes §4.1.1).

    Shape: ``mu``, ``logvar`` (N, D); output (N, D) on their device. ``generator``: a ``torch.Generator`` on the CPU
    (the noise is drawn there and moved, so a seed gives the same z on every device) or on ``mu``'s device.
    """
    _check_mu_logvar(mu, logvar)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    gen_device = generator.device if generator is not None else mu.device
    eps = torch.randn(mu.shape, generator=generator, device=gen_device, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps  # σ = exp(½ log σ²)


class VAE(nn.Module):
    """An MLP variational autoencoder for images (Notes §4.1).

    ``encoder``: flatten, Linear(C·H·W, hidden), ReLU, Linear(hidden, hidden), ReLU, then two heads giving μ and
    log σ² (each ``latent_dim``); ``decoder``: Linear(latent_dim, hidden), ReLU, Linear(hidden, hidden), ReLU,
    Linear(hidden, C·H·W), sigmoid, reshaped to the image. ``decoder="conv"`` (28×28 images only) replaces the
    decoder by a small convolutional one: Linear(latent_dim, hidden), ReLU, Linear(hidden, 32·7·7), ReLU, then two
    stride-2 transposed convolutions 7 → 14 → 28 (32 → 16 → C channels, ReLU between), sigmoid.
    The sigmoid output is the mean of the Bernoulli decoder; ``sample`` returns that mean, not drawn pixels.

    Shape: ``forward(x)`` with x (N, C, H, W) in [0, 1] returns ``(x_hat, mu, logvar)``: x_hat (N, C, H, W) in
    [0, 1], mu and logvar (N, latent_dim). ``sample(n, generator=None)`` decodes n codes drawn from N(0, I).
    """

    def __init__(self, latent_dim: int = 16, hidden: int = 400, image_shape: Sequence[int] = (1, 28, 28),
                 decoder: str = "mlp") -> None:
        super().__init__()
        self.latent_dim = check_positive_int(latent_dim, "latent_dim")
        hidden = check_positive_int(hidden, "hidden")
        if len(image_shape) != 3:
            raise ValueError(f"image_shape must be (C, H, W), got {tuple(image_shape)}")
        self.image_shape = tuple(check_positive_int(int(s), "image_shape") for s in image_shape)
        size = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(size, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                     nn.ReLU())
        self.to_mu = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)
        if decoder == "mlp":
            self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                         nn.ReLU(), nn.Linear(hidden, size))
        elif decoder == "conv":
            if self.image_shape[1:] != (28, 28):
                raise ValueError(f"decoder='conv' needs 28×28 images, got image_shape {self.image_shape}")
            c = self.image_shape[0]
            self.decoder = nn.Sequential(
                nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 32 * 7 * 7), nn.ReLU(),
                nn.Unflatten(1, (32, 7, 7)),
                nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),              # 7 → 14
                nn.ConvTranspose2d(16, c, 4, stride=2, padding=1), nn.Flatten())            # 14 → 28
        else:
            raise ValueError(f"decoder must be 'mlp' or 'conv', got {decoder!r}")

    def _check_images(self, x: torch.Tensor) -> None:
        check_tensor(x, "x", ndim=4, floating=True)
        if tuple(x.shape[1:]) != self.image_shape:
            raise ValueError(f"x must have shape (N, {', '.join(map(str, self.image_shape))}), got {tuple(x.shape)}")

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (N, C, H, W) -> ``(mu, logvar)``, each (N, latent_dim)."""
        self._check_images(x)
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent codes (N, latent_dim) -> images (N, C, H, W) in [0, 1]."""
        check_tensor(z, "z", ndim=2, floating=True)
        if z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return torch.sigmoid(self.decoder(z)).view(-1, *self.image_shape)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1] decoded from z ~ N(0, I) (Notes §4.1.2); ``generator`` on the CPU."""
        n = check_positive_int(n, "n")
        dev = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator).to(dev)
        return self.decode(z)


def vae_loss(x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0,
             reconstruction: str = "bce") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""The VAE loss averaged over the batch: reconstruction + β · KL (Notes §4.1.1).

    ``reconstruction="bce"``: the binary cross-entropy summed over pixels (a Bernoulli decoder);
    ``"mse"``: the squared distance :math:`\|X - \hat X\|^2` of the notes, summed over pixels.
    Returns ``(loss, reconstruction, kl)``, three scalars, each a mean over the batch of per-image sums.
    """
    check_tensor(x_hat, "x_hat", floating=True)
    check_tensor(x, "x", floating=True)
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat and x must have the same shape, got {tuple(x_hat.shape)} and {tuple(x.shape)}")
    if reconstruction not in ("bce", "mse"):
        raise ValueError(f"reconstruction must be 'bce' or 'mse', got {reconstruction!r}")
    if float(beta) < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    n = x.shape[0]
    if reconstruction == "bce":
        rec = F.binary_cross_entropy(x_hat, x, reduction="sum") / n
    else:
        rec = (x_hat - x).pow(2).sum() / n
    kl = kl_divergence(mu, logvar).mean()
    return rec + beta * kl, rec, kl


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Treat denormal floats as zero on the CPU inside the block, then restore the previous mode.

    Training a VAE drives some latent dimensions to the prior (posterior collapse): their gradients become tiny, and
    Adam's running averages of squared gradients fall below float32's smallest normal number. Arithmetic on such
    denormal numbers is many times slower on x86 CPUs, and a 120-epoch run became half again as slow towards its end.
    """
    was_on = torch.tensor([1e-323], dtype=torch.float64).item() == 0.0   # 1e-323 is denormal: read back as 0 when on
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was_on)


def train_vae(model: VAE, X: torch.Tensor, epochs: int = 20, lr: float = 1e-3, beta: float = 1.0,
              batch_size: int = 128, reconstruction: str = "bce", seed: int = 0, progress: bool = True) -> dict:
    """Train ``model`` in place on images ``X`` (N, C, H, W) in [0, 1] with Adam (Notes §4.1.1), denormal floats
    flushed to zero (:func:`flush_denormals`).

    Returns a dict of per-epoch curves ``loss``, ``reconstruction``, ``kl`` (means over the epoch's images).
    """
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a VAE, got {type(model).__name__}")
    model._check_images(X)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    from tqdm.auto import tqdm

    dev = next(model.parameters()).device
    X = X.to(dev)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    curves = {"loss": [], "reconstruction": [], "kl": []}
    model.train()
    with flush_denormals():
        for _ in tqdm(range(epochs), desc="VAE", disable=not progress, leave=False):
            perm = torch.randperm(len(X), generator=gen).to(dev)
            sums = torch.zeros(3)
            for i in range(0, len(X), batch_size):
                xb = X[perm[i:i + batch_size]]
                x_hat, mu, logvar = model(xb, generator=gen)
                loss, rec, kl = vae_loss(x_hat, xb, mu, logvar, beta, reconstruction)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sums += torch.stack([loss, rec, kl]).detach().cpu() * len(xb)
            for key, value in zip(curves, (sums / len(X)).tolist(), strict=True):
                curves[key].append(value)
    model.eval()
    return curves
