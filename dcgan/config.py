"""Training settings: one dataclass, the only list of them, validated on creation.

Every field carries its own help text, choices and whether it may change on `--resume`; the
`train` command's flags (`add_arguments` / `given`), the app's Train form and the HTTP/MCP `/train`
parameters (ui/settings_form.py, from `fields` and `base_type`), and the model card's "command
that reproduces this run" (`command`) are all derived from the fields, so adding a setting is one
field here plus the code that uses it. Defaults are the paper's (batch 128,
Adam 2e-4 with betas (0.5, 0.999), nz 100, 64x64). Presets (`half`) are methods returning a new
config. Not here: what a run records besides its settings (train.py) or where it lives (runs.py).
"""
from __future__ import annotations

import argparse
import math
import typing
from dataclasses import asdict, dataclass, field, fields, replace

import torch

from .augment import parse_policy
from .trackers import parse as parse_trackers
from .errors import ConfigError
from .models import SIZES, UPSAMPLING, ModelConfig


def setting(default, help: str, *, label: str | None = None, choices=None, on_resume: bool = False,
            tunable: bool = False, parts=None, server_path: bool = False):
    """A TrainConfig field with what the CLI, the form and the model card need to know about it.

    The field's name is the setting's one name: the CLI's flag (`--max-images`), the API's
    parameter (`max_images`), config.json's key and the word messages use. label: its short
    title where a form shows it (default: the name in words). on_resume: may differ when a run is
    resumed (how long and where to run); tunable: may change when a run continues (resumed, or
    rewound to its last healthy epoch), and each change is recorded in config.json (how it learns:
    lr, betas, flips, augmentation); every other field is part of the run's identity (the
    architecture, the data, the seed) and is taken from the checkpoint. parts: the words a comma
    list may hold. server_path: names a file or folder of the server (local user only)."""
    return field(default=default, metadata={"help": help, "label": label, "choices": choices, "on_resume": on_resume,
                                            "tunable": tunable, "parts": parts, "server_path": server_path})


