"""The models here are tiny: one intra-op thread is fastest and avoids thread oversubscription on busy CI
machines (several pytest workers each spinning up a full OpenMP pool made tiny forwards ~100x slower)."""

import torch

torch.set_num_threads(1)
