"""The DCGAN training loop, written as a generator of events that the CLI and the app consume.

`train(cfg, out)` yields plain dicts: {"type": "start" | "step" | "epoch" | "checkpoint" |
"alarm" | "warning" | "done", ...}. It writes the run directory (runs.py) as it goes and can be
stopped at any step through `stop` (an object with `is_set()`), which saves a checkpoint first.

The hot path keeps the whole dataset as one uint8 tensor on the training device, draws batches
by random index, flips and scales there, and syncs with the host only every `log_every` steps.
All randomness after init comes from one torch.Generator whose state is checkpointed with the
current epoch's permutation, so a resumed run continues exactly (bit-identical on CPU).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F

from . import data as datamod
from . import monitor
from .images import grid_image, to_float
from .latent import grid_seeds, sample, z_from_seeds
from .models import ModelConfig, build
from .runs import RunDir, load_checkpoint


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


class TrainingError(RuntimeError):
    """Training cannot go on (diverged, bad data); the message is for users."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA device is available")
    return torch.device(name)


def _init_state(cfg: TrainConfig, device: torch.device) -> dict:
    g, d = build(cfg.model(), seed=cfg.seed)
    return {"G": g.state_dict(), "D": d.state_dict(), "opt_g": None, "opt_d": None, "epoch": 0,
            "step": 0, "step_in_epoch": 0, "epoch_perm": None, "metrics": [],
            "rng": torch.Generator(device).manual_seed(cfg.seed).get_state(),
            "fixed_noise": z_from_seeds(grid_seeds(cfg.seed, cfg.n_samples), cfg.nz),
            "best_diversity": None, "best_fid": None}


def _fid_tracker(cfg: TrainConfig, device: torch.device):
    """fn(G) -> (fid, protocol) against the training data's cached Inception statistics."""
    from .metrics import Evaluator, compare

    ev = Evaluator(weights=cfg.fid_weights, device=device, dims=cfg.fid_dims)
    real = ev.side(cfg.data, data_root=cfg.data_root)  # featurised once, then cached on disk

    def measure(g) -> tuple[float, str]:
        rep = compare(ev, real, ev.generator_side(g, cfg.fid_n, seed=cfg.seed), extras=False)
        return rep["fid"], rep["protocol"]

    return measure