@dataclass
class TrainConfig:
    # ---- data
    data: str = setting("faces", "faces (the bundled cartoon faces, the default), emoji (the bundled emoji), a "
                        "folder (searched recursively), a .zip, hf:OWNER/NAME (a Hub image dataset) or celeba")
    data_root: str | None = setting(None, "where CelebA lives or is downloaded to (default: ./data)", server_path=True,
                                    label="CelebA folder")
    max_images: int | None = setting(None, "use only the first N images (smoke runs; empty: all)",
                                     label="Max images")
    image_size: int = setting(64, "image side in pixels", choices=SIZES, label="Image size")
    # ---- model: the paper's architecture
    nz: int = setting(100, "latent size", label="Latent size (nz)")
    ngf: int = setting(64, "generator width (channels of its last hidden block)", label="G width (ngf)")
    ndf: int = setting(64, "discriminator width (channels of its first block)", label="D width (ndf)")
    channels: int = setting(3, "image channels: 3 (RGB) or 1 (grayscale)", choices=(1, 3), label="Channels")
    upsample: str = setting("transposed", "G's x2 steps: transposed (the paper's 4x4 stride-2 transposed "
                            "convolutions) or resize (nearest-neighbour x2 + 3x3 convolution, against "
                            "checkerboard artefacts; departs from the paper)", choices=UPSAMPLING, label="Upsampling")
    # ---- optimisation: the paper's Adam
    epochs: int = setting(25, "train until this many epochs in total", on_resume=True)
    batch_size: int = setting(128, "images per step (shrinks to the dataset when it is smaller)", label="Batch size")
    lr: float = setting(2e-4, "Adam learning rate, G and D", tunable=True, label="Learning rate")
    beta1: float = setting(0.5, "Adam beta1", tunable=True, label="Adam beta1")
    beta2: float = setting(0.999, "Adam beta2", tunable=True, label="Adam beta2")
    flip: bool = setting(True, "random horizontal flips of the real images (against mode collapse)", tunable=True,
                         label="Random flips")
    augment: str = setting("none", "differentiable augmentation of everything D sees, for small datasets "
                           "(DiffAugment): none, or a comma list of color, translation, cutout",
                           parts=("color", "translation", "cutout"), tunable=True, label="Augmentation")
    seed: int = setting(0, "seeds the init, the epoch order, the noise and the fixed-noise grid")
    ema: float = setting(0.0, "keep an exponential moving average of G's weights with this decay per step (0: off, "
                         "the paper's recipe; 0.999 is the usual choice): the run's generator, its grids and its FID "
                         "use the average, the checkpoint keeps the raw G too", label="EMA decay")
    # ---- where and how fast
    device: str = setting("auto", "auto, cpu, cuda or cuda:N", on_resume=True)
    precision: str = setting("auto", "fp32; bf16 autocast; or auto: bf16 on CUDA and on CPUs with "
                             "AVX512-BF16 or AMX, fp32 elsewhere (config.json records the one used)",
                             choices=("auto", "fp32", "bf16"))
    compile: bool = setting(False, "torch.compile G and D (measured slower at width 64 on an H200; may pay "
                                   "for wider models)", on_resume=True, label="torch.compile")
    # ---- what is recorded
    track: str = setting("", "also log to these trackers: a comma list of tensorboard, trackio, wandb", on_resume=True,
                         parts=("tensorboard", "trackio", "wandb"), label="Trackers")
    log_every: int = setting(10, "steps between logged metrics (and host syncs)", on_resume=True,
                             label="Log every (steps)")
    n_samples: int = setting(64, "images in the fixed-noise grid saved each epoch", label="Grid images")
    ckpt_every_s: float = setting(600.0, "also checkpoint mid-epoch this often (seconds)", on_resume=True,
                                  label="Checkpoint every (s)")
    fid_every: int = setting(0, "compute FID every K epochs and keep checkpoints/best.pt (0: never)",
                             label="FID every (epochs)")
    fid_n: int = setting(2048, "generated images per FID evaluation", label="FID images")
    fid_dims: int = setting(2048, "Inception feature block for FID", choices=(64, 192, 768, 2048),
                            label="FID feature dims")
    fid_weights: str | None = setting(None, "FID Inception weights (default: $DCGAN_FID_WEIGHTS or download)",
                                      server_path=True, label="FID weights file")

    def __post_init__(self):
        bad: list[str] = []  # each names its setting as {name} (errors.UserError): adapters word it

        def refuse(name: str, words: str, show: bool = True) -> None:
            bad.append(f"{{{name}}} {words}" + (f" (got {_show(getattr(self, name))})" if show else ""))

        for f in fields(self):
            choices = f.metadata["choices"]
            if choices and getattr(self, f.name) not in choices:
                refuse(f.name, f"must be one of {', '.join(map(str, choices))}")
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            refuse("epochs", "must be >= 1")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            refuse("batch_size", "must be >= 1: the batch size is how many images each step sees")
        if not (math.isfinite(self.lr) and 0 < self.lr < 1):
            refuse("lr", "must be a finite number in (0, 1)")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                refuse(name, "must lie in [0, 1)")
        if not (isinstance(self.seed, int) and 0 <= self.seed < 1 << 63):
            refuse("seed", "must be a whole number from 0 to 2^63 - 1")
        if self.max_images is not None and self.max_images < 1:
            refuse("max_images", "must be >= 1 (or not set, for all images)")
        if self.log_every < 1:
            refuse("log_every", "must be >= 1")
        if not 1 <= self.n_samples <= 1024:
            refuse("n_samples", "must lie in 1..1024")
        if not (math.isfinite(self.ckpt_every_s) and self.ckpt_every_s > 0):
            refuse("ckpt_every_s", "must be a positive number of seconds")
        if not (isinstance(self.ema, (int, float)) and math.isfinite(self.ema) and 0 <= self.ema < 1):
            refuse("ema", "must be 0 (off) or a decay in (0, 1), e.g. 0.999")
        if self.fid_every < 0:
            refuse("fid_every", "must be >= 0")
        if self.fid_every and self.fid_n < 2:
            refuse("fid_n", "must be >= 2")
        try:
            self.augment = ",".join(parse_policy(self.augment)) or "none"
        except ConfigError as e:
            bad.append(e.template)
        try:
            self.track = ",".join(parse_trackers(self.track))
        except ConfigError as e:
            bad.append(e.template)
        if bad:
            raise ConfigError("; ".join(bad), settings=[f.name for f in fields(self)])
        try:
            self.model()  # validates nz, ngf, ndf
        except ValueError as e:
            raise ConfigError(str(e)) from None

    # ---------------------------------------------------------------- derived
    def model(self) -> ModelConfig:
        return ModelConfig(self.nz, self.ngf, self.ndf, self.channels, self.image_size, self.upsample)

    def half(self) -> "TrainConfig":
        """The blog's fix for mode collapse: half the channels of G and D (32 with the defaults)."""
        m = self.model().half()
        return replace(self, ngf=m.ngf, ndf=m.ndf)

    def resumed(self, saved: dict) -> "TrainConfig":
        """The settings of a resumed run: the saved ones, except those that may change on resume."""
        keep = {f.name: getattr(self, f.name) for f in fields(self) if _may_change(f)}
        return type(self).from_dict({**saved, **keep})

    def tuned(self, saved: dict) -> dict:
        """The tunable settings in which this config differs from a saved one: {name: new value}."""
        before = type(self).from_dict(saved)
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.metadata["tunable"] and getattr(self, f.name) != getattr(before, f.name)}

    @classmethod
    def for_resume(cls, saved: dict, changes: dict) -> "TrainConfig":
        """The saved settings with the `changes` a person asked for on resume. A change to a setting
        that is part of the run's identity (widths, data, seed, ...) is refused in one line rather
        than dropped in silence; asking for the value the run already has is fine."""
        before, after = cls.from_dict(saved), cls.from_dict({**saved, **changes})
        fixed = [f for f in fields(cls) if f.name in changes and not _may_change(f)
                 and getattr(after, f.name) != getattr(before, f.name)]
        if fixed:
            said = ", ".join(f"{{{f.name}}} {_plain(getattr(after, f.name))} (the run has "
                             f"{_plain(getattr(before, f.name))})" for f in fixed)
            may = changeable(cls)
            raise ConfigError(f"a resumed run keeps its settings; cannot change {said}. Start a new run to train "
                              f"with different settings (these may change: {', '.join('{' + n + '}' for n in may)})",
                              settings=[f.name for f in fixed] + may)
        return after

    # ---------------------------------------------------------------- conversions
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """From a recorded config (unknown keys, such as the data fingerprint, are ignored; `nc`, the
        image channels' name in configs written before 0.9, is read as `channels`)."""
        names = {f.name for f in fields(cls)}
        d = {**({"channels": d["nc"]} if "nc" in d and "channels" not in d else {}), **d}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def coerce(cls, values: dict) -> "TrainConfig":
        """From loosely typed values (a form's floats and strings) keyed by field name."""
        hints = typing.get_type_hints(cls)
        out = {}
        for name, v in values.items():
            if name not in hints:
                raise ConfigError(f"unknown setting {name!r}")
            try:
                out[name] = _convert(hints[name], v)
            except (TypeError, ValueError, OverflowError):
                raise ConfigError(f"{{{name}}} must be {_type_word(hints[name])} (got {_show(v)})",
                                  settings=(name,)) from None
        return cls(**out)

    def command(self, out: str = "RUN_DIR", epochs: int | None = None) -> str:
        """The `train` command that reproduces this run's weights (runs are seeded): its identity
        settings where they differ from the defaults, and the epochs; not where or how fast it ran."""
        parts = ["python -m dcgan train", f"--data {self.data}", f"--out {out}"]
        for f in fields(self):
            value = epochs if f.name == "epochs" and epochs else getattr(self, f.name)
            if f.name == "data" or (f.name != "epochs" and (f.metadata["on_resume"] or value == f.default)):
                continue
            flag = flag_of(f)
            if isinstance(value, bool):
                parts.append(flag if value else "--no-" + flag[2:])
            else:
                parts.append(f"{flag} {value}")
        return " ".join(parts)


