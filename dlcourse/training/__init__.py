"""Part 2 of the notes: training (gradient descent and its variants, backpropagation)."""
from .optim import gd_step, momentum_step, nesterov_step
