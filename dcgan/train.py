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
from .epoch_end import Checkpoints, EpochEnd
from .errors import ConfigError, DataError, RunExists, TrainingError, UserError
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

    # ------------------------------------------------------------------ setup, step by step
    def __init__(self, cfg: TrainConfig, out: str | Path, resume: bool, stop, data_progress=None,
                 rewound: dict | None = None):
        self.run, self.stop, self.dist = RunDir(out), stop, Dist()
        self.data_progress = data_progress  # fn(done, total) while the dataset is decoded (first time only)
        self.rewound = rewound  # when this start continues a rewind (rewind.record): its record
        self.notes: list[Event] = []  # warnings raised during setup, yielded first
        self.started = time.time()
        self.device = self.dist.setup(resolve_device(cfg.device))
        checkpoint = self._checkpoint(resume)
        self.resumed = checkpoint is not None
        self.cfg = cfg = self._settings(cfg, checkpoint)
        self.images, self.report = self._load_data(checkpoint)
        self._batches()
        self.run_config = self._run_config(checkpoint)
        self.images, self.on_host = self._place(self.images)
        self.state = TrainState.create(cfg, self.device, self.dist, checkpoint, self.mem)
        self._compiled()
        self.run.path.mkdir(parents=True, exist_ok=True)  # trackers keep their ids and files in it
        self.trackers = Trackers(cfg.track if self.dist.main else "", self.run.path, self.run_config)
        self.checkpoints = Checkpoints(self.run, self.state, self.dist, self.run_config)
        self.epoch_end = self._epoch_end()
        self._open(checkpoint)  # last: a run marked running has passed every check above
        self.acc = torch.zeros(len(STEP_KEYS), device=self.device)  # STEP_KEYS summed since the last log
        self.acc_n, self.t_log = 0, time.perf_counter()
        self.ones = torch.ones(self.bs, device=self.device)
        self.zeros = torch.zeros(self.bs, device=self.device)

    def _checkpoint(self, resume: bool) -> dict | None:
        """The state a resumed run continues from (last.pt); refuses what cannot be (re)started."""
        if self.run.path.exists() and not self.run.path.is_dir():
            raise RunExists(f"{self.run.path.name} is a file, not a run directory; choose another run directory")
        if resume:
            return load_checkpoint(self.run.checkpoint_for("last"))
        if self.run.last.exists():
            raise RunExists(f"{self.run.path} already holds a run; pass --resume to continue it or choose "
                            "another --out")
        return None

    def _settings(self, cfg: TrainConfig, checkpoint: dict | None) -> TrainConfig:
        """The settings this session trains with: a resumed run's own, with what may change; 'auto'
        precision decided once, here, and recorded (a resumed run keeps the precision it began with)."""
        if checkpoint is not None:
            cfg = cfg.resumed(checkpoint["config"])
            if checkpoint["epoch"] >= cfg.epochs:
                raise ConfigError(f"{self.run.name} has already trained {checkpoint['epoch']} epochs; ask for more "
                                  f"{{epochs}} (more than {checkpoint['epoch']}) to continue it", settings=("epochs",))
        return replace(cfg, precision=resolve_precision(cfg.precision, self.device))

    def _load_data(self, checkpoint: dict | None):
        cfg = self.cfg
        images, report = datamod.load(cfg.data, cfg.image_size, data_root=cfg.data_root, max_images=cfg.max_images,
                                      channels=cfg.channels, progress=self.data_progress)
        if len(images) < 2:
            raise DataError(f"{report.source} has {len(images)} usable image{'s' if len(images) != 1 else ''}; "
                            "training needs at least 2 (a batch of one cannot be normalised, nor its variety "
                            "measured)" + (f"; skipped {', '.join(f'{n} ({w})' for n, w in report.skipped[:5])}"
                                           if report.skipped else ""))
        if checkpoint and checkpoint["config"].get("data_fingerprint") not in (None, report.fingerprint):
            self.notes.append(Warned("the data source changed since this run started"))
        return images, report

    def _batches(self) -> None:
        """n, the batch size and the steps per epoch (the last partial batch dropped, as BatchNorm prefers)."""
        self.n = len(self.images)
        shard = self.n // self.dist.world
        if shard < 1:
            raise UserError(f"{self.n} images cannot be shared among {self.dist.world} processes")
        self.bs = min(self.cfg.batch_size, shard)
        self.steps_per_epoch = shard // self.bs

    def _run_config(self, checkpoint: dict | None) -> dict:
        """What config.json records: the settings, plus what this run found out about its data and
        device, and how it was continued (see _history)."""
        cfg = self.cfg
        out = {**cfg.to_dict(), "data_fingerprint": self.report.fingerprint, "n_images": self.n,
               "steps_per_epoch": self.steps_per_epoch, "device_used": str(self.device),
               "world_size": self.dist.world}
        out.update(self._history(checkpoint))
        return out

    def _history(self, checkpoint: dict | None) -> dict:
        """config.json's record of how this run was continued, carried over from its config.json:
        "rewinds" (rewind.record writes them) and "changes" (settings changed on a plain resume)."""
        if checkpoint is None:
            return {}
        before = self.run.read_config() if self.run.config.exists() else {}
        out = {k: list(before.get(k, [])) for k in ("rewinds", "changes")}
        changed = self.cfg.tuned(checkpoint["config"])
        if changed:
            out["changes"].append({"at_epoch": checkpoint["epoch"], "step": checkpoint["step"], "changed": changed})
        return {k: v for k, v in out.items() if v}

    def _compiled(self) -> None:
        """G's forward and D's logits, through torch.compile when asked. The first compiled step is
        guarded (see _first_compiled_step); not under torchrun, where a rank that retried its step
        would fall out of step with its peers' collectives."""
        cfg, st = self.cfg, self.state
        self.g_fwd = torch.compile(st.g) if cfg.compile else st.g
        self.d_logits = torch.compile(st.d.logits) if cfg.compile else st.d.logits
        self.compiled_untried = cfg.compile and not self.dist.on
        self.augment = Augment(cfg.augment)
        self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16")

    def _epoch_end(self) -> EpochEnd:
        """The epoch-end worker, with the real images' yardsticks measured once: diversity and
        extreme-pixel share on a fixed subset, the spectrum on more images (a few peak bins per
        period are noisy over 64)."""
        cfg, n = self.cfg, self.n
        pick = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed))[:cfg.n_samples]
        wide = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed))[:SPECTRUM_IMAGES]
        return EpochEnd(cfg, self.run, self.state, self.checkpoints, self.trackers, self.dist, self.run_config,
                        self.images[pick.to(self.images.device)].cpu(), self.device,
                        real_for_spectrum=self.images[wide.to(self.images.device)].cpu(), started=self.started)

    def _open(self, checkpoint: dict | None) -> None:
        """The run directory as this session begins: the history so far, config.json, status running."""
        if not self.dist.main:
            return
        if checkpoint:  # records after the checkpoint (a kill mid-epoch) are dropped: resume is exact
            self.run.rewrite_metrics(self.state.metrics)
        self.run.write_config(self.run_config)
        self.run.set_status("running", epoch=self.state.epoch, epochs=self.cfg.epochs, started=self.started)

    def _place(self, images: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """The uint8 dataset on the device, or pinned on the host when it does not fit there; and the
        memory format the models and batches use."""
        # channels_last: faster on CUDA and, measured, on this CPU's oneDNN too. Except when compiling
        # on CUDA: inductor in torch 2.11 mis-strides the channels_last weight gradient of G's first
        # ConvTranspose (seen on an H200: assert_size_stride fails in convolution_backward)
        cuda = self.device.type == "cuda"
        self.mem = torch.contiguous_format if self.cfg.compile and cuda else torch.channels_last
        if not cuda:
            return images, False
        torch.backends.cudnn.benchmark = True  # every step has the same shapes (the partial batch is dropped)
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
               "images_per_s": self.acc_n * self.bs * self.dist.world / max(now - self.t_log, 1e-9),
               "time": time.time()}
        self.acc.zero_()
        self.acc_n, self.t_log = 0, now
        if not all(math.isfinite(v) for v in vals[:2]):
            if self.dist.main:
                self.run.set_status("failed", reason="non-finite loss")
            raise TrainingError(f"the loss became {'NaN' if math.isnan(vals[0] + vals[1]) else 'infinite'} "
                                f"at step {st.step}; training stopped and the last good checkpoint "
                                f"({self.run.name}'s checkpoints/last.pt) was kept. Try a lower {{lr}}.",
                                settings=("lr",))
        st.metrics.append(rec)
        if self.dist.main:
            self.run.append_metrics([rec])
            self.trackers.step(rec)
        return rec

    # ------------------------------------------------------------------ the loop
    def _should(self, at_log: bool) -> tuple[bool, bool]:
        """(stop now, checkpoint now); under torchrun agreed by all ranks, at log steps only."""
        if not self.dist.on:
            stopping = self.stop is not None and self.stop.is_set()
            return stopping, stopping or time.monotonic() - self.checkpoints.saved_at > self.cfg.ckpt_every_s
        if not at_log:
            return False, False
        stopping = self.dist.any(self.stop is not None and self.stop.is_set(), self.device)
        timed = self.dist.any(time.monotonic() - self.checkpoints.saved_at > self.cfg.ckpt_every_s, self.device)
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
                path = self.checkpoints.save(i + 1, st.perm)
                self.t_log = time.perf_counter()
                yield Checkpointed(path=str(path), epoch=st.epoch, step=st.step)
            if stopping:
                if dist.main:
                    self.epoch_end.refresh_gif(final=True)
                    self.run.set_status("stopped", epoch=st.epoch, step=st.step, epochs=cfg.epochs)
                yield Finished(reason="stopped", epoch=st.epoch, step=st.step)
                return
        yield from self._step_event(self.flush())
        st.epoch += 1
        st.step_in_epoch, st.perm = 0, None
        yield from self.epoch_end.run()
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
                                f"Checkpoints written before this point are intact; free space and resume the run."
                                + need) from None
        except BaseException:
            if main and run.status().get("state") == "running":
                try:
                    run.set_status("interrupted", epoch=st.epoch, step=st.step)
                except OSError:
                    run.set_status_in_place("interrupted")
            raise
        in_sync, extra = None, {}
        if self.dist.on:
            in_sync = len(set(self.dist.gather(checksum(st.g) + checksum(st.d)))) == 1
            extra = {"world_size": self.dist.world, "backend": self.dist.backend, "ranks_in_sync": in_sync}
        if main:
            run.set_status("finished", epoch=st.epoch, epochs=cfg.epochs, started=self.started, **extra)
        yield Finished(reason="finished", epoch=st.epoch, step=st.step, ranks_in_sync=in_sync)


def train(cfg: TrainConfig, out: str | Path, *, resume: bool = False, stop=None,
          data_progress=None, start_from: str = "last") -> Iterator[Event]:
    """Train (or resume) into the run directory `out`, yielding events; see the module docstring.
    start_from: the checkpoint a resumed run continues from: last (the default), healthy (the
    newest epoch end the monitor judged clear: a rewind) or best (the best FID). A rewind is
    recorded in the run directory first (rewind.record), then the run resumes from last.pt."""
    rewound = None
    if start_from != "last":
        if not resume:
            raise UserError(f"continuing from {start_from}.pt needs a run to resume")
        from .rewind import record

        rewound = record(RunDir(out), start_from, cfg)
    trainer = Trainer(cfg, out, resume, stop, data_progress, rewound)
    try:
        yield from trainer.events()
    finally:
        trainer.trackers.close()
        trainer.dist.close()
