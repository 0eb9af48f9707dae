"""Part 2 of the notes: training (gradient descent and its variants, backpropagation)."""
from .optim import gd_step, momentum_step, nesterov_step
from .adaptive import adam_step, rmsprop_step
from .losses2d import descent_path, ill_conditioned_hessian, quadratic_grad, quadratic_loss, rosenbrock
from .backprop import (ACTIVATIONS, MLPCache, MLPGrads, cross_entropy_with_grad, init_mlp, mlp_backward,
                       mlp_forward, mlp_to_module)
