"""The DCGAN training loop, written as a generator of events that the CLI and the app consume.

`train(cfg, out)` yields plain dicts: {"type": "start" | "step" | "epoch" | "checkpoint" |
"alarm" | "warning" | "done", ...}. It writes the run directory (runs.py) as it goes and can be
stopped at any step through `stop` (an object with `is_set()`), which saves a checkpoint first.

The hot path keeps the whole dataset as one uint8 tensor on the training device (pinned host
memory when it does not fit), draws batches by random index, flips and scales there, and syncs
with the host only every `log_every` steps. All randomness after init comes from torch.Generators
whose states are checkpointed with the current epoch's permutation, so a resumed run continues
exactly (bit-identical on CPU). Under torchrun the ranks train data-parallel (distributed.py).
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F

from . import data as datamod
from . import monitor
from .config import TrainConfig, resolve_device
from .distributed import Dist, checksum
from .images import grid_image, to_float
from .latent import grid_seeds, sample, z_from_seeds
from .models import build
from .runs import RunDir, load_checkpoint

__all__ = ["TrainConfig", "TrainingError", "resolve_device", "train"]


class TrainingError(RuntimeError):
    """Training cannot go on (diverged, bad data); the message is for users."""


def _init_state(cfg: TrainConfig, device: torch.device) -> dict:
    g, d = build(cfg.model(), seed=cfg.seed)
    return {"G": g.state_dict(), "D": d.state_dict(), "opt_g": None, "opt_d": None, "epoch": 0,
            "step": 0, "step_in_epoch": 0, "epoch_perm": None, "metrics": [],
            "rng": torch.Generator(device).manual_seed(cfg.seed).get_state(), "rank_rng": None,
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


class Trainer:
    def __init__(self, cfg: TrainConfig, out: str | Path, resume: bool, stop):
        self.run, self.stop, self.dist = RunDir(out), stop, Dist()
        self.device = device = self.dist.setup(resolve_device(cfg.device))
        self.notes: list[dict] = []
        run = self.run
        if resume:
            if not run.last.exists():
                raise FileNotFoundError(f"nothing to resume: {run.last} does not exist")
            state = load_checkpoint(run.last)
            saved = TrainConfig.from_dict(state["config"])
            # only how long and where to run may change on resume; the rest is the run's identity
            cfg = TrainConfig.from_dict({**saved.to_dict(), "epochs": cfg.epochs, "device": cfg.device,
                                         "log_every": cfg.log_every, "ckpt_every_s": cfg.ckpt_every_s,
                                         "compile": cfg.compile})
        else:
            if run.last.exists():
                raise FileExistsError(f"{run.path} already holds a run; pass --resume to continue it "
                                      "or choose another --out")
            state = _init_state(cfg, device)
        self.cfg, self.resumed = cfg, resume
        images, self.report = datamod.load(cfg.data, cfg.image_size, data_root=cfg.data_root,
                                           max_images=cfg.max_images)
        if resume and state["config"].get("data_fingerprint") not in (None, self.report.fingerprint):
            self.notes.append({"type": "warning", "message": "the data source changed since this run started"})
        world = self.dist.world
        self.n = n = len(images)
        shard = n // world
        if shard < 1:
            raise ValueError(f"{n} images cannot be shared among {world} processes")
        self.bs = bs = min(cfg.batch_size, shard)
        self.steps_per_epoch = shard // bs  # the last partial batch is dropped, as BatchNorm prefers
        self.config = {**cfg.to_dict(), "data_fingerprint": self.report.fingerprint, "n_images": n,
                       "steps_per_epoch": self.steps_per_epoch, "device_used": str(device), "world_size": world}
        if self.dist.main:
            if resume:
                run.rewrite_metrics(state["metrics"])
            run.write_config(self.config)
            run.set_status("running", epoch=state["epoch"], epochs=cfg.epochs)

        self.mem = torch.channels_last  # faster on CUDA and, measured, on this CPU's oneDNN too
        self.on_host = False
        if device.type == "cuda":
            try:
                images = images.to(device)
            except torch.OutOfMemoryError:  # keep it on the host, pinned, and copy each batch over
                images, self.on_host = images.pin_memory(), True
                self.notes.append({"type": "warning", "message": "the dataset does not fit on the GPU; "
                                   "batches are copied from pinned host memory"})
        self.images = images
        g, d = build(cfg.model())
        g.load_state_dict(state["G"])
        d.load_state_dict(state["D"])
        self.g = g.to(device, memory_format=self.mem).train()
        self.d = d.to(device, memory_format=self.mem).train()
        self.g_fwd = torch.compile(self.g) if cfg.compile else self.g
        self.d_logits = torch.compile(self.d.logits) if cfg.compile else self.d.logits
        adam = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), **({"fused": True} if device.type == "cuda" else {}))
        self.opt_g = torch.optim.Adam(self.g.parameters(), **adam)
        self.opt_d = torch.optim.Adam(self.d.parameters(), **adam)
        if state["opt_g"] is not None:
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
        # gen draws the epoch order (the same on every rank); noise draws z and flips (per rank)
        self.gen = torch.Generator(device)
        self.gen.set_state(state["rng"])
        self.noise = self.gen
        if world > 1:
            self.noise = torch.Generator(device)
            saved_rng = state.get("rank_rng")
            if saved_rng and len(saved_rng) == world:
                self.noise.set_state(saved_rng[self.dist.rank])
            else:
                self.noise.manual_seed(cfg.seed * 1009 + self.dist.rank + 1)
        self.fixed_noise = state["fixed_noise"]
        self.metrics: list[dict] = list(state["metrics"])
        self.steps_seen = [m for m in self.metrics if m.get("kind") == "step"]
        pick = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed))[:cfg.n_samples]
        # diversity of real images, on a fixed subset, as the yardstick for the samples'
        self.real_div = monitor.diversity(to_float(images[pick.to(images.device)].cpu()))
        self.best_div, self.best_fid = state["best_diversity"], state.get("best_fid")
        self.tracker = _fid_tracker(cfg, device) if cfg.fid_every and self.dist.main else None
        self.autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16")
        self.epoch, self.step = state["epoch"], state["step"]
        self.start_in_epoch, self.perm = state["step_in_epoch"], state["epoch_perm"]
        self.acc = torch.zeros(4, device=device)
        self.acc_n, self.t_log, self.last_ckpt = 0, time.perf_counter(), time.monotonic()
        self.ones, self.zeros = torch.ones(bs, device=device), torch.zeros(bs, device=device)

    # ------------------------------------------------------------------ one step
    def train_step(self, idx: torch.Tensor) -> None:
        cfg, g, dl = self.cfg, self.g_fwd, self.d_logits
        real = self.images.index_select(0, idx)
        if self.on_host:
            real = real.to(self.device, non_blocking=True)
        if cfg.flip:
            real = datamod.flip(real, self.noise)
        real = to_float(real).contiguous(memory_format=self.mem)
        z = torch.randn(self.bs, cfg.nz, 1, 1, generator=self.noise, device=self.device)

        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        self.opt_d.zero_grad(set_to_none=True)
        with self.autocast:
            fake = g(z)
            out_real = dl(real).float()
            out_fake = dl(fake.detach()).float()
            loss_d = (F.binary_cross_entropy_with_logits(out_real, self.ones)
                      + F.binary_cross_entropy_with_logits(out_fake, self.zeros))
        loss_d.backward()
        self.dist.average_grads(self.d)
        self.opt_d.step()

        # (2) Update G: maximize log(D(G(z))) (the non-saturating loss)
        self.opt_g.zero_grad(set_to_none=True)
        # gradients flow through D to G, but D's own weight gradients would be thrown away:
        # freezing D skips computing them (about a twelfth of a step's FLOPs)
        self.d.requires_grad_(False)
        with self.autocast:
            loss_g = F.binary_cross_entropy_with_logits(dl(fake).float(), self.ones)
        loss_g.backward()
        self.d.requires_grad_(True)
        self.dist.average_grads(self.g)
        self.opt_g.step()

        self.step += 1
        with torch.no_grad():
            self.acc += torch.stack([loss_d.detach(), loss_g.detach(), out_real.sigmoid().mean(),
                                     out_fake.sigmoid().mean()])
        self.acc_n += 1

    def flush(self) -> dict | None:
        """Average the accumulated metrics (the one host sync per log_every steps) and log them."""
        if self.acc_n == 0:
            return None
        vals = self.dist.mean_(self.acc / self.acc_n).tolist()
        now = time.perf_counter()
        rec = {"kind": "step", "step": self.step, "epoch": self.epoch + 1, "loss_d": vals[0], "loss_g": vals[1],
               "d_real": vals[2], "d_fake": vals[3],
               "images_per_s": self.acc_n * self.bs * self.dist.world / max(now - self.t_log, 1e-9)}
        self.acc.zero_()
        self.acc_n, self.t_log = 0, now
        if not all(math.isfinite(v) for v in vals[:2]):
            if self.dist.main:
                self.run.set_status("failed", reason="non-finite loss")
            raise TrainingError(f"the loss became {'NaN' if math.isnan(vals[0] + vals[1]) else 'infinite'} "
                                f"at step {self.step}; training stopped and the last good checkpoint "
                                f"({self.run.last}) was kept. Try a lower --lr.")
        self.metrics.append(rec)
        self.steps_seen.append(rec)
        if self.dist.main:
            self.run.append_metrics([rec])
        return rec

    # ------------------------------------------------------------------ checkpoints
    def snapshot(self, step_in_epoch: int, perm) -> dict:
        return {"config": self.config, "G": self.g.state_dict(), "D": self.d.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "epoch": self.epoch,
                "step": self.step, "step_in_epoch": step_in_epoch,
                "epoch_perm": None if perm is None else perm.cpu(), "rng": self.gen.get_state(),
                "rank_rng": self.dist.gather(self.noise.get_state()) if self.dist.on else None,
                "fixed_noise": self.fixed_noise, "metrics": self.metrics, "best_diversity": self.best_div,
                "best_fid": self.best_fid, "world_size": self.dist.world}

    def save(self, step_in_epoch: int, perm, best: bool = False) -> Path:
        snap = self.snapshot(step_in_epoch, perm)  # a collective under torchrun: every rank calls it
        self.last_ckpt = time.monotonic()
        if self.dist.main:
            self.run.save_checkpoint(snap)
            if best:  # DCGANs often get worse late in training: keep the best epoch
                self.run.save_checkpoint(snap, self.run.best)
        return self.run.last

    # ------------------------------------------------------------------ epoch end
    def end_epoch(self) -> Iterator[dict]:
        self.dist.average_buffers(self.g)
        self.dist.average_buffers(self.d)
        if not self.dist.main:
            self.save(0, None)
            return
        cfg, run = self.cfg, self.run
        samples = sample(self.g, self.fixed_noise)
        img_path = run.save_sample(self.epoch, grid_image(samples, nrow=int(math.sqrt(cfg.n_samples)) or None))
        run.update_gif()
        ratio = monitor.diversity(samples) / max(self.real_div, 1e-12)
        signals, alarms = monitor.check(self.steps_seen, ratio, self.best_div)
        self.best_div = ratio if self.best_div is None else max(self.best_div, ratio)
        erec = {"kind": "epoch", "epoch": self.epoch, "step": self.step, "diversity_ratio": ratio,
                "signals": signals, "alarms": [a.to_dict() for a in alarms]}
        improved = False
        if self.tracker and (self.epoch % cfg.fid_every == 0 or self.epoch == cfg.epochs):
            erec["fid"], erec["fid_protocol"] = self.tracker(self.g)
            improved = self.best_fid is None or erec["fid"] < self.best_fid
            self.best_fid = erec["fid"] if improved else self.best_fid
        self.metrics.append(erec)
        run.append_metrics([erec])
        path = self.save(0, None, best=improved)
        run.save_generator(self.g)
        run.set_status("running" if self.epoch < cfg.epochs else "finished", epoch=self.epoch, epochs=cfg.epochs)
        yield {"type": "epoch", "epoch": self.epoch, "epochs": cfg.epochs, "step": self.step,
               "sample": str(img_path), "gif": str(run.gif), "diversity_ratio": ratio, "signals": signals,
               **({"fid": erec["fid"], "fid_protocol": erec["fid_protocol"], "best_fid": self.best_fid}
                  if "fid" in erec else {})}
        for a in alarms:
            yield {"type": "alarm", "epoch": self.epoch, **a.to_dict(), "text": str(a)}
        yield {"type": "checkpoint", "path": str(path), "epoch": self.epoch, "step": self.step}

    # ------------------------------------------------------------------ the loop
    def _should(self, at_log: bool) -> tuple[bool, bool]:
        """(stop now, checkpoint now); under torchrun agreed by all ranks, at log steps only."""
        if not self.dist.on:
            stopping = self.stop is not None and self.stop.is_set()
            return stopping, stopping or time.monotonic() - self.last_ckpt > self.cfg.ckpt_every_s
        if not at_log:
            return False, False
        stopping = self.dist.any(self.stop is not None and self.stop.is_set(), self.device)
        timed = self.dist.any(time.monotonic() - self.last_ckpt > self.cfg.ckpt_every_s, self.device)
        return stopping, stopping or timed

    def events(self) -> Iterator[dict]:
        cfg, run, main = self.cfg, self.run, self.dist.main
        yield from self.notes
        yield {"type": "start", "config": self.config, "data": self.report.to_dict(),
               "resumed_from_epoch": self.epoch if self.resumed else None, "device": str(self.device),
               "steps_per_epoch": self.steps_per_epoch}
        try:
            while self.epoch < cfg.epochs:
                if self.perm is None:
                    self.perm = torch.randperm(self.n, generator=self.gen, device=self.device)
                mine = self.perm[self.dist.rank::self.dist.world]
                if self.on_host:
                    mine = mine.cpu()
                for i in range(self.start_in_epoch, self.steps_per_epoch):
                    self.train_step(mine[i * self.bs:(i + 1) * self.bs])
                    at_log = self.acc_n >= cfg.log_every
                    if at_log:
                        yield {"type": "step", **self.flush(), "steps_per_epoch": self.steps_per_epoch}
                    stopping, checkpoint = self._should(at_log)
                    if checkpoint:
                        rec = self.flush()
                        if rec:
                            yield {"type": "step", **rec, "steps_per_epoch": self.steps_per_epoch}
                        # mid-epoch: keep this epoch's order and position so resume continues exactly
                        path = self.save(i + 1, self.perm)
                        self.t_log = time.perf_counter()
                        yield {"type": "checkpoint", "path": str(path), "epoch": self.epoch, "step": self.step}
                    if stopping:
                        if main:
                            run.set_status("stopped", epoch=self.epoch, step=self.step)
                        yield {"type": "done", "reason": "stopped", "epoch": self.epoch, "step": self.step}
                        return
                rec = self.flush()
                if rec:
                    yield {"type": "step", **rec, "steps_per_epoch": self.steps_per_epoch}
                self.epoch += 1
                self.start_in_epoch, self.perm = 0, None
                yield from self.end_epoch()
                self.t_log = time.perf_counter()  # images/s measures training, not the epoch's end
        except TrainingError:
            raise
        except OSError as e:  # disk full, permissions, a vanished directory: stop, keep what is saved
            if main:
                try:
                    run.set_status("failed", reason=f"write failed: {e.strerror or e}")
                except OSError:
                    pass  # the disk may be too full even for the status file
            raise TrainingError(f"could not write to {run.path} ({e.strerror or e}); training stopped. "
                                f"Checkpoints written before this point are intact; free space and --resume.") from None
        except BaseException:
            if main and run.status().get("state") == "running":
                run.set_status("interrupted", epoch=self.epoch, step=self.step)
            raise
        done = {"type": "done", "reason": "finished", "epoch": self.epoch, "step": self.step}
        if self.dist.on:
            sums = self.dist.gather(checksum(self.g) + checksum(self.d))
            done["ranks_in_sync"] = len(set(sums)) == 1
            if main:
                run.set_status("finished", epoch=self.epoch, epochs=cfg.epochs, world_size=self.dist.world,
                               ranks_in_sync=done["ranks_in_sync"])
        yield done


def train(cfg: TrainConfig, out: str | Path, *, resume: bool = False, stop=None) -> Iterator[dict]:
    trainer = Trainer(cfg, out, resume, stop)
    try:
        yield from trainer.events()
    finally:
        trainer.dist.close()
