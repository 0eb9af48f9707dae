"""Part 4 of the notes: generative models (VAE, GAN, normalizing flows, diffusion) and the sample judge."""
from .judge import JudgeScore, judge, judge_score
from .registry import register_trained, trained, trained_names
