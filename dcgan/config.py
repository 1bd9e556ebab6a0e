"""Training hyperparameters: one dataclass, validated on creation, stored in every checkpoint.

Defaults are the paper's (batch 128, Adam 2e-4 with betas (0.5, 0.999), nz 100, 64x64).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch

from .models import ModelConfig


@dataclass
class TrainConfig:
    data: str = "demo"
    data_root: str | None = None
    epochs: int = 25
    batch_size: int = 128
    image_size: int = 64
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    nc: int = 3
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    flip: bool = True
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    max_images: int | None = None
    log_every: int = 10  # steps between host syncs / metric records
    n_samples: int = 64  # fixed-noise grid size
    ckpt_every_s: float = 600.0  # also checkpoint mid-epoch this often, for long epochs
    fid_every: int = 0  # epochs between FID evaluations (0: never); keeps checkpoints/best.pt
    fid_n: int = 2048  # generated images per FID evaluation
    fid_dims: int = 2048
    fid_weights: str | None = None
    compile: bool = False  # torch.compile G and D (GPU; minutes of compilation up front)

    def __post_init__(self):
        bad = []
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            bad.append(f"epochs must be >= 1 (got {self.epochs})")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            bad.append(f"batch size must be >= 1 (got {self.batch_size})")
        if not (math.isfinite(self.lr) and 0 < self.lr < 1):
            bad.append(f"lr must be a finite number in (0, 1) (got {self.lr})")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            bad.append("betas must lie in [0, 1)")
        if self.precision not in ("fp32", "bf16"):
            bad.append(f"precision must be fp32 or bf16 (got {self.precision})")
        if self.max_images is not None and self.max_images < 1:
            bad.append("max_images must be >= 1")
        if self.log_every < 1:
            bad.append("log_every must be >= 1")
        if self.fid_every < 0 or (self.fid_every and self.fid_n < 2):
            bad.append("fid_every must be >= 0 and fid_n >= 2")
        if bad:
            raise ValueError("; ".join(bad))
        self.model()  # validates image_size, nz, ngf, ndf

    def model(self) -> ModelConfig:
        return ModelConfig(self.nz, self.ngf, self.ndf, self.nc, self.image_size)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})



def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA device is available")
    return torch.device(name)
