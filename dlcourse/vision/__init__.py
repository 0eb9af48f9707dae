"""Part 3 of the notes: computer vision (convolutions, pooling, normalization, gradient ascent, detection …)."""
