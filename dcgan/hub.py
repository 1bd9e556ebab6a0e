"""Generators in and out: run dirs, .pt/.safetensors files, save_pretrained folders, Hub ids.

`load_generator(spec)` is the one resolver the CLI and the app use for "a checkpoint". Untrusted
weights load only from safetensors or from .pt through `torch.load(weights_only=True)`; a file
whose config cannot be known is refused rather than guessed at. Pushing to the Hub and model
cards also live here; nothing in this module trains or samples.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import torch

from .models import Generator, check_size
from .runs import RunDir, load_checkpoint

DEMO = Path(__file__).resolve().parent.parent / "checkpoints" / "demo-generator"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class CheckpointError(ValueError):
    """A generator that cannot be loaded; the message is for users."""


def config_from_state(sd: dict) -> dict:
    """Infer nz, ngf, nc, image_size of a Generator from its state-dict shapes alone."""
    convs = sorted((k for k in sd if k.startswith("main.") and k.endswith(".weight") and sd[k].dim() == 4),
                   key=lambda k: int(k.split(".")[1]))
    if len(convs) < 4:
        raise CheckpointError("these weights do not look like a DCGAN generator")
    first, last = sd[convs[0]], sd[convs[-1]]
    return {"nz": first.shape[0], "ngf": last.shape[0], "nc": last.shape[1],
            "image_size": check_size(2 ** (len(convs) + 1))}


def _build(cfg: dict, sd: dict) -> Generator:
    try:
        g = Generator(int(cfg["nz"]), int(cfg["ngf"]), int(cfg.get("nc", 3)), int(cfg["image_size"]))
        g.load_state_dict(sd, strict=True)
    except (RuntimeError, KeyError, ValueError, TypeError) as e:
        first = str(e).strip().splitlines()[0][:200]
        raise CheckpointError(f"the generator weights do not match their config: {first}") from None
    return g.eval()


def _from_safetensors(path: Path) -> Generator:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        sd = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path.name} is not a readable safetensors file ({e})") from None
    cfg_file = path.with_name("config.json")
    cfg = json.loads(cfg_file.read_text()) if cfg_file.exists() else config_from_state(sd)
    return _build(cfg, sd)


def _from_pt(path: Path) -> Generator:
    try:
        state = load_checkpoint(path)
    except ValueError as e:
        raise CheckpointError(str(e)) from None
    sd = state.get("G") or state.get("generator")
    cfg = state.get("config") or config_from_state(sd)
    return _build(cfg, sd)


def load_generator(spec: str | os.PathLike, device: str | torch.device = "cpu") -> Generator:
    """A run dir, .pt, .safetensors, save_pretrained folder, 'demo' or a Hub id -> Generator (eval)."""
    spec = str(spec)
    p = Path(spec).expanduser()
    if spec == "demo":
        if not (DEMO / "model.safetensors").exists():
            raise CheckpointError(f"the bundled demo generator is missing ({DEMO})")
        p = DEMO
    if p.is_dir():
        run = RunDir(p)
        if (p / "model.safetensors").exists():
            g = _from_safetensors(p / "model.safetensors")
        elif (run.generator / "model.safetensors").exists():
            g = _from_safetensors(run.generator / "model.safetensors")
        elif run.last.exists():
            g = _from_pt(run.last)
        else:
            raise CheckpointError(f"{p} holds neither generator/model.safetensors nor checkpoints/last.pt")
    elif p.is_file():
        if p.suffix == ".safetensors":
            g = _from_safetensors(p)
        elif p.suffix in (".pt", ".pth", ".ckpt"):
            g = _from_pt(p)
        else:
            raise CheckpointError(f"{p.name}: only .safetensors and .pt checkpoints are accepted")
    elif HUB_ID.match(spec):
        g = _from_hub(spec)
    else:
        raise CheckpointError(f"no such checkpoint: {spec} (a run dir, .pt, .safetensors, folder or USER/NAME)")
    return g.to(device)


def _from_hub(repo_id: str) -> Generator:
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        return Generator.from_pretrained(repo_id)
    except RepositoryNotFoundError:
        raise CheckpointError(f"no model {repo_id} on the Hugging Face Hub (or it is private: set HF_TOKEN)") from None
    except LocalEntryNotFoundError:
        raise CheckpointError(f"cannot reach the Hugging Face Hub for {repo_id} and it is not in the local "
                              "cache; download it elsewhere with `huggingface-cli download` or pass a folder") from None
    except (HfHubHTTPError, OSError) as e:
        raise CheckpointError(f"could not load {repo_id} from the Hub: {str(e).splitlines()[0][:160]}") from None
