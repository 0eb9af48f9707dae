"""Part 4 of the notes: generative models (VAE, GAN, normalizing flows, diffusion)."""
