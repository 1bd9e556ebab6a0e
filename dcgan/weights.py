"""Network weights the metrics need (FID's Inception, precision/recall's VGG-16): where they are.

One order for every file: an explicit path (a flag), then an environment variable, then torch's
hub cache (`$TORCH_HOME/hub/checkpoints/NAME`), then a one-time download checked against the
SHA-256 prefix in its name. Offline with none of these, one WeightsUnavailable message says both
ways to provide the file. `content_id` names a file by its contents, for cache keys.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import torch

from .errors import WeightsUnavailable


def locate(what: str, explicit: str | os.PathLike | None, env: str, name: str, url: str, sha_prefix: str,
           flag: str, download: bool = True) -> Path:
    """The weights file for `what` (a phrase for messages), by the order above."""
    given = explicit or os.environ.get(env)
    if given:
        p = Path(given).expanduser()
        if not p.is_file():
            raise WeightsUnavailable(f"{what} weights file not found: {p}")
        return p
    cached = Path(torch.hub.get_dir()) / "checkpoints" / name
    if cached.is_file():
        return cached
    how = f"Download {url} elsewhere and pass {flag} PATH (or set {env}=PATH), or put it at {cached}."
    if not download:
        raise WeightsUnavailable(f"{what} weights are not available. {how}")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        # checks the SHA-256 prefix and removes the partial file on a mismatch
        torch.hub.download_url_to_file(url, str(cached), hash_prefix=sha_prefix, progress=True)
    except Exception as e:  # noqa: BLE001 - offline, proxy, HTTP errors: one message for all
        raise WeightsUnavailable(f"could not download the {what} weights ({type(e).__name__}). {how}") from None
    return cached


def content_id(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256 (cached per path, size and time)."""
    st = Path(path).stat()
    return _sha(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=16)
def _sha(path: str, size: int, mtime: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()[:12]
