"""Part 4 of the notes: generative models (VAE, GAN, normalizing flows, diffusion) and the sample judge."""
from .judge import JudgeScore, judge, judge_score
from .registry import register_trained, trained, trained_names
from .diffusion import (ddim_step, denormalize, diffusion_loss, normalize, predict_x0, q_sample, reverse_step, sample,
                        sampling_frames)
from .diffusion_train import (DIFFUSION16_CONFIG, DIFFUSION28_CONFIG, diffusion16, diffusion28, digit_images,
                              train_diffusion)
from .diffusion_view import sampling_view
from .schedules import betas_from_alpha_bar, cosine_schedule, linear_schedule, make_schedule, sampling_timesteps, snr
from .unet import DiffusionUNet
