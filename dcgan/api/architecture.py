"""Use case: the paper's architecture table for any settings (`summary`)."""
from __future__ import annotations

from ..models import UPSAMPLING, ModelConfig
from ..summary import markdown as summary_markdown
from ..summary import table as summary_table
from . import checks
from .results import ArchitectureTable


def summary(image_size: int = 64, ngf: int = 64, ndf: int = 64, nz: int = 100, channels: int = 3,
            half: bool = False, upsample: str = "transposed") -> ArchitectureTable:
    """The paper's architecture table for these settings: every layer of G and D, totals. half
    halves the widths given (ngf and ndf), as a run's half channels do."""
    m = ModelConfig(nz=checks.whole(nz, "nz", 1, 4096), ngf=checks.whole(ngf, "ngf", 1, 1024),
                    ndf=checks.whole(ndf, "ndf", 1, 1024),
                    nc=int(checks.one_of(checks.whole(channels, "channels", 1, 3), "channels", (1, 3))),
                    image_size=int(checks.one_of(checks.whole(image_size, "image_size", 1, 4096), "image_size",
                                                 (32, 64, 128))),
                    upsample=checks.one_of(upsample, "upsample", UPSAMPLING))
    t = summary_table(m.half() if checks.flag(half, "half") else m)
    return ArchitectureTable(t, summary_markdown(t))
