"""Part 3 of the notes: computer vision (convolutions, pooling, normalization, gradient ascent, detection …)."""
from .batchnorm import BatchNorm2d, batch_norm2d
from .conv import conv2d, conv_flops, conv_output_size, conv_params, receptive_field, same_padding
from .conv_matrix import conv_matrix
from .pooling import avg_pool2d, max_pool2d
from .separable import SeparableConv2d, separable_flops, separable_params
