"""A third party's backbone: two small convolution stages, nothing else."""
