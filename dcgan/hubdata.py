"""Hugging Face Hub image datasets as a data source: `hf:OWNER/NAME`, and CelebA's Hub copy.

The dataset repo is fetched with huggingface_hub's `snapshot_download` (its cache, its progress
bars, HF_TOKEN and HF_HUB_OFFLINE honoured; only parquet shards and image files are fetched). Two
layouts are read: parquet shards with an image column stored as {bytes, path} (what the `datasets`
library writes; the `train` split when the file names show splits), or image files in folders.
Shards are read in record batches, so at most one batch of encoded images is in memory; a shard
that is not parquet, or has no image column, is skipped and listed like an unreadable file, and so
is a row whose bytes are missing (decoding happens in decoding.decode, which lists bad images).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .decoding import EXTENSIONS, DataReport, Source, folder_source
from .errors import DataError

CELEBA_REPO = "nielsr/CelebA-faces"  # CelebA's 202,599 aligned faces (178x218 JPEG) as parquet shards
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")
PATTERNS = ["*.parquet"] + [f"*{e}" for e in sorted(EXTENSIONS)] + [f"*{e.upper()}" for e in sorted(EXTENSIONS)]
BATCH_ROWS = 256


def repo_of(spec: str) -> str:
    repo = spec[3:] if spec.startswith("hf:") else spec
    if not REPO_ID.match(repo):
        raise DataError(f"a Hub dataset is named hf:OWNER/NAME, got {spec[:120]!r}")
    return repo


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hub answers at all (one TCP connection, a few seconds at most): huggingface_hub
    itself retries an unreachable host five times with back-off, about 25 s before its message.
    HF_HUB_OFFLINE=1 counts as unreachable; so does a machine with no route or name service."""
    import os
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout_s).close()
        return True
    except OSError:
        return False


def snapshot(repo_id: str) -> Path:
    """The dataset's files in the local Hub cache, downloaded first when the Hub is reachable."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    try:
        return Path(snapshot_download(repo_id, repo_type="dataset", allow_patterns=PATTERNS,
                                      local_files_only=not hub_reachable()))
    except GatedRepoError:
        raise DataError(f"hf:{repo_id} is gated: accept its terms on the Hub and set HF_TOKEN") from None
    except (RepositoryNotFoundError, RevisionNotFoundError):
        raise DataError(f"no dataset hf:{repo_id} on the Hugging Face Hub (or it is private: set HF_TOKEN)") from None
    except LocalEntryNotFoundError:
        raise DataError(f"hf:{repo_id} is not in the local Hub cache and the Hub cannot be reached "
                        "(offline, or HF_HUB_OFFLINE=1); download it where there is a network, e.g. "
                        f"`hf download {repo_id} --repo-type dataset`, or pass a folder") from None
    except (HfHubHTTPError, OSError) as e:
        raise DataError(f"could not fetch hf:{repo_id}: {str(e).splitlines()[0][:160]}") from None


def _image_column(schema) -> str | None:
    """The column holding images: a {bytes, path} struct (datasets' Image feature) or raw binary."""
    import pyarrow as pa

    for f in schema:
        if pa.types.is_struct(f.type) and any(c.name == "bytes" for c in f.type):
            return f.name
    for f in schema:
        if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type):
            return f.name
    return None


def _shards(files: list[Path]) -> list[Path]:
    train = [f for f in files if "train" in f.as_posix().lower()]
    return train or files


def source(spec: str, repo_id: str | None = None) -> Source:
    """A decoding.Source over a Hub dataset (spec 'hf:OWNER/NAME')."""
    repo_id = repo_id or repo_of(spec)
    root = snapshot(repo_id)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    parquet = _shards([p for p in files if p.suffix == ".parquet"])
    if not parquet:
        if not any(p.suffix.lower() in EXTENSIONS for p in files):
            raise DataError(f"hf:{repo_id} holds neither parquet shards nor image files")
        src = folder_source(spec, root, kind="hf")
        src.report.source = spec
        return src
    return _parquet_source(spec, repo_id, root, parquet)


def _parquet_source(spec: str, repo_id: str, root: Path, shards: list[Path]) -> Source:
    import pyarrow.parquet as pq

    report = DataReport(source=spec)
    h = hashlib.sha256(f"{repo_id}@{root.name}".encode())  # the snapshot folder is the commit hash
    usable: list[tuple[Path, str, int]] = []
    for shard in shards:
        rel = shard.relative_to(root).as_posix()
        try:
            pf = pq.ParquetFile(shard)
            column = _image_column(pf.schema_arrow)
        except Exception as e:  # noqa: BLE001 - a corrupt or non-parquet shard is skipped and listed
            report.skipped.append((rel, f"not a readable parquet shard ({type(e).__name__})"))
            continue
        if column is None:
            report.skipped.append((rel, "no image column (a {bytes, path} struct or binary)"))
            continue
        usable.append((shard, column, pf.metadata.num_rows))
        h.update(f"{rel}\0{shard.stat().st_size}\n".encode())
    if not usable:
        raise DataError(f"hf:{repo_id} has no readable parquet shard with images: {report.summary()}")
    report.fingerprint = h.hexdigest()[:16]

    def items():
        for shard, column, _ in usable:
            rel = shard.relative_to(root).as_posix()
            row = 0
            for batch in pq.ParquetFile(shard).iter_batches(batch_size=BATCH_ROWS, columns=[column]):
                for value in batch.column(0).to_pylist():
                    yield f"{rel}:{row}", (lambda v=value: _bytes(v))
                    row += 1

    return Source(spec, "hf", sum(n for _, _, n in usable), report, items)


def _bytes(value) -> bytes:
    data = value.get("bytes") if isinstance(value, dict) else value
    if not data:
        raise ValueError("the row holds no image bytes")
    return data
