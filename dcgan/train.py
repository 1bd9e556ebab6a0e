"""The DCGAN training loop, written as a generator of events that the CLI and the app consume.

`train(cfg, out)` yields typed events (events.py: Started, Logged, EpochDone, AlarmRaised,
Warned, Checkpointed, Finished). It writes the run directory (runs.py) as it goes and can be
stopped at any step through `stop` (an object with `is_set()`), which saves a checkpoint first.
The epoch-end work (grid, GIF, monitor, FID, checkpoints, export) is epoch_end.EpochEnd's.

The hot path keeps the whole dataset as one uint8 tensor on the training device (pinned host
memory when it does not fit), draws batches by random index, flips and scales there, and syncs
with the host only every `log_every` steps. All randomness after init comes from the two
torch.Generators of the TrainState (state.py), checkpointed with the current epoch's permutation,
so a resumed run continues exactly (bit-identical on CPU). Under torchrun the ranks train
data-parallel (distributed.py).
"""
from __future__ import annotations

import copy
import errno
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F

from . import data as datamod
from . import monitor
from .augment import Augment
from .config import TrainConfig, resolve_device, resolve_precision
from .distributed import Dist, checksum
from .epoch_end import EpochEnd
from .errors import RunExists, TrainingError, UserError
from .events import Checkpointed, Event, Finished, Logged, Started, Warned
from .images import to_float
from .runs import RunDir, load_checkpoint
from .state import TrainState
from .trackers import Trackers

# what each step record holds, averaged over the steps since the last log: the losses; D's mean
# output on real and on generated images; the generated batch's diversity over the real batch's
# (mean pairwise distance, 1 = as varied as the data, near 0 = G draws one picture); the spread
# (std) of D's outputs on generated images; the norm of G's gradient (vanishes when D wins)
STEP_KEYS = ("loss_d", "loss_g", "d_real", "d_fake", "batch_diversity", "d_fake_spread", "grad_norm_g")


SPECTRUM_IMAGES = 512  # real images whose spectrum is the checkerboard signal's yardstick