def train(cfg: TrainConfig, out: str | Path, *, resume: bool = False, stop=None) -> Iterator[dict]:
    run = RunDir(out)
    device = resolve_device(cfg.device)
    if resume:
        if not run.last.exists():
            raise FileNotFoundError(f"nothing to resume: {run.last} does not exist")
        state = load_checkpoint(run.last)
        saved = TrainConfig.from_dict(state["config"])
        # only how long and where to run may change on resume; the rest is the run's identity
        cfg = TrainConfig.from_dict({**saved.to_dict(), "epochs": cfg.epochs, "device": cfg.device,
                                     "log_every": cfg.log_every, "ckpt_every_s": cfg.ckpt_every_s})
        run.rewrite_metrics(state["metrics"])
    else:
        if run.last.exists():
            raise FileExistsError(f"{run.path} already holds a run; pass --resume to continue it "
                                  "or choose another --out")
        state = _init_state(cfg, device)

    images, report = datamod.load(cfg.data, cfg.image_size, data_root=cfg.data_root, max_images=cfg.max_images)
    if resume and state["config"].get("data_fingerprint") not in (None, report.fingerprint):
        yield {"type": "warning", "message": "the data source changed since this run started"}
    n = len(images)
    bs = min(cfg.batch_size, n)
    steps_per_epoch = n // bs  # the last partial batch is dropped, as BatchNorm prefers
    config = {**cfg.to_dict(), "data_fingerprint": report.fingerprint, "n_images": n,
              "steps_per_epoch": steps_per_epoch, "device_used": str(device)}
    run.write_config(config)
    run.set_status("running", epoch=state["epoch"], epochs=cfg.epochs)

    cuda = device.type == "cuda"
    mem = torch.channels_last if cuda else torch.contiguous_format
    images = images.to(device)
    g, d = build(cfg.model())
    g.load_state_dict(state["G"])
    d.load_state_dict(state["D"])
    g.to(device, memory_format=mem).train()
    d.to(device, memory_format=mem).train()
    adam = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), **({"fused": True} if cuda else {}))
    opt_g, opt_d = torch.optim.Adam(g.parameters(), **adam), torch.optim.Adam(d.parameters(), **adam)
    if state["opt_g"] is not None:
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
    gen = torch.Generator(device)
    gen.set_state(state["rng"])
    fixed_noise = state["fixed_noise"]
    metrics: list[dict] = list(state["metrics"])
    steps_seen = [m for m in metrics if m.get("kind") == "step"]
    # diversity of real images, on a fixed subset, as the yardstick for the samples'
    pick = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed))[:cfg.n_samples]
    real_div = monitor.diversity(to_float(images[pick.to(device)].cpu()))
    best_div = state["best_diversity"]
    tracker = _fid_tracker(cfg, device) if cfg.fid_every else None
    best_fid = state.get("best_fid")
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16")

    epoch, step = state["epoch"], state["step"]
    start_in_epoch, perm = state["step_in_epoch"], state["epoch_perm"]
    yield {"type": "start", "config": config, "data": report.to_dict(), "resumed_from_epoch": epoch if resume else None,
           "device": str(device), "steps_per_epoch": steps_per_epoch}

    def snapshot(step_in_epoch: int, cur_perm) -> dict:
        return {"config": config, "G": g.state_dict(), "D": d.state_dict(), "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(), "epoch": epoch, "step": step, "step_in_epoch": step_in_epoch,
                "epoch_perm": None if cur_perm is None else cur_perm.cpu(), "rng": gen.get_state(),
                "fixed_noise": fixed_noise, "metrics": metrics, "best_diversity": best_div,
                "best_fid": best_fid}

    acc = torch.zeros(4, device=device)
    acc_n, t_log, last_ckpt = 0, time.perf_counter(), time.monotonic()
    ones, zeros = torch.ones(bs, device=device), torch.zeros(bs, device=device)

    def flush() -> dict | None:
        nonlocal acc_n, t_log
        if acc_n == 0:
            return None
        vals = (acc / acc_n).tolist()  # the one host sync per log_every steps
        now = time.perf_counter()
        rec = {"kind": "step", "step": step, "epoch": epoch + 1, "loss_d": vals[0], "loss_g": vals[1],
               "d_real": vals[2], "d_fake": vals[3], "images_per_s": acc_n * bs / max(now - t_log, 1e-9)}
        acc.zero_()
        acc_n, t_log = 0, now
        if not all(math.isfinite(v) for v in vals[:2]):
            run.set_status("failed", reason="non-finite loss")
            raise TrainingError(f"the loss became {'NaN' if math.isnan(vals[0] + vals[1]) else 'infinite'} "
                                f"at step {step}; training stopped and the last good checkpoint "
                                f"({run.last}) was kept. Try a lower --lr.")
        metrics.append(rec)
        steps_seen.append(rec)
        run.append_metrics([rec])
        return rec

    try:
        while epoch < cfg.epochs:
            if perm is None:
                perm = torch.randperm(n, generator=gen, device=device)
            for i in range(start_in_epoch, steps_per_epoch):
                real = images.index_select(0, perm[i * bs:(i + 1) * bs])
                if cfg.flip:
                    real = datamod.flip(real, gen)
                real = to_float(real).contiguous(memory_format=mem)
                z = torch.randn(bs, cfg.nz, 1, 1, generator=gen, device=device)

                # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
                opt_d.zero_grad(set_to_none=True)
                with autocast:
                    fake = g(z)
                    out_real = d.logits(real).float()
                    out_fake = d.logits(fake.detach()).float()
                    loss_d = (F.binary_cross_entropy_with_logits(out_real, ones)
                              + F.binary_cross_entropy_with_logits(out_fake, zeros))
                loss_d.backward()
                opt_d.step()

                # (2) Update G: maximize log(D(G(z))) (the non-saturating loss)
                opt_g.zero_grad(set_to_none=True)
                with autocast:
                    loss_g = F.binary_cross_entropy_with_logits(d.logits(fake).float(), ones)
                loss_g.backward()
                opt_g.step()

                step += 1
                with torch.no_grad():
                    acc += torch.stack([loss_d.detach(), loss_g.detach(),
                                        out_real.sigmoid().mean(), out_fake.sigmoid().mean()])
                acc_n += 1
                if acc_n >= cfg.log_every:
                    rec = flush()
                    yield {"type": "step", **rec, "steps_per_epoch": steps_per_epoch}
                stopping = stop is not None and stop.is_set()
                if stopping or time.monotonic() - last_ckpt > cfg.ckpt_every_s:
                    rec = flush()
                    if rec:
                        yield {"type": "step", **rec, "steps_per_epoch": steps_per_epoch}
                    # mid-epoch: keep this epoch's order and position so resume continues exactly
                    path = run.save_checkpoint(snapshot(i + 1, perm))
                    last_ckpt = time.monotonic()
                    yield {"type": "checkpoint", "path": str(path), "epoch": epoch, "step": step}
                    if stopping:
                        run.set_status("stopped", epoch=epoch, step=step)
                        yield {"type": "done", "reason": "stopped", "epoch": epoch, "step": step}
                        return
            rec = flush()
            if rec:
                yield {"type": "step", **rec, "steps_per_epoch": steps_per_epoch}
            epoch += 1
            start_in_epoch, perm = 0, None

            samples = sample(g, fixed_noise)
            img_path = run.save_sample(epoch, grid_image(samples, nrow=int(math.sqrt(cfg.n_samples)) or None))
            run.update_gif()
            ratio = monitor.diversity(samples) / max(real_div, 1e-12)
            signals, alarms = monitor.check(steps_seen, ratio, best_div)
            best_div = ratio if best_div is None else max(best_div, ratio)
            erec = {"kind": "epoch", "epoch": epoch, "step": step, "diversity_ratio": ratio,
                    "signals": signals, "alarms": [a.to_dict() for a in alarms]}
            improved = False
            if tracker and (epoch % cfg.fid_every == 0 or epoch == cfg.epochs):
                erec["fid"], erec["fid_protocol"] = tracker(g)
                improved = best_fid is None or erec["fid"] < best_fid
                best_fid = erec["fid"] if improved else best_fid
            metrics.append(erec)
            run.append_metrics([erec])
            path = run.save_checkpoint(snapshot(0, None))
            if improved:  # DCGANs often get worse late in training: keep the best epoch
                run.save_checkpoint(snapshot(0, None), run.best)
            run.save_generator(g)
            last_ckpt = time.monotonic()
            run.set_status("running" if epoch < cfg.epochs else "finished", epoch=epoch, epochs=cfg.epochs)
            yield {"type": "epoch", "epoch": epoch, "epochs": cfg.epochs, "step": step, "sample": str(img_path),
                   "gif": str(run.gif), "diversity_ratio": ratio, "signals": signals,
                   **({"fid": erec["fid"], "fid_protocol": erec["fid_protocol"], "best_fid": best_fid}
                      if "fid" in erec else {})}
            for a in alarms:
                yield {"type": "alarm", "epoch": epoch, **a.to_dict(), "text": str(a)}
            yield {"type": "checkpoint", "path": str(path), "epoch": epoch, "step": step}
    except TrainingError:
        raise
    except BaseException:
        if run.status().get("state") == "running":
            run.set_status("interrupted", epoch=epoch, step=step)
        raise
    yield {"type": "done", "reason": "finished", "epoch": epoch, "step": step}
