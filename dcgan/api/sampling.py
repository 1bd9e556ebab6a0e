"""Use cases of a trained generator: seed grids, walks, the scrub, principal directions, arithmetic.

Each takes the generator in the caller's words (access.generator_spec), checks every number first,
then samples in eval mode (BatchNorm running statistics) unless asked otherwise. Tile i of a grid
comes from seed + i alone. Loaded generators and their principal directions are cached per
process (a few generators, keyed by spec and the weights' file time); `warm_directions` computes
a generator's directions off the request path, so the first slider drag is as fast as the next.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from .. import latent
from ..errors import ConfigError
from ..hub import load_generator, resolve_checkpoint
from ..images import enlarge, grid_image, to_pils, to_uint8
from . import checks
from .access import generator_spec
from .caller import Caller, Upload
from .results import Arithmetic, Grid, Picture, Walk

MAX_GRID = 256
MAX_FRAMES = 240
N_DIRECTIONS = 5
MODES = ("slerp", "lerp")
Checkpoint = str | Upload | None  # faces-generator, a run's name, a Hub id, an upload (a path: local user)

_lock = threading.Lock()
_models: OrderedDict = OrderedDict()
_directions: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # generator -> (k, nz)
_direction_locks: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def model(caller: Caller, checkpoint: Checkpoint):
    """The generator, loaded once per (spec, weights' file time); a few are kept."""
    spec = generator_spec(caller, checkpoint)
    key = (spec, resolve_checkpoint(spec).stamp())
    with _lock:
        if key in _models:
            _models.move_to_end(key)
            return _models[key]
    g = load_generator(spec)
    with _lock:
        _models[key] = g
        while len(_models) > 4:
            _models.popitem(last=False)
    return g


def generate(caller: Caller, checkpoint: Checkpoint = "faces-generator", seed: int = 0, n: int = 64, eval_mode: bool = True,
             nrow: int | None = None, truncation: float | None = None) -> Grid:
    """A grid of n images; tile i is drawn from latent seed + i alone. truncation T redraws every
    latent component outside ±T (the truncation trick): less variety, more typical images."""
    n = checks.whole(n, "n", 1, MAX_GRID)
    seeds = latent.grid_seeds(checks.seed(seed), n)
    nrow = None if nrow in (None, "") else checks.whole(nrow, "nrow", 1, MAX_GRID)
    truncation = None if truncation in (None, "", 0) else checks.number(truncation, "truncation", 0.05, 10.0)
    g = model(caller, checkpoint)
    x = latent.sample(g, latent.z_from_seeds(seeds, g.nz, truncation), eval_mode=checks.flag(eval_mode, "eval_mode"))
    return Grid(grid_image(x, nrow), to_pils(to_uint8(x)), seeds)


def _keys(seeds) -> list[int]:
    return checks.seeds(seeds, "seeds", at_least=2, distinct_neighbours=True)


def interpolate(caller: Caller, checkpoint: Checkpoint = "faces-generator", seeds="1, 2, 3", frames: int = 48,
                mode: str = "slerp", loop: bool = False, eval_mode: bool = True, start=None) -> Walk:
    """A walk through two or more keyframe latents: slerp (keeps the latent's length) or lerp.
    start: a latent to begin from (a projected image's z: nz numbers, or an .npy file for the local
    user), then the seeds (one is then enough)."""
    keys = checks.seeds(seeds, "seeds", at_least=1 if start is not None else 2, distinct_neighbours=True)
    frames = checks.whole(frames, "frames", 2, MAX_FRAMES)
    mode = checks.one_of(mode, "mode", MODES)
    if start is not None and isinstance(start, str) and start.endswith(".npy") and not caller.trusted:
        raise ConfigError("{start} names a file on the server, which only the machine's own user may do",
                          settings=("start",))
    g = model(caller, checkpoint)
    z = latent.z_from_seeds(keys, g.nz)
    if start is not None:
        z = torch.cat([latent_from(start, g.nz)[None], z])
    z = latent.walk(z, frames, mode, loop=checks.flag(loop, "loop"))
    return Walk(to_pils(to_uint8(latent.sample(g, z, eval_mode=checks.flag(eval_mode, "eval_mode")))), keys, mode,
                from_latent=start is not None)


def latent_from(value, nz: int, name: str = "start") -> torch.Tensor:
    """A latent given as numbers (a list, or text) or, for the local user, an .npy file -> (nz,)."""
    if isinstance(value, (str, Path)) and str(value).endswith(".npy"):
        try:
            arr = np.load(str(value), allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ConfigError(f"{name}: {Path(str(value)).name} is not a readable .npy latent ({e})") from None
    elif isinstance(value, str):
        try:
            arr = np.array([float(x) for x in value.replace(",", " ").split()], dtype=np.float32)
        except ValueError:
            raise ConfigError(f"{name} must be {nz} numbers or an .npy latent, as project writes it") from None
    else:
        try:
            arr = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be {nz} numbers or an .npy latent, as project writes it") from None
    arr = arr.reshape(-1)
    if arr.shape != (nz,) or not np.isfinite(arr).all():
        raise ConfigError(f"{name} must hold {nz} finite numbers, the generator's latent size (got {arr.size})")
    return torch.from_numpy(arr.copy())


def scrub(caller: Caller, checkpoint: Checkpoint = "faces-generator", seeds="1, 2, 3", t: float = 0.0, mode: str = "slerp",
          eval_mode: bool = True) -> Picture:
    """The image at position t (0 = first keyframe, 1 = last) along a walk, at 4x."""
    keys = _keys(seeds)
    t = checks.number(t, "t", 0.0, 1.0)
    mode = checks.one_of(mode, "mode", MODES)
    g = model(caller, checkpoint)
    z = latent.at(latent.z_from_seeds(keys, g.nz), t, mode)[None]
    im = to_pils(to_uint8(latent.sample(g, z, eval_mode=checks.flag(eval_mode, "eval_mode"))))[0]
    return Picture(enlarge(im), f"t = {t:g} along seeds {', '.join(map(str, keys))} ({mode})")


def principal_directions(g) -> torch.Tensor:
    """G's principal directions (k, nz), computed once per loaded generator (a second caller waits
    for the first rather than computing them again)."""
    with _lock:
        lock = _direction_locks.setdefault(g, threading.Lock())
    with lock:
        if g not in _directions:
            _directions[g] = latent.principal_directions(g, k=N_DIRECTIONS)
        return _directions[g]


def warm_directions(caller: Caller, checkpoint: Checkpoint = "faces-generator") -> threading.Thread:
    """Load a generator and compute its directions in a background thread (call when it is picked)."""
    def work():
        try:
            principal_directions(model(caller, checkpoint))
        except Exception:  # noqa: BLE001 - a bad pick is reported when it is used, not here
            pass

    th = threading.Thread(target=work, daemon=True, name="warm-directions")
    th.start()
    return th


def directions(caller: Caller, checkpoint: Checkpoint = "faces-generator", seed: int = 0, amounts=(0, 0, 0, 0, 0),
               eval_mode: bool = True) -> Picture:
    """One latent moved along G's principal directions (as GANSpace finds them), at 4x; amounts in
    [-2, 2], where 2 moves as far as a latent is long."""
    s = checks.seed(seed)
    amounts = list(amounts)
    if len(amounts) != N_DIRECTIONS:
        raise ConfigError(f"amounts needs {N_DIRECTIONS} numbers, one per direction (got {len(amounts)})")
    a = [checks.number(x, f"direction_{i + 1}", -2.0, 2.0) for i, x in enumerate(amounts)]
    g = model(caller, checkpoint)
    z = latent.move_along(latent.z_from_seed(s, g.nz), principal_directions(g), a)
    im = to_pils(to_uint8(latent.sample(g, z[None], eval_mode=checks.flag(eval_mode, "eval_mode"))))[0]
    return Picture(enlarge(im), f"seed {s} moved by {', '.join(f'{x:g}' for x in a)}")


def arithmetic(caller: Caller, checkpoint: Checkpoint = "faces-generator", a="1 2 3", b="4 5 6", c="7 8 9",
               eval_mode: bool = True) -> Arithmetic:
    """The paper's Figure 7: mean(A) − mean(B) + mean(C), each term the mean latent of a few seeds."""
    sa, sb, sc = (checks.seeds(v, name) for v, name in ((a, "a"), (b, "b"), (c, "c")))
    g = model(caller, checkpoint)
    za, zb, zc = (latent.z_from_seeds(s, g.nz) for s in (sa, sb, sc))
    z = torch.stack([za.mean(0), zb.mean(0), zc.mean(0), latent.arithmetic(za, zb, zc)])
    imgs = to_pils(to_uint8(latent.sample(g, z, eval_mode=checks.flag(eval_mode, "eval_mode"))))
    return Arithmetic(imgs, ["mean of A", "mean of B", "mean of C", "A − B + C"])
