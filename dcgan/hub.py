"""Generators in and out: run dirs, .pt/.safetensors files, save_pretrained folders, Hub ids.

`resolve_checkpoint(spec)` is the one place that decides what a checkpoint spec names (bundled
name, run dir, file, folder or Hub id, in that order); `load_generator(spec)` loads it, and the
app's cache and the FID sides ask the same resolver. Untrusted weights load only from safetensors
or from .pt through `torch.load(weights_only=True)`; a file whose config cannot be known is refused
rather than guessed at. Pushing to the Hub and model cards also live here; nothing in this module
trains or samples.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import CheckpointError
from .models import Generator, check_size
from .runs import RunDir, load_checkpoint

_ROOT = Path(__file__).resolve().parent
# bundled generators: inside the installed package (pyproject maps checkpoints/ there), or at the
# top of a source checkout
CHECKPOINTS = next((p for p in (_ROOT / "checkpoints", _ROOT.parent / "checkpoints") if p.is_dir()),
                   _ROOT.parent / "checkpoints")
BUNDLED = {"faces-generator": CHECKPOINTS / "faces-generator", "emoji-generator": CHECKPOINTS / "emoji-generator"}
# older or shorter names, read where only a generator makes sense: `demo` is the app's default generator
ALIASES = {"demo": "faces-generator", "faces": "faces-generator", "emoji": "emoji-generator"}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")


def bundled_generator(name: str) -> Path | None:
    """The folder of a bundled generator (faces-generator, emoji-generator, or an alias); None otherwise."""
    path = BUNDLED.get(ALIASES.get(name, name))
    if path is not None and not (path / "model.safetensors").exists():
        raise CheckpointError(f"the bundled {name} generator is missing ({path.name})")
    return path



@dataclass(frozen=True)
class CheckpointRef:
    """What a checkpoint spec names: kind is bundled | run | folder | safetensors | pt | hub."""

    spec: str
    kind: str
    path: Path | None = None  # the weights file (None for a Hub id)

    def stamp(self) -> int:
        """Modification time of the weights (0 for a Hub id): cheap, for caches."""
        return self.path.stat().st_mtime_ns if self.path is not None and self.path.exists() else 0


def resolve_checkpoint(spec: str | os.PathLike) -> CheckpointRef:
    """A checkpoint spec -> what it names, without loading anything; CheckpointError if nothing."""
    spec = str(spec)
    folder = bundled_generator(spec)
    if folder is not None:
        return CheckpointRef(spec, "bundled", folder / "model.safetensors")
    p = Path(spec).expanduser()
    if p.is_dir():
        if (p / "model.safetensors").exists():
            return CheckpointRef(spec, "folder", p / "model.safetensors")
        weights = RunDir(p).weights_file()
        if weights is None:
            raise CheckpointError(f"{p.name} holds neither generator/model.safetensors nor checkpoints/last.pt")
        return CheckpointRef(spec, "run", weights)
    if p.is_file():
        if p.suffix == ".safetensors":
            return CheckpointRef(spec, "safetensors", p)
        if p.suffix in (".pt", ".pth", ".ckpt"):
            return CheckpointRef(spec, "pt", p)
        raise CheckpointError(f"{p.name}: only .safetensors and .pt checkpoints are accepted")
    if HUB_ID.match(spec):
        return CheckpointRef(spec, "hub")
    raise CheckpointError(f"no such checkpoint: {spec[:200]} (a run dir, .pt, .safetensors, folder, "
                          f"USER/NAME, or one of {', '.join(sorted(BUNDLED))})")


def is_checkpoint(spec: str | os.PathLike) -> bool:
    try:
        resolve_checkpoint(spec)
    except CheckpointError:
        return False
    return True


def config_from_state(sd: dict) -> dict:
    """Infer nz, ngf, nc, image_size of a Generator from its state-dict shapes alone."""
    convs = sorted((k for k in sd if k.startswith("main.") and k.endswith(".weight") and sd[k].dim() == 4),
                   key=lambda k: int(k.split(".")[1]))
    if len(convs) < 4:
        raise CheckpointError("these weights do not look like a DCGAN generator")
    first, last = sd[convs[0]], sd[convs[-1]]
    if last.shape[-1] == 3:  # resize-convolution: Conv2d weights are (out, in, 3, 3)
        return {"nz": first.shape[0], "ngf": last.shape[1], "nc": last.shape[0],
                "image_size": check_size(2 ** (len(convs) + 1)), "upsample": "resize"}
    return {"nz": first.shape[0], "ngf": last.shape[0], "nc": last.shape[1],
            "image_size": check_size(2 ** (len(convs) + 1))}


def _build(cfg: dict, sd: dict) -> Generator:
    try:
        g = Generator(int(cfg["nz"]), int(cfg["ngf"]), int(cfg.get("nc", cfg.get("channels", 3))), int(cfg["image_size"]),
                      str(cfg.get("upsample", "transposed")))
        g.load_state_dict(sd, strict=True)
    except (RuntimeError, KeyError, ValueError, TypeError) as e:
        # torch's message starts with a header line; the next one names the key and shapes
        lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
        detail = lines[1] if len(lines) > 1 and lines[0].startswith("Error(s)") else lines[0]
        raise CheckpointError(f"the generator weights do not match their config: {detail[:240]}") from None
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
    return generator_from_state(load_checkpoint(path))


def generator_from_state(state: dict) -> Generator:
    """A loaded training checkpoint's generator: the EMA of G's weights when the run kept one
    (what the run's generator/ holds), else G."""
    sd = state.get("G_ema") or state.get("G") or state.get("generator")
    cfg = state.get("config") or config_from_state(sd)
    return _build(cfg, sd)


def load_generator(spec: str | os.PathLike, device: str | torch.device = "cpu") -> Generator:
    """Any checkpoint spec (see resolve_checkpoint) -> Generator in eval mode on `device`."""
    ref = resolve_checkpoint(spec)
    if ref.kind == "hub":
        g = _from_hub(ref.spec)
    elif ref.path.suffix == ".safetensors":
        g = _from_safetensors(ref.path)
    else:
        g = _from_pt(ref.path)
    return g.to(device)


def _from_hub(repo_id: str) -> Generator:
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    from .hubdata import hub_reachable

    try:  # an unreachable Hub: the local cache only, answered in seconds rather than after 5 retries
        return Generator.from_pretrained(repo_id, local_files_only=not hub_reachable())
    except RepositoryNotFoundError:
        raise CheckpointError(f"no model {repo_id} on the Hugging Face Hub (or it is private: set HF_TOKEN)") from None
    except LocalEntryNotFoundError:
        raise CheckpointError(f"cannot reach the Hugging Face Hub for {repo_id} and it is not in the local "
                              f"cache; download it where there is a network (`hf download {repo_id}`) and give "
                              "its folder") from None
    except (HfHubHTTPError, OSError) as e:
        raise CheckpointError(f"could not load {repo_id} from the Hub: {str(e).splitlines()[0][:160]}") from None


# ----------------------------------------------------------------------------- cards and pushing

def run_summary(run: RunDir) -> dict:
    """Epochs, steps, last-epoch losses, diversity and FID of a run, from metrics.jsonl."""
    recs = run.read_metrics()
    epochs = [r for r in recs if r.get("kind") == "epoch"]
    steps = [r for r in recs if r.get("kind") == "step"]
    last_epoch = epochs[-1]["epoch"] if epochs else 0
    tail = [r for r in steps if r["epoch"] == last_epoch] or steps[-10:]
    mean = (lambda k: sum(r[k] for r in tail) / len(tail)) if tail else (lambda k: None)
    fids = [(r["fid"], r["epoch"], r.get("fid_protocol")) for r in epochs if r.get("fid") is not None]
    best = min(fids) if fids else None
    return {"epochs": last_epoch, "steps": epochs[-1]["step"] if epochs else 0,
            "loss_d": mean("loss_d"), "loss_g": mean("loss_g"), "d_real": mean("d_real"), "d_fake": mean("d_fake"),
            "diversity_ratio": epochs[-1].get("diversity_ratio") if epochs else None,
            "fid_last": fids[-1] if fids else None, "fid_best": best}


def model_card(run: RunDir, repo_id: str | None = None, extra: str = "", bundled: str | None = None) -> str:
    """The model card of a run, for the Hub (repo_id) or as one of the bundled generators (bundled)."""
    from huggingface_hub import ModelCardData

    from .config import TrainConfig

    cfg, s = run.read_config(), run_summary(run)
    name = repo_id or (f"DCGAN Studio's bundled {bundled} generator" if bundled else "dcgan-generator")
    ref = repo_id or bundled or "dcgan-generator"
    load = (f'from dcgan.hub import load_generator  # DCGAN Studio\ng = load_generator("{bundled}")'
            if bundled and not repo_id else
            f'from dcgan.models import Generator  # DCGAN Studio\ng = Generator.from_pretrained("{ref}")')
    data = ModelCardData(license="apache-2.0", library_name="dcgan-studio", pipeline_tag="unconditional-image-generation",
                         tags=["gan", "dcgan", "unconditional-image-generation", "pytorch_model_hub_mixin"])
    f = lambda v, p=4: "n/a" if v is None else f"{v:.{p}f}"  # noqa: E731
    fid = "not measured during training"
    if s["fid_best"]:
        (lv, le, lp), (bv, be, bp) = s["fid_last"], s["fid_best"]
        fid = f"{lp} = {lv:.2f} at epoch {le}; best {bp} = {bv:.2f} at epoch {be}"
    hp = "\n".join(f"| {k} | {cfg.get(k)} |" for k in ("data", "n_images", "image_size", "batch_size", "lr",
                                                       "beta1", "beta2", "nz", "ngf", "ndf", "upsample", "flip",
                                                       "augment", "ema", "seed", "precision", "device_used"))
    notes = []
    if cfg.get("ema"):
        notes.append(f"These are the weights of an exponential moving average of G (`--ema {cfg['ema']}`, updated "
                     "after every G step; BatchNorm statistics copied from G), not of G itself, which the run's "
                     "checkpoints also keep.")
    if cfg.get("upsample") == "resize":
        notes.append("**Departs from the paper:** G doubles its resolution by nearest-neighbour ×2 upsampling and a "
                     "3×3 convolution (`--upsample resize`) instead of the paper's 4×4 stride-2 transposed "
                     "convolutions, against their checkerboard artefacts. `from_pretrained` rebuilds it so "
                     "(`upsample` is in config.json).")
    for r in cfg.get("rewinds", []):
        changed = ", ".join(f"{k} {v}" for k, v in r.get("changed", {}).items()) or "no setting changed"
        notes.append(f"Rewound at epoch {r.get('at_epoch')} to its last healthy epoch {r.get('from_epoch')} and "
                     f"continued with {changed}; the command above does not reproduce that.")
    for c in cfg.get("changes", []):
        changed = ", ".join(f"{k} {v}" for k, v in c.get("changed", {}).items())
        notes.append(f"Resumed at epoch {c.get('at_epoch')} with {changed}.")
    departures = "".join(f"\n{n}\n" for n in notes)
    return f"""---
{data.to_yaml()}
---

# {name}

A DCGAN generator (Radford et al., 2015) trained with DCGAN Studio on `{cfg.get('data')}`
({cfg.get('n_images')} images, {cfg.get('image_size')}×{cfg.get('image_size')}).

![the 64 fixed latents after the last epoch](samples.png)

![the same latents, epoch by epoch](progress.gif)

## Use it

```python
import torch
{load}
images = g(torch.randn(16, g.nz, 1, 1))  # (16, {cfg.get('channels', cfg.get('nc', 3))}, {cfg.get('image_size')}, {cfg.get('image_size')}) in (-1, 1)
```

or `dcgan generate --checkpoint {ref} --n 64 --out grid.png`.

## Training

`{TrainConfig.from_dict(cfg).command(epochs=s['epochs'])}`

| hyperparameter | value |
|---|---|
{hp}

Trained for {s['epochs']} epochs ({s['steps']} steps). Over the last epoch: loss_d {f(s['loss_d'])},
loss_g {f(s['loss_g'])}, D(x) {f(s['d_real'], 3)}, D(G(z)) {f(s['d_fake'], 3)}.
Sample diversity (mean pairwise distance of the 64 fixed-noise samples over that of 64 real
images): {f(s['diversity_ratio'], 2)}. FID: {fid}.
{departures}{extra}
## Limitations

- A {cfg.get('image_size')}×{cfg.get('image_size')} DCGAN from 2015: expect blurry details, checkerboard
  artefacts and some malformed samples; it draws only what resembles its training data.
- GANs can drop modes of the data (mode collapse) without any loss curve showing it; look at the
  samples, not only the numbers.
- FID numbers are comparable only under the same protocol (N, resize, dims, weights); below
  2,048 images FID is biased upwards.
"""


def stage(run_dir: str | os.PathLike, dest: str | os.PathLike, repo_id: str | None = None,
          gif_every: int = 1, gif_scale: float = 1.0, extra: str = "", bundled: str | None = None) -> Path:
    """Everything a Hub repo of this run holds, in `dest`: weights, config, card, samples, GIF, metrics."""
    import shutil

    from .runs import write_grid_gif

    run, dest = RunDir(run_dir), Path(dest)
    if not (run.generator / "model.safetensors").exists():
        raise CheckpointError(f"{run.path} has no generator/model.safetensors yet (train at least one epoch)")
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("model.safetensors", "config.json"):
        shutil.copyfile(run.generator / name, dest / name)
    shutil.copyfile(run.config, dest / "training_config.json")
    shutil.copyfile(run.metrics, dest / "metrics.jsonl")
    samples = run.sample_paths()
    if samples:
        shutil.copyfile(samples[-1], dest / "samples.png")
        picked = samples[::gif_every] + ([samples[-1]] if (len(samples) - 1) % gif_every else [])
        write_grid_gif(picked, dest / "progress.gif", scale=lambda im: gif_scale, duration_ms=200, hold=4)
    (dest / "README.md").write_text(model_card(run, repo_id, extra, bundled))
    return dest


def push(run_dir: str | os.PathLike, repo_id: str, private: bool = False, token: str | None = None,
         local_credentials: bool = True) -> str:
    """Create (or reuse) `repo_id` on the Hub and upload the staged run in one commit; returns its URL.

    local_credentials=False uses `token` alone, never HF_TOKEN or the login cache: the app passes
    a visitor's OAuth token this way, so a Space never pushes with its owner's credentials."""
    import tempfile

    from huggingface_hub import HfApi, get_token

    if not HUB_ID.match(repo_id):
        raise CheckpointError(f"{{repo_id}} must look like USER/NAME (got {repo_id!r})", settings=("repo_id",))
    if local_credentials:
        token = token or os.environ.get("HF_TOKEN") or get_token()
    if not token:
        raise CheckpointError("not logged in to the Hugging Face Hub: "
                              + ("set HF_TOKEN or run `hf auth login`" if local_credentials else
                                 "use the 'Sign in with Hugging Face' button first"))
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory() as tmp:
        staged = stage(run_dir, tmp, repo_id)
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=str(staged),
                          commit_message=f"DCGAN Studio: upload {Path(run_dir).name}")
    return str(url)
