"""Part 1 of the notes: neural network expressivity (perceptron, multi-layer perceptron, parameter counts)."""
from .params import dense_flops, dense_params
