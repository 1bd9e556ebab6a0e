"""Make a random-weight FID Inception file in the standard layout (no download, ever).

Random conv weights with BatchNorm running statistics calibrated on a few random batches, so
activations have a sane scale all the way to pool3 and features are informative enough to
compare implementations on.
"""
from pathlib import Path

import torch

from dcgan.inception import FIDInception, preprocess


@torch.no_grad()
def make_random_fid_weights(path: Path, seed: int = 0, batches: int = 2, batch: int = 6) -> Path:
    torch.manual_seed(seed)
    model = FIDInception()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the calibration batches
            m.reset_running_stats()
    model.train()
    g = torch.Generator().manual_seed(seed)
    for _ in range(batches):
        x = torch.randint(0, 256, (batch, 3, 64, 64), dtype=torch.uint8, generator=g)
        model(preprocess(x), dims=2048)
    torch.save(model.state_dict(), path)
    return path
