r"""Adversarial attacks on image classifiers (Notes §3.10.1).

White-box attacks follow the gradient of the loss with respect to the *input*:

- :func:`fgsm`, the fast gradient sign method (Goodfellow et al., 2015): one step of size ε along the sign of the
  gradient, ``x' = clip_[0,1](x + ε · sign ∇_x L)``.
- :func:`pgd`, projected gradient descent (Madry et al., 2018): many small signed steps, each followed by the
  projection :func:`pgd_project` back onto the L∞ ball of radius ε around the clean image and onto [0, 1].

With ``targeted=True`` both *descend* the loss of a wanted class instead of ascending the loss of the true one: the
notes' attack, which pushes the output :math:`f(\mathbf{x})` towards the one-hot distribution :math:`p` of class
:math:`c`.

The black-box :func:`evolutionary_attack` (in the spirit of GenAttack, Alzantot et al., 2019; the notes' Figure 3.11)
only reads output probabilities: a population of perturbations is scored, the fittest are recombined and mutated.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .._utils import check_positive_int, check_tensor

__all__ = ["evolutionary_attack", "fgsm", "pgd", "pgd_project"]


# --------------------------------------------------------------------------------------------------- input checks
def _check_images(x, name: str = "x") -> torch.Tensor:
    """A floating-point batch (N, …) of images with every value in [0, 1]."""
    check_tensor(x, name, floating=True)
    if x.dim() < 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty batch of images of shape (N, C, H, W), "
                         f"got shape {tuple(x.shape)}")
    lo, hi = float(x.min()), float(x.max())
    if not (0.0 <= lo and hi <= 1.0):
        raise ValueError(f"{name} must hold images with values in [0, 1], got values in [{lo:.4g}, {hi:.4g}]")
    return x


def _check_eps(eps, name: str = "eps") -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(eps).__name__}")
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (a radius in pixel units, e.g. 8/255), got {eps}")
    return float(eps)


def _check_labels(y, n: int, num_classes: int, device: torch.device, name: str = "y") -> torch.Tensor:
    """Class indices of shape (N,) (an int is broadcast to every image), each in [0, num_classes)."""
    if isinstance(y, bool):
        raise TypeError(f"{name} must be class indices, got a bool")
    if isinstance(y, int):
        y = torch.full((n,), y, dtype=torch.long)
    check_tensor(y, name)
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one class per image, got {tuple(y.shape)}")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"{name} must hold classes in [0, {num_classes - 1}], got values in "
                         f"[{int(y.min())}, {int(y.max())}]")
    return y.to(device=device, dtype=torch.long)


def _logits(model: Callable, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != x.shape[0]:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"model must map a batch of N images to logits of shape (N, K), got {got}")
    return out


def _loss_grad(model: Callable, x: torch.Tensor, y, name: str = "y") -> tuple[torch.Tensor, torch.Tensor]:
    """(labels, ∇_x Σ_n CE(model(x)_n, y_n)); only ``x`` gets a gradient (no parameter's ``.grad`` is touched)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = _logits(model, x)
        y = _check_labels(y, x.shape[0], logits.shape[1], x.device, name)
        loss = F.cross_entropy(logits, y, reduction="sum")   # a sum: each image's gradient is its own
        (grad,) = torch.autograd.grad(loss, x)
    return y, grad


# ------------------------------------------------------------------------------------------------------ white box
def fgsm(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor | int, eps: float,
         targeted: bool = False) -> torch.Tensor:
    r"""Fast gradient sign method: one signed-gradient step of size ``eps``, clipped to [0, 1] (Notes §3.10.1).

    .. math::
        \mathbf{x}' = \operatorname{clip}_{[0,1]}\big(\mathbf{x} \pm \varepsilon\,
        \operatorname{sign}\nabla_{\mathbf{x}}\,\mathcal{L}(f(\mathbf{x}), y)\big)

    with :math:`\mathcal{L}` the cross-entropy, ``+`` for an untargeted attack (``y`` the true classes: move away
    from them) and ``−`` for a targeted one (``y`` the wanted classes: move towards them).

    Args:
        model: maps images (N, …) to logits (N, K); use it in eval mode (dropout and batch norm fixed).
        x: clean images (N, C, H, W) with values in [0, 1].
        y: classes (N,) in [0, K), or one int for every image.
        eps: L∞ radius ≥ 0 in pixel units (``8/255`` is a common choice for photos, 0.1–0.3 for MNIST).
        targeted: descend the loss of ``y`` instead of ascending it.

    Returns:
        adversarial images of the shape of ``x``, in [0, 1], with :math:`\lVert\mathbf{x}'-\mathbf{x}\rVert_\infty
        \le \varepsilon`, detached, on ``x``'s device.
    """
    x = _check_images(x)
    eps = _check_eps(eps)
    _, grad = _loss_grad(model, x, y)
    step = -eps if targeted else eps
    return (x.detach() + step * grad.sign()).clamp(0.0, 1.0)


def pgd_project(x: torch.Tensor, x0: torch.Tensor, eps: float) -> torch.Tensor:
    r"""Project ``x`` onto the set of valid images within L∞ distance ``eps`` of ``x0`` (Notes §3.10.1).

    Each pixel is clipped to :math:`[x_0 - \varepsilon, x_0 + \varepsilon] \cap [0, 1]`; since the box is a product
    of intervals, this per-pixel clip is the exact Euclidean projection onto it.

    Shape: ``x`` and ``x0`` the same shape (any); ``x0`` in [0, 1]; returns the shape of ``x``.
    """
    check_tensor(x, "x", floating=True)
    x0 = _check_images(x0, "x0") if x0.dim() >= 2 else check_tensor(x0, "x0", floating=True)
    if x.shape != x0.shape:
        raise ValueError(f"x and x0 must have the same shape, got {tuple(x.shape)} and {tuple(x0.shape)}")
    eps = _check_eps(eps)
    return torch.minimum(torch.maximum(x, x0 - eps), x0 + eps).clamp(0.0, 1.0)


def pgd(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor | int, eps: float,
        alpha: float, steps: int, targeted: bool = False, random_start: bool = True,
        generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Projected gradient descent in the L∞ ball (Madry et al., 2018; Notes §3.10.1).

    Start at ``x`` (or, with ``random_start``, at a uniform random point of the ball), then ``steps`` times

    .. math::
        \mathbf{x}_{t+1} = \Pi_{\varepsilon}\big(\mathbf{x}_t \pm \alpha\,\operatorname{sign}
        \nabla_{\mathbf{x}}\mathcal{L}(f(\mathbf{x}_t), y)\big),

    where :math:`\Pi_\varepsilon` is :func:`pgd_project` (the ball around the clean image, then [0, 1]); ``+`` for an
    untargeted attack, ``−`` with ``targeted=True``. One step with ``alpha = eps`` and no random start is
    :func:`fgsm`.

    Args:
        model, x, y, eps, targeted: as in :func:`fgsm`.
        alpha: step size ≥ 0 (a common choice: ``2.5 * eps / steps``).
        steps: number of gradient steps (≥ 1); each costs one forward and one backward pass.
        random_start: start from ``x + U(−eps, eps)`` (projected), which makes the attack stronger on average.
        generator: a ``torch.Generator`` for the random start (on the CPU or ``x``'s device).

    Returns:
        the last iterate, shape of ``x``, in [0, 1] and within ``eps`` of ``x`` in L∞, detached.
    """
    x0 = _check_images(x).detach()
    eps, alpha = _check_eps(eps), _check_eps(alpha, "alpha")
    steps = check_positive_int(steps, "steps")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if random_start and eps > 0:
        dev = generator.device if generator is not None else x0.device
        noise = torch.rand(x0.shape, generator=generator, device=dev, dtype=x0.dtype).to(x0.device)
        x_adv = pgd_project(x0 + (2 * noise - 1) * eps, x0, eps)
    else:
        x_adv = x0.clone()
    sign = -1.0 if targeted else 1.0
    for _ in range(steps):
        y, grad = _loss_grad(model, x_adv, y)
        x_adv = pgd_project(x_adv + sign * alpha * grad.sign(), x0, eps)
    return x_adv


# ------------------------------------------------------------------------------------------------------ black box
def _fitness(probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""log p_t − log Σ_{j≠t} p_j, the log-odds of the target class (GenAttack's fitness)."""
    p_t = probs.gather(1, target[:, None])[:, 0]
    rest = (probs.sum(1) - p_t).clamp_min(1e-30)
    return p_t.clamp_min(1e-30).log() - rest.log()


@torch.no_grad()
def evolutionary_attack(predict_proba: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                        target: torch.Tensor | int, eps: float = 0.3, population: int = 6,
                        mutation_rate: float = 0.3, mutation_size: float = 0.5, temperature: float = 0.1,
                        max_queries: int = 10_000, generator: torch.Generator | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Black-box targeted attack by evolution, reading only output probabilities (Notes §3.10.1, Figure 3.11).

    For each image, a population of ``population`` perturbations :math:`\boldsymbol\delta` in the L∞ ball of radius
    ``eps`` is scored by the fitness :math:`\log p_c(\mathbf{x}+\boldsymbol\delta) - \log\sum_{j\ne c}
    p_j(\mathbf{x}+\boldsymbol\delta)` of the target class :math:`c`. Each generation keeps the best member
    (elitism) and replaces the others by children: two parents drawn with probabilities
    :math:`\operatorname{softmax}(\text{fitness}/\tau)`, a pixel-wise crossover that takes each pixel from the
    fitter parent more often, and a mutation that adds :math:`U(-m\varepsilon, m\varepsilon)` to a fraction
    ``mutation_rate`` of the pixels; children are projected back onto the ball and [0, 1]. An image stops as soon
    as one member is classified as the target. Everything runs under ``torch.no_grad``: no gradient is ever taken.

    Args:
        predict_proba: maps images (M, …) to class probabilities (M, K); called on whole populations at once.
        x: clean images (N, C, H, W) in [0, 1].
        target: wanted classes (N,) in [0, K), or one int for every image.
        eps: L∞ radius of the perturbations.
        population: members per image (≥ 2); each generation costs ``population − 1`` queries per image (the
            initial one ``population``).
        mutation_rate: probability that a pixel of a child is mutated.
        mutation_size: mutation amplitude as a fraction :math:`m` of ``eps``.
        temperature: :math:`\tau` of the parent selection (smaller: greedier).
        max_queries: the query budget per image.
        generator: a CPU ``torch.Generator`` (the run is reproducible with it).

    Returns:
        ``(images, queries)``: the adversarial images (N, C, H, W) (for an image that failed, the fittest member
        found) and the number of queries (images sent to ``predict_proba``) each image used, a long tensor (N,).
        Success is ``predict_proba(images).argmax(1) == target``.
    """
    x = _check_images(x)
    eps = _check_eps(eps)
    population = check_positive_int(population, "population")
    if population < 2:
        raise ValueError(f"population must be at least 2 (an elite and a child), got {population}")
    max_queries = check_positive_int(max_queries, "max_queries")
    for value, name in ((mutation_rate, "mutation_rate"), (mutation_size, "mutation_size"),
                        (temperature, "temperature")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if mutation_rate > 1:
        raise ValueError(f"mutation_rate is a probability in (0, 1], got {mutation_rate}")
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    elif not isinstance(generator, torch.Generator) or generator.device.type != "cpu":
        raise TypeError("generator must be a CPU torch.Generator")

    n, shape, dev = x.shape[0], x.shape[1:], x.device
    P = population

    def rand(*size):                     # uniform noise from the CPU generator, on x's device
        return torch.rand(size, generator=generator).to(dev, x.dtype)

    def query(images: torch.Tensor) -> torch.Tensor:
        probs = predict_proba(images)
        if not isinstance(probs, torch.Tensor) or probs.dim() != 2 or probs.shape[0] != images.shape[0]:
            got = tuple(probs.shape) if isinstance(probs, torch.Tensor) else type(probs).__name__
            raise ValueError(f"predict_proba must map M images to probabilities of shape (M, K), got {got}")
        return probs.to(dev).float()

    x0 = x.detach()
    delta = (2 * rand(n, P, *shape) - 1) * eps                                  # initial population in the ball
    xp = x0[:, None].expand_as(delta)
    delta = pgd_project(xp + delta, xp.contiguous(), eps) - xp
    probs = query((xp + delta).reshape(n * P, *shape))
    target = _check_labels(target, n, probs.shape[1], dev, "target")          # K is known after the first query
    tgt = target.repeat_interleave(P)
    fit, hit = _fitness(probs, tgt).view(n, P), (probs.argmax(1) == tgt).view(n, P)
    queries = torch.full((n,), P, dtype=torch.long, device=dev)
    best = delta[torch.arange(n, device=dev), fit.argmax(1)].clone()
    done = hit.any(1)
    best[done] = delta[done, hit[done].float().argmax(1)]

    while True:
        active = (~done & (queries + P - 1 <= max_queries)).nonzero()[:, 0]
        if len(active) == 0:
            break
        a = len(active)
        d, f = delta[active], fit[active]                                     # (a, P, …), (a, P)
        elite = f.argmax(1)
        sel = torch.softmax((f - f.max(1, keepdim=True).values) / temperature, dim=1)
        parents = torch.multinomial(sel.cpu(), 2 * (P - 1), replacement=True, generator=generator).to(dev)
        p1, p2 = parents[:, : P - 1], parents[:, P - 1:]
        w1, w2 = sel.gather(1, p1), sel.gather(1, p2)
        rows = torch.arange(a, device=dev)[:, None]
        take1 = rand(a, P - 1, *shape) < (w1 / (w1 + w2)).view(a, P - 1, *([1] * len(shape)))
        child = torch.where(take1, d[rows, p1], d[rows, p2])                 # crossover
        mutate = rand(a, P - 1, *shape) < mutation_rate
        child = child + mutate * (2 * rand(a, P - 1, *shape) - 1) * (mutation_size * eps)
        xa = x0[active][:, None].expand_as(child)
        child = pgd_project(xa + child, xa.contiguous(), eps) - xa            # back into the ball and [0, 1]
        probs = query((xa + child).reshape(a * (P - 1), *shape))
        tgt = target[active].repeat_interleave(P - 1)
        cf, ch = _fitness(probs, tgt).view(a, P - 1), (probs.argmax(1) == tgt).view(a, P - 1)
        queries[active] += P - 1
        new_d = torch.cat([d[torch.arange(a, device=dev), elite][:, None], child], 1)
        new_f = torch.cat([f[torch.arange(a, device=dev), elite][:, None], cf], 1)
        delta[active], fit[active] = new_d, new_f
        won = ch.any(1)
        best[active] = new_d[torch.arange(a, device=dev), new_f.argmax(1)]
        if won.any():
            idx = active[won]
            best[idx] = child[won.nonzero()[:, 0], ch[won].float().argmax(1)]
            done[idx] = True
    return (x0 + best).clamp(0.0, 1.0), queries
