"""Part 1 of the notes: neural network expressivity (perceptron, multi-layer perceptron, parameter counts)."""
from .params import dense_flops, dense_params
from .perceptron import LOGIC_GATES, gate_weights, heaviside, perceptron_predict, perceptron_train, truth_table
from .mlp import (count_linear_pieces, relu_kinks, sawtooth, sawtooth_net, shallow_sawtooth_net, tent_map,
                  xor_from_gates)
