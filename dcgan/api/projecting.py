"""Use case: your own image in the latent space (`project`), and the latent it finds, reusable.

The image is an upload (or, for the machine's own user, a path), prepared as training prepares
images (shorter side to the generator's size, centre crop, alpha on white); dcgan/project.py finds
z. Work per request is capped (steps, restarts), more tightly for a public Space's visitors. The
latent comes back as numbers (for the page's walk and scripts) and, with `out`, as files:
target.png, reconstruction.png, latent.npy (float32, loads with allow_pickle=False) and project.json.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..decoding import decode_one
from ..errors import ConfigError, DataError
from ..images import atomic_path, save_png, to_float, to_pil, to_uint8
from ..project import LR, PRIOR, project as find_z
from . import checks
from .caller import Caller, Upload
from .results import Projected, WorkStep
from .sampling import Checkpoint, model

MAX_STEPS, MAX_STEPS_PUBLIC = 5000, 500
MAX_RESTARTS, MAX_RESTARTS_PUBLIC = 16, 8
HOW = (f"Adam (lr {LR}) on the pixel MSE plus the MSE of 16x16 averages, with a prior term "
       f"{PRIOR}·(mean z² − 1)²; several restarts from seeds s, s+1, …, the lowest MSE kept")


def _target(caller: Caller, image: Upload | str | None, size: int, channels: int) -> tuple[torch.Tensor, str]:
    if image is None or image == "":
        raise ConfigError("give an image to project (an upload, or a file path on your own machine)")
    if isinstance(image, Upload):
        path, name = image.path, image.name
    elif caller.trusted:
        path, name = Path(str(image)).expanduser(), Path(str(image)).name
        if not path.is_file():
            raise DataError(f"no such image file: {name}")
    else:
        raise ConfigError("upload the image: a public app reads no server paths")
    try:
        arr, _ = decode_one(path, size, channels)
    except Exception as e:  # noqa: BLE001 - any unreadable upload is one line
        raise DataError(f"{name} is not a readable image ({type(e).__name__})") from None
    return to_float(torch.from_numpy(np.array(arr)).permute(2, 0, 1).unsqueeze(0))[0], name


def project(caller: Caller, checkpoint: Checkpoint = "faces-generator", image: Upload | str | None = None, *,
            steps: int = 300, restarts: int = 4, seed: int = 0, out: str | None = None,
            progress: Callable[[WorkStep], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> Projected:
    """The latent whose image best matches `image` (see dcgan/project.py for how), the
    reconstruction beside the target, and its PSNR; with `out`, the files listed above."""
    steps = checks.whole(steps, "steps", 1, MAX_STEPS if caller.trusted else MAX_STEPS_PUBLIC)
    restarts = checks.whole(restarts, "restarts", 1, MAX_RESTARTS if caller.trusted else MAX_RESTARTS_PUBLIC)
    seed = checks.seed(seed)
    if out is not None and not caller.trusted:
        raise ConfigError("out names a folder on the server, which only the machine's own user may do")
    g = model(caller, checkpoint)
    target, name = _target(caller, image, g.image_size, g.nc)
    say = (lambda i, n: progress(WorkStep(i / n, f"projecting {name}: step {i} of {n}"))) if progress else None
    p = find_z(g, target, steps=steps, restarts=restarts, seed=seed, progress=say, should_stop=should_stop)
    result = Projected(to_pil(to_uint8(target[None])[0]), to_pil(to_uint8(p.image[None])[0]),
                       [float(v) for v in p.z], p.psnr, p.mse, steps, restarts, p.best_restart, HOW, name)
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        save_png(result.target, folder / "target.png")
        save_png(result.reconstruction, folder / "reconstruction.png")
        with atomic_path(folder / "latent.npy") as tmp:
            with open(tmp, "wb") as f:
                np.save(f, p.z.numpy().astype(np.float32))
        with atomic_path(folder / "project.json") as tmp:
            tmp.write_text(json.dumps({**result.to_dict(), "losses_every_10_steps": p.losses}, indent=2))
    return result
