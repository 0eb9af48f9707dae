"""Part 4 of the notes: generative models (VAE, GAN, normalizing flows, diffusion).

Every generative model here has ``sample(n, generator=None)``: images (n, C, H, W) in [0, 1] for the digit models,
points (n, 2) for the 2-D ones. :mod:`.trained_models` trains the models the pages share once and caches them.
"""
from .flows import AffineCoupling, CouplingFlow, affine_coupling
from .gan import (Discriminator, Generator, ToyDiscriminator, ToyGenerator, discriminator_loss, generator_loss,
                  train_gan)
from .toy2d import ring_modes, ring_of_gaussians, rings, two_moons
from .vae import VAE, kl_divergence, reparameterize, train_vae, vae_loss