class Trainer:
    """Setup in __init__; then `events()` runs epochs of `train_step`, each closed by `epoch_end`."""

    # ------------------------------------------------------------------ setup
    def __init__(self, cfg: TrainConfig, out: str | Path, resume: bool, stop, data_progress=None,
                 start_from: str = "last"):
        self.run, self.stop, self.dist = RunDir(out), stop, Dist()
        self.data_progress = data_progress  # fn(done, total) while the dataset is decoded (first time only)
        self.device = self.dist.setup(resolve_device(cfg.device))
        self.notes: list[Event] = []  # warnings raised during setup, yielded first
        checkpoint = self._checkpoint(resume, start_from)
        cfg = cfg.resumed(checkpoint["config"]) if checkpoint else cfg
        changed = cfg.tuned(checkpoint["config"]) if checkpoint else {}
        # 'auto' is decided once, here, and recorded: a resumed run keeps the precision it began with
        self.cfg = cfg = replace(cfg, precision=resolve_precision(cfg.precision, self.device))
        self.resumed = checkpoint is not None
        self.images, self.report = self._load_data()
        if checkpoint and checkpoint["config"].get("data_fingerprint") not in (None, self.report.fingerprint):
            self.notes.append(Warned("the data source changed since this run started"))
        self.n = n = len(self.images)
        shard = n // self.dist.world
        if shard < 1:
            raise UserError(f"{n} images cannot be shared among {self.dist.world} processes")
        self.bs = min(cfg.batch_size, shard)
        self.steps_per_epoch = shard // self.bs  # the last partial batch is dropped, as BatchNorm prefers
        # what config.json records: the settings, plus what this run found out about its data and device
        self.run_config = {**cfg.to_dict(), "data_fingerprint": self.report.fingerprint, "n_images": n,
                           "steps_per_epoch": self.steps_per_epoch, "device_used": str(self.device),
                           "world_size": self.dist.world}
        self.run_config.update(self._history(checkpoint, start_from, changed))
        # channels_last: faster on CUDA and, measured, on this CPU's oneDNN too. Except when compiling
        # on CUDA: inductor in torch 2.11 mis-strides the channels_last weight gradient of G's first
        # ConvTranspose (seen on an H200: assert_size_stride fails in convolution_backward)
        self.mem = torch.contiguous_format if cfg.compile and self.device.type == "cuda" else torch.channels_last
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # every step has the same shapes (the partial batch is dropped)
        self.images, self.on_host = self._place(self.images)
        self.state = TrainState.create(cfg, self.device, self.dist, checkpoint, self.mem)
        self.rewound = self.run_config["rewinds"][-1] if checkpoint and start_from != "last" else None
        if self.dist.main:
            if self.rewound:  # the abandoned branch is kept aside
                rewind = self.rewound
                branch = self.run.branch_off(self.state.step, rewind)
                if branch is not None:
                    rewind["branch"] = str(branch.relative_to(self.run.path))
                # the stream says where the history forks, so a reader of metrics.jsonl alone sees it
                self.state.metrics.append({"kind": "rewind", "epoch": self.state.epoch, "step": self.state.step,
                                           **{k: v for k, v in rewind.items() if k != "time"}})
                self.run.save_generator(self.state.shown)
            if checkpoint:
                self.run.rewrite_metrics(self.state.metrics)
            self.run.write_config(self.run_config)
            self.run.set_status("running", epoch=self.state.epoch, epochs=cfg.epochs)
        self.g_fwd = torch.compile(self.state.g) if cfg.compile else self.state.g
        self.d_logits = torch.compile(self.state.d.logits) if cfg.compile else self.state.d.logits
        # the first compiled step is guarded (see _first_compiled_step); not under torchrun, where a
        # rank that retried its step would fall out of step with its peers' collectives
        self.compiled_untried = cfg.compile and not self.dist.on
        self.augment = Augment(cfg.augment)
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16")
        pick = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed))[:cfg.n_samples]
        # diversity and extreme-pixel share of real images, on a fixed subset: the samples' yardsticks
        real = self.images[pick.to(self.images.device)].cpu()
        # the data's spectrum from more images (a few peak bins per period are noisy over 64)
        wide = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed))[:SPECTRUM_IMAGES]
        self.epoch_end = EpochEnd(cfg, real, self.device, track_fid=bool(cfg.fid_every) and self.dist.main,
                                  real_for_spectrum=self.images[wide.to(self.images.device)].cpu())
        self.trackers = Trackers(cfg.track if self.dist.main else "", self.run.path, self.run_config)
        self.acc = torch.zeros(len(STEP_KEYS), device=self.device)  # STEP_KEYS summed since the last log
        self.acc_n, self.t_log, self.last_ckpt = 0, time.perf_counter(), time.monotonic()
        self.ones = torch.ones(self.bs, device=self.device)
        self.zeros = torch.zeros(self.bs, device=self.device)

    def _checkpoint(self, resume: bool, start_from: str) -> dict | None:
        if resume:
            return load_checkpoint(self.run.checkpoint_for(start_from))
        if start_from != "last":
            raise UserError(f"--from {start_from} continues a run: add --resume")
        if self.run.last.exists():
            raise RunExists(f"{self.run.path} already holds a run; pass --resume to continue it or choose another --out")
        return None

    def _history(self, checkpoint: dict | None, start_from: str, changed: dict) -> dict:
        """config.json's record of how this run was continued: "rewinds" (each resume from an earlier
        checkpoint: from_epoch, at_epoch it was abandoned, changed) and "changes" (settings changed
        on a plain resume), both carried over from the run's config.json."""
        if checkpoint is None:
            return {}
        before = self.run.read_config() if self.run.config.exists() else {}
        out = {k: list(before.get(k, [])) for k in ("rewinds", "changes")}
        if start_from != "last":
            reached = max([r["epoch"] for r in self.run.read_metrics() if r.get("kind") == "epoch"] or [0])
            out["rewinds"].append({"from_epoch": checkpoint["epoch"], "at_epoch": reached, "source": start_from,
                                   "changed": changed, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        elif changed:
            out["changes"].append({"at_epoch": checkpoint["epoch"], "step": checkpoint["step"], "changed": changed})
        return {k: v for k, v in out.items() if v}

    def _load_data(self):
        cfg = self.cfg
        return datamod.load(cfg.data, cfg.image_size, data_root=cfg.data_root, max_images=cfg.max_images,
                            channels=cfg.nc, progress=self.data_progress)

    def _place(self, images: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """The uint8 dataset on the device, or pinned on the host when it does not fit there."""
        if self.device.type != "cuda":
            return images, False
        try:
            return images.to(self.device), False
        except torch.OutOfMemoryError:  # keep it on the host, pinned, and copy each batch over
            self.notes.append(Warned("the dataset does not fit on the GPU; batches are copied from pinned "
                                     "host memory"))
            return images.pin_memory(), True

    # ------------------------------------------------------------------ one step
    def d_out(self, x: torch.Tensor) -> torch.Tensor:
        """D's logits for images as D sees them: through the augmentation policy, if any (its
        parameters drawn from the noise RNG; gradients flow through it to G)."""
        if self.augment:
            x = self.augment(x, self.state.noise_rng).contiguous(memory_format=self.mem)
        return self.d_logits(x).float()

    def train_step(self, idx: torch.Tensor) -> None:
        cfg, st, g, dl = self.cfg, self.state, self.g_fwd, self.d_out
        real = self.images.index_select(0, idx)
        if self.on_host:
            real = real.to(self.device, non_blocking=True)
        if cfg.flip:
            real = datamod.flip(real, st.noise_rng)
        real = to_float(real).contiguous(memory_format=self.mem)
        z = torch.randn(self.bs, cfg.nz, 1, 1, generator=st.noise_rng, device=self.device)

        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        st.opt_d.zero_grad(set_to_none=True)
        with self.autocast:
            fake = g(z)
            out_real = dl(real)
            out_fake = dl(fake.detach())
            loss_d = (F.binary_cross_entropy_with_logits(out_real, self.ones)
                      + F.binary_cross_entropy_with_logits(out_fake, self.zeros))
        loss_d.backward()
        self.dist.average_grads(st.d)
        st.opt_d.step()

        # (2) Update G: maximize log(D(G(z))) (the non-saturating loss)
        st.opt_g.zero_grad(set_to_none=True)
        # gradients flow through D to G, but D's own weight gradients would be thrown away:
        # freezing D skips computing them (about a twelfth of a step's FLOPs)
        st.d.requires_grad_(False)
        with self.autocast:
            loss_g = F.binary_cross_entropy_with_logits(dl(fake), self.ones)
        loss_g.backward()
        st.d.requires_grad_(True)
        self.dist.average_grads(st.g)
        st.opt_g.step()
        if st.g_ema is not None:
            st.update_ema(cfg.ema)

        st.step += 1
        with torch.no_grad():  # all on the device: no host sync until flush
            k = min(32, self.bs)  # a few images suffice to see whether G's batch has collapsed
            p_fake = out_fake.sigmoid()
            grads = [p.grad.norm() for p in st.g.parameters() if p.grad is not None]
            self.acc += torch.stack([
                loss_d.detach(), loss_g.detach(), out_real.sigmoid().mean(), p_fake.mean(),
                monitor.pairwise_distance(fake[:k].float()) / monitor.pairwise_distance(real[:k].float()).clamp_min(1e-6),
                p_fake.std() if p_fake.numel() > 1 else p_fake.new_zeros(()),
                torch.linalg.vector_norm(torch.stack(grads)).float()])
        self.acc_n += 1

    def _first_compiled_step(self, idx: torch.Tensor) -> Iterator[Event]:
        """The first step of a compiled run, which is when torch.compile really compiles. If that
        fails (a compiler bug in one torch release, a missing toolchain), the models, optimisers and
        noise RNG go back to how they were before the step, training continues uncompiled with a
        warning, and the run is the one an uncompiled run would have been."""
        st = self.state
        saved = copy.deepcopy({"g": st.g.state_dict(), "d": st.d.state_dict(), "opt_g": st.opt_g.state_dict(),
                               "opt_d": st.opt_d.state_dict(), "noise": st.noise_rng.get_state(), "step": st.step,
                               "g_ema": None if st.g_ema is None else st.g_ema.state_dict()})
        self.compiled_untried = False
        try:
            self.train_step(idx)
            return
        except Exception as e:  # noqa: BLE001 - any compiler failure; a real bug recurs uncompiled
            reason = f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:200]}"
        st.g.load_state_dict(saved["g"])
        st.d.load_state_dict(saved["d"])
        st.opt_g.load_state_dict(saved["opt_g"])
        st.opt_d.load_state_dict(saved["opt_d"])
        st.noise_rng.set_state(saved["noise"])
        if st.g_ema is not None:
            st.g_ema.load_state_dict(saved["g_ema"])
        st.step = saved["step"]
        st.d.requires_grad_(True)
        self.g_fwd, self.d_logits = st.g, st.d.logits
        self.run_config["compile_failed"] = reason
        if self.dist.main:
            self.run.write_config(self.run_config)
        yield Warned(f"torch.compile failed on this setup ({reason}); training continues without it")
        self.train_step(idx)

    def flush(self) -> dict | None:
        """Average the accumulated metrics (the one host sync per log_every steps) and log them."""
        if self.acc_n == 0:
            return None
        vals = self.dist.mean_(self.acc / self.acc_n).tolist()
        now = time.perf_counter()
        st = self.state
        rec = {"kind": "step", "step": st.step, "epoch": st.epoch + 1, **dict(zip(STEP_KEYS, vals)),
               "images_per_s": self.acc_n * self.bs * self.dist.world / max(now - self.t_log, 1e-9)}
        self.acc.zero_()
        self.acc_n, self.t_log = 0, now
        if not all(math.isfinite(v) for v in vals[:2]):
            if self.dist.main:
                self.run.set_status("failed", reason="non-finite loss")
            raise TrainingError(f"the loss became {'NaN' if math.isnan(vals[0] + vals[1]) else 'infinite'} "
                                f"at step {st.step}; training stopped and the last good checkpoint "
                                f"({self.run.last}) was kept. Try a lower --lr.")
        st.metrics.append(rec)
        if self.dist.main:
            self.run.append_metrics([rec])
            self.trackers.step(rec)
        return rec

    # ------------------------------------------------------------------ checkpoints
    def save(self, step_in_epoch: int = 0, perm=None, best: bool = False, healthy: bool = False) -> Path:
        ck = self.state.to_checkpoint(self.run_config, self.dist, step_in_epoch, perm)  # a collective
        self.last_ckpt = time.monotonic()
        if self.dist.main:
            self.run.save_checkpoint(ck)
            if best:  # DCGANs often get worse late in training: keep the best epoch
                self.run.keep_as(self.run.best)
            if healthy:  # the way back when an alarm fires later: resume --from healthy
                self.run.keep_as(self.run.healthy)
        return self.run.last

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

    def _step_event(self, rec: dict | None) -> list[Event]:
        """The step event for a flushed record, with any tracker that just failed as a warning."""
        out: list[Event] = [Logged.from_record(rec, self.steps_per_epoch)] if rec else []
        return out + [Warned(w) for w in self.trackers.take_warnings()]

    def epoch(self) -> Iterator[Event]:
        """The steps of one epoch, from where the state left off; returns early when stopped."""
        cfg, st, dist = self.cfg, self.state, self.dist
        if st.perm is None:
            st.perm = torch.randperm(self.n, generator=st.order_rng, device=self.device)
        mine = st.perm[dist.rank::dist.world]
        if self.on_host:
            mine = mine.cpu()
        for i in range(st.step_in_epoch, self.steps_per_epoch):
            if self.compiled_untried:
                yield from self._first_compiled_step(mine[i * self.bs:(i + 1) * self.bs])
            else:
                self.train_step(mine[i * self.bs:(i + 1) * self.bs])
            at_log = self.acc_n >= cfg.log_every
            if at_log:
                yield from self._step_event(self.flush())
            stopping, checkpoint = self._should(at_log)
            if checkpoint:
                yield from self._step_event(self.flush())
                # mid-epoch: keep this epoch's order and position so resume continues exactly
                path = self.save(i + 1, st.perm)
                self.t_log = time.perf_counter()
                yield Checkpointed(path=str(path), epoch=st.epoch, step=st.step)
            if stopping:
                if dist.main:
                    self.epoch_end.refresh_gif(self, final=True)
                    self.run.set_status("stopped", epoch=st.epoch, step=st.step)
                yield Finished(reason="stopped", epoch=st.epoch, step=st.step)
                return
        yield from self._step_event(self.flush())
        st.epoch += 1
        st.step_in_epoch, st.perm = 0, None
        yield from self.epoch_end.run(self)
        self.t_log = time.perf_counter()  # images/s measures training, not the epoch's end

    def events(self) -> Iterator[Event]:
        cfg, run, st, main = self.cfg, self.run, self.state, self.dist.main
        yield from self.notes
        yield Started(config=self.run_config, data=self.report.to_dict(), device=str(self.device),
                      steps_per_epoch=self.steps_per_epoch, resumed_from_epoch=st.epoch if self.resumed else None,
                      rewind=self.rewound)
        try:
            while st.epoch < cfg.epochs:
                for ev in self.epoch():
                    yield ev
                    if isinstance(ev, Finished):
                        return
        except UserError:
            raise
        except OSError as e:  # disk full, permissions, a vanished directory: stop, keep what is saved
            need = ""
            if e.errno == errno.ENOSPC:
                size = run.last.stat().st_size if run.last.exists() else 0
                need = f" It needs about {max(1, round(2.2 * size / 2**20))} MB free (a checkpoint and its temporary copy)."
            if main:
                reason = f"write failed: {e.strerror or e}"
                try:
                    run.set_status("failed", reason=reason, epoch=st.epoch, step=st.step)
                except OSError:  # the disk may be too full even for a new status file
                    run.set_status_in_place("failed", reason=reason)
            raise TrainingError(f"could not write to {run.path} ({e.strerror or e}); training stopped. "
                                f"Checkpoints written before this point are intact; free space and --resume."
                                + need) from None
        except BaseException:
            if main and run.status().get("state") == "running":
                try:
                    run.set_status("interrupted", epoch=st.epoch, step=st.step)
                except OSError:
                    run.set_status_in_place("interrupted")
            raise
        in_sync = None
        if self.dist.on:
            in_sync = len(set(self.dist.gather(checksum(st.g) + checksum(st.d)))) == 1
            if main:
                run.set_status("finished", epoch=st.epoch, epochs=cfg.epochs, world_size=self.dist.world,
                               backend=self.dist.backend, ranks_in_sync=in_sync)
        yield Finished(reason="finished", epoch=st.epoch, step=st.step, ranks_in_sync=in_sync)


def train(cfg: TrainConfig, out: str | Path, *, resume: bool = False, stop=None,
          data_progress=None, start_from: str = "last") -> Iterator[Event]:
    """Train (or resume) into the run directory `out`, yielding events; see the module docstring.
    start_from: the checkpoint a resumed run continues from: last (the default), healthy (the
    newest epoch end without an alarm: a rewind) or best (the best FID)."""
    trainer = Trainer(cfg, out, resume, stop, data_progress, start_from)
    try:
        yield from trainer.events()
    finally:
        trainer.trackers.close()
        trainer.dist.close()
