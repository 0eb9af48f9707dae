"""Questions of Part 4, generative models: the VAE's KL term and reparameterisation, the GAN losses, an affine
coupling layer (Notes §4.1-4.3).

The wrong answers are written without the forbidden operators (they are graded under the same ban as a student's
answer).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..registry import Case, Mistake, Question, register


def _int(gen: torch.Generator, low: int, high: int) -> int:
    return int(torch.randint(low, high + 1, (), generator=gen))


# ---------------------------------------------------------------------------------------------------------------------
# generative.kl_divergence(mu, logvar) -> (N,)


def _kl(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(dim=1)


def _mu_logvar_case(gen: torch.Generator) -> Case:
    n, d = _int(gen, 1, 5), _int(gen, 1, 6)
    return Case(torch.randn(n, d, generator=gen), torch.randn(n, d, generator=gen))


_g = torch.Generator().manual_seed(4)
register(Question(
    qid="generative.kl_divergence",
    reference=_kl,
    cases=[Case(torch.zeros(2, 3), torch.zeros(2, 3), label="the prior itself: mu = 0, logvar = 0 (KL = 0)"),
           Case(torch.tensor([[0.0, 2.0]]), torch.zeros(1, 2), label="mu = (0, 2), unit variance"),
           Case(torch.zeros(1, 2), torch.tensor([[1.0, -1.0]]), label="zero mean, variances e and 1/e"),
           Case(torch.randn(4, 5, generator=_g), torch.randn(4, 5, generator=_g), label="4 samples, 5 latent dims"),
           Case(torch.randn(1, 1, generator=_g), torch.randn(1, 1, generator=_g), label="edge: one sample, one dim")],
    random_case=_mu_logvar_case,
    mistakes=[
        Mistake("no half", lambda mu, logvar: (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(dim=1),
                "The closed form has a factor 1/2 in front of the sum."),
        Mistake("log sigma", lambda mu, logvar: 0.5 * (mu.pow(2) + (2 * logvar).exp() - 2 * logvar - 1.0).sum(dim=1),
                "logvar is log(sigma^2), not log(sigma): sigma^2 = exp(logvar)."),
        Mistake("mean over dims", lambda mu, logvar: 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).mean(dim=1),
                "Sum over the latent dimensions (the KL of independent coordinates adds up); do not average."),
        Mistake("sign", lambda mu, logvar: -0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum(dim=1),
                "A KL divergence is never negative: it is +1/2 sum(mu^2 + sigma^2 - log sigma^2 - 1)."),
        Mistake("plus one", lambda mu, logvar: 0.5 * (mu.pow(2) + logvar.exp() - logvar + 1.0).sum(dim=1),
                "The constant is -1 per dimension, so that the KL is 0 at mu = 0, sigma = 1."),
    ],
    forbid=("dlcourse.generative.kl_divergence", "dlcourse.generative.vae.kl_divergence",
            "torch.distributions.kl_divergence", "torch.distributions.kl.kl_divergence"),
    rtol=1e-5, atol=1e-5,
))

# ---------------------------------------------------------------------------------------------------------------------
# generative.reparameterize(mu, logvar, eps) -> z


def _reparam(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def _reparam_case(gen: torch.Generator) -> Case:
    n, d = _int(gen, 1, 5), _int(gen, 1, 6)
    return Case(*(torch.randn(n, d, generator=gen) for _ in range(3)))


register(Question(
    qid="generative.reparameterize",
    reference=_reparam,
    cases=[Case(torch.tensor([[1.0, -2.0]]), torch.zeros(1, 2), torch.tensor([[0.5, 0.5]]),
                label="unit variance: z = mu + eps"),
           Case(torch.zeros(1, 2), torch.tensor([[2.0, -2.0]]), torch.ones(1, 2),
                label="zero mean, variances e^2 and e^-2"),
           Case(torch.randn(3, 4, generator=_g), torch.randn(3, 4, generator=_g), torch.randn(3, 4, generator=_g),
                label="3 samples, 4 latent dims"),
           Case(torch.randn(2, 3, generator=_g), torch.randn(2, 3, generator=_g), torch.zeros(2, 3),
                label="edge: eps = 0 gives the mean")],
    random_case=_reparam_case,
    mistakes=[
        Mistake("variance", lambda mu, logvar, eps: mu + torch.exp(logvar) * eps,
                "Scale eps by the standard deviation sigma = exp(logvar / 2), not by the variance."),
        Mistake("log sigma", lambda mu, logvar, eps: mu + torch.exp(2 * logvar) * eps,
                "logvar is log(sigma^2): sigma = exp(0.5 * logvar)."),
        Mistake("logvar as std", lambda mu, logvar, eps: mu + logvar * eps,
                "logvar is a log-variance; turn it into sigma = exp(0.5 * logvar) first."),
        Mistake("swapped", lambda mu, logvar, eps: eps + torch.exp(0.5 * logvar) * mu,
                "z = mu + sigma * eps: the noise is scaled, the mean is added."),
    ],
    forbid=("dlcourse.generative.reparameterize", "dlcourse.generative.vae.reparameterize"),
    rtol=1e-5, atol=1e-6,
))

# ---------------------------------------------------------------------------------------------------------------------
# generative.gan_losses(real_logits, fake_logits) -> (d_loss, g_loss)


def _gan_losses(real_logits, fake_logits):
    d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    g_loss = F.softplus(-fake_logits).mean()
    return d_loss, g_loss


def _logits_case(gen: torch.Generator) -> Case:
    return Case(3 * torch.randn(_int(gen, 1, 8), generator=gen), 3 * torch.randn(_int(gen, 1, 8), generator=gen))


register(Question(
    qid="generative.gan_losses",
    reference=_gan_losses,
    cases=[Case(torch.tensor([0.0]), torch.tensor([0.0]), label="D undecided: D(x) = D(G(z)) = 1/2"),
           Case(torch.tensor([4.0, 2.0, 3.0]), torch.tensor([-3.0, -5.0]), label="D winning: sure of every answer"),
           Case(torch.tensor([-1.0, 0.5]), torch.tensor([2.0, 1.0, -0.5]), label="D fooled on some samples"),
           Case(torch.tensor([20.0, -20.0]), torch.tensor([25.0]), label="edge: large logits (stay finite)")],
    random_case=_logits_case,
    mistakes=[
        Mistake("saturating", lambda r, f: (F.softplus(-r).mean() + F.softplus(f).mean(), -F.softplus(f).mean()),
                "The non-saturating generator loss is -log D(G(z)) = softplus(-l), not log(1 - D(G(z)))."),
        Mistake("labels swapped", lambda r, f: (F.softplus(r).mean() + F.softplus(-f).mean(), F.softplus(-f).mean()),
                "D should say 1 for real data: -log D(x) = softplus(-l_real), and -log(1 - D(G(z))) = "
                "softplus(l_fake)."),
        Mistake("sum", lambda r, f: (F.softplus(-r).sum() + F.softplus(f).sum(), F.softplus(-f).sum()),
                "Average over each batch (an expectation), do not sum."),
        Mistake("one mean", lambda r, f: (torch.cat([F.softplus(-r), F.softplus(f)]).mean(), F.softplus(-f).mean()),
                "V(D, G) has two expectations: average the real and the fake terms separately, then add them."),
        Mistake("probabilities", lambda r, f: _gan_losses(torch.sigmoid(r), torch.sigmoid(f)),
                "The inputs are logits l with D = sigmoid(l): use softplus(-l) = -log sigmoid(l) on the logits "
                "themselves."),
    ],
    forbid=("dlcourse.generative.discriminator_loss", "dlcourse.generative.generator_loss",
            "dlcourse.generative.gan.discriminator_loss", "dlcourse.generative.gan.generator_loss",
            "torch.nn.functional.binary_cross_entropy_with_logits", "torch.nn.functional.binary_cross_entropy"),
    rtol=1e-5, atol=1e-6,
))

# ---------------------------------------------------------------------------------------------------------------------
# generative.coupling_forward(x, mask, s, t) -> (y, log_det)


def _coupling(x, mask, s, t, *, all_coords=False, logdet_all=False, shift_first=False, neg=False, inverse=False):
    free = torch.ones_like(mask) if all_coords else 1 - mask
    scale = torch.exp(-s) if inverse else torch.exp(s)
    transformed = (x + t) * scale if shift_first else x * scale + t
    y = (1 - free) * x + free * transformed
    log_det = ((torch.ones_like(mask) if logdet_all else free) * s).sum(dim=1)
    return y, -log_det if neg else log_det


def _coupling_ref(x, mask, s, t):
    return _coupling(x, mask, s, t)


def _coupling_case(gen: torch.Generator) -> Case:
    n, d = _int(gen, 1, 5), _int(gen, 2, 5)
    mask = torch.zeros(d)
    mask[torch.randperm(d, generator=gen)[:_int(gen, 1, d - 1)]] = 1.0     # keep some, transform the others
    return Case(torch.randn(n, d, generator=gen), mask, torch.randn(n, d, generator=gen),
                torch.randn(n, d, generator=gen))


register(Question(
    qid="generative.coupling_forward",
    reference=_coupling_ref,
    cases=[Case(torch.tensor([[1.0, 2.0]]), torch.tensor([1.0, 0.0]), torch.tensor([[0.0, 1.0]]),
                torch.tensor([[0.0, 0.5]]), label="s = 1, t = 0.5 on the transformed second coordinate"),
           Case(torch.tensor([[1.0, 2.0], [-1.0, 0.0]]), torch.tensor([0.0, 1.0]),
                torch.tensor([[0.3, 0.7], [-0.2, 0.4]]), torch.tensor([[1.0, -1.0], [0.5, 2.0]]),
                label="the mask keeps the second coordinate (s and t are nonzero there too: ignore them)"),
           Case(torch.randn(3, 4, generator=_g), torch.tensor([1.0, 1.0, 0.0, 0.0]), torch.randn(3, 4, generator=_g),
                torch.randn(3, 4, generator=_g), label="4 coordinates, the first two kept"),
           Case(torch.randn(2, 3, generator=_g), torch.tensor([0.0, 1.0, 0.0]), torch.zeros(2, 3), torch.zeros(2, 3),
                label="edge: s = t = 0 is the identity with log-det 0")],
    random_case=_coupling_case,
    mistakes=[
        Mistake("all coordinates in log-det", lambda x, mask, s, t: _coupling(x, mask, s, t, logdet_all=True),
                "Only the transformed coordinates (mask 0) contribute s_j to the log-determinant."),
        Mistake("transforms kept coordinates", lambda x, mask, s, t: _coupling(x, mask, s, t, all_coords=True),
                "The kept coordinates (mask 1) pass unchanged: y = m * x + (1 - m) * (x * exp(s) + t)."),
        Mistake("shift then scale", lambda x, mask, s, t: _coupling(x, mask, s, t, shift_first=True),
                "Scale first, then shift: x * exp(s) + t."),
        Mistake("negative log-det", lambda x, mask, s, t: _coupling(x, mask, s, t, neg=True),
                "The forward map scales by exp(s), so log|det J| = +sum of s over the transformed coordinates."),
        Mistake("inverse scale", lambda x, mask, s, t: _coupling(x, mask, s, t, inverse=True),
                "The forward pass multiplies by exp(s); exp(-s) belongs to the inverse."),
    ],
    forbid=("dlcourse.generative.affine_coupling", "dlcourse.generative.flows.affine_coupling"),
    rtol=1e-5, atol=1e-5,
))