def _may_change(f) -> bool:
    return bool(f.metadata["on_resume"] or f.metadata["tunable"])


def changeable(cls=TrainConfig) -> list[str]:
    """The settings a resumed (or rewound) run may change, by name."""
    return [f.name for f in fields(cls) if _may_change(f)]


def label_of(f) -> str:
    """A setting's title where a form shows it."""
    return f.metadata["label"] or f.name.replace("_", " ").capitalize()


def _plain(v) -> str:
    return "on" if v is True else "off" if v is False else str(v)


def _show(v) -> str:
    """A value for a message: its repr, cut short (a form may send 5,000 characters)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return "nothing"
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def _convert(tp, v):
    if v is None or (isinstance(v, str) and v.strip() == "" and type(None) in typing.get_args(tp)):
        if type(None) in typing.get_args(tp):
            return None
        raise ValueError("missing")
    base = next((a for a in typing.get_args(tp) if a is not type(None)), tp)
    if base is bool:
        if isinstance(v, str):
            if v.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(v)
            return v.lower() in ("true", "1", "yes")
        return bool(v)
    if base is int:
        f = float(v)
        if not f.is_integer():
            raise ValueError(v)
        return int(f)
    if base is float:
        return float(v)
    return str(v)


def _type_word(tp) -> str:
    base = next((a for a in typing.get_args(tp) if a is not type(None)), tp)
    return {int: "a whole number", float: "a number", bool: "true or false"}.get(base, "text")


def flag_of(f) -> str:
    """A setting's command-line flag: its name with dashes (`max_images` -> `--max-images`)."""
    return "--" + f.name.replace("_", "-")


