"""Part 4 of the notes: generative models (VAE, GAN, normalizing flows, diffusion) and the sample judge.

Every generative model here has ``sample(n, generator=None)``: images (n, C, H, W) in [0, 1] for the digit models,
points (n, 2) for the 2-D flows. ``trained(name)`` returns the cached trained model of a page (``"vae"``, ``"gan"``,
``"flow"``, ``"diffusion"``), training it when missing.
"""
from .judge import JudgeScore, judge, judge_score
from .registry import register_trained, trained, trained_names
from .flows import AffineCoupling, CouplingFlow, affine_coupling
from .gan import (Discriminator, Generator, ToyDiscriminator, ToyGenerator, discriminator_loss, generator_loss,
                  train_gan)
from .toy2d import ring_modes, ring_of_gaussians, rings, two_moons
from .vae import VAE, kl_divergence, reparameterize, train_vae, vae_loss
from .trained_models import train_flow, trained_flow, trained_gan, trained_vae

from .diffusion import (ddim_step, denormalize, diffusion_loss, normalize, predict_x0, q_sample, reverse_step, sample,
                        sampling_frames)
from .diffusion_train import (DIFFUSION16_CONFIG, DIFFUSION28_CONFIG, diffusion16, diffusion28, digit_images,
                              train_diffusion)
from .diffusion_view import sampling_view
from .schedules import betas_from_alpha_bar, cosine_schedule, linear_schedule, make_schedule, sampling_timesteps, snr
from .unet import DiffusionUNet

register_trained("vae")(trained_vae)
register_trained("gan")(trained_gan)
register_trained("flow")(trained_flow)
