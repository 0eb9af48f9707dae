"""Part 3 of the notes: computer vision (convolutions, pooling, normalization, gradient ascent, detection …)."""
from .batchnorm import BatchNorm2d, batch_norm2d