def base_type(cls, f):
    """A field's type without Optional: int, float, bool or str."""
    hint = typing.get_type_hints(cls)[f.name]
    return next((a for a in typing.get_args(hint) if a is not type(None)), hint)


def add_arguments(parser: argparse.ArgumentParser, cls=TrainConfig) -> None:
    """One flag per field of `cls` (help, choices and defaults from the field), plus --half. Flags
    not given are left out of the namespace (`given` reads what a person asked for)."""
    for f in fields(cls):
        base, default = base_type(cls, f), f.default
        if base is bool:
            parser.add_argument(flag_of(f), dest=f.name, action=argparse.BooleanOptionalAction,
                                default=argparse.SUPPRESS,
                                help=f.metadata["help"] + f" (default: {'on' if default else 'off'})")
        else:
            help_ = f.metadata["help"] + ("" if default is None else f" (default: {default})")
            parser.add_argument(flag_of(f), dest=f.name, type=base, default=argparse.SUPPRESS, help=help_,
                                choices=f.metadata["choices"], metavar=None if f.metadata["choices"] else f.name.upper())
    parser.add_argument("--half", action="store_true",
                        help="half channels: ngf and ndf halved (32 with the defaults), the blog's fix for collapse")


def given(ns: argparse.Namespace, cls=TrainConfig) -> dict:
    """The settings flags a person gave, by field name (the rest keep their defaults)."""
    return {f.name: getattr(ns, f.name) for f in fields(cls) if hasattr(ns, f.name)}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device cuda was asked for but no CUDA device is available")
    try:
        return torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r} (auto, cpu, cuda or cuda:N)") from None


def bf16_supported(device: torch.device) -> bool:
    """Whether bf16 autocast is fast here: any CUDA device, or a CPU with AVX512-BF16 or AMX."""
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    probes = [getattr(torch.cpu, n, None) for n in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    if any(p is not None for p in probes):
        return any(p() for p in probes if p is not None)
    try:  # older torch: ask the kernel
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' -> 'bf16' where bf16_supported, else 'fp32'; the others unchanged."""
    if precision == "auto":
        return "bf16" if bf16_supported(device) else "fp32"
    return precision
