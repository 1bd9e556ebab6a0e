"""The work at the end of each epoch, apart from the training step: one collaborator of the Trainer.

`EpochEnd.run()` does, in order: the fixed-noise grid and the progress GIF (`pictures`), the
monitor's signals and alarms (`judge`), FID when tracked (`score`), the epoch's metrics record,
the checkpoints (last.pt, best.pt, healthy.pt) and the generator export (`keep`), the status file;
then it yields the epoch's events. It is built with what it works on (the run directory, the
training state, the checkpoint writer, the trackers, the process group), so nothing reaches back
into the trainer. Not here: the step, the loop and the mid-epoch checkpoints (train.py), the alarm
rules (monitor.py), how a checkpoint is written (Checkpoints, below).
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Iterator

import torch

from . import monitor, spectrum
from .distributed import Dist
from .events import AlarmRaised, Checkpointed, EpochDone, Event, Warned
from .images import grid_image, to_float
from .latent import sample, z_from_seeds
from .runs import RunDir
from .state import TrainState
from .trackers import Trackers

FRESH_SEED = 1 << 40  # the epoch-end "fresh" latents come from seeds far from any grid's
GIF_EVERY_S = 15.0  # rebuild progress.gif at most this often (and at the last epoch): on a few hundred
# images an epoch takes seconds, and re-encoding 60 frames each time was a third of a run's time


class Checkpoints:
    """Writes the training state to last.pt, and keeps it as best.pt / healthy.pt when asked.
    Under torchrun every rank calls `save` (gathering the RNG states is a collective); only rank 0
    writes."""

    def __init__(self, run: RunDir, state: TrainState, dist: Dist, run_config: dict):
        self.run, self.state, self.dist, self.run_config = run, state, dist, run_config
        self.saved_at = time.monotonic()  # when last.pt was last written (the mid-epoch timer)

    def save(self, step_in_epoch: int = 0, perm=None, best: bool = False, healthy: bool = False) -> Path:
        ck = self.state.to_checkpoint(self.run_config, self.dist, step_in_epoch, perm)  # a collective
        self.saved_at = time.monotonic()
        if self.dist.main:
            self.run.save_checkpoint(ck)
            if best:  # DCGANs often get worse late in training: keep the best epoch
                self.run.keep_as(self.run.best)
            if healthy:  # the way back when an alarm fires later: resume --from healthy
                self.run.keep_as(self.run.healthy)
        return self.run.last


def fid_tracker(cfg, device: torch.device):
    """fn(G) -> (fid, protocol) against the training data's Inception statistics: the images this
    run trains on (its max_images too), prepared as training prepares them; a bundled set's shipped
    statistics when they were made this way, else featurised once and cached on disk."""
    from .metrics import Evaluator, measure

    ev = Evaluator(weights=cfg.fid_weights, device=device, dims=cfg.fid_dims)
    real = ev.side(cfg.data, data_root=cfg.data_root, image_size=cfg.image_size, channels=cfg.channels,
                   limit=cfg.max_images)

    def score(g) -> tuple[float, str]:
        rep = measure(ev, real, ev.generator_side(g, cfg.fid_n, seed=cfg.seed), extras=False)
        return rep.fid, rep.protocol

    return score


class EpochEnd:
    """Holds the yardsticks measured once per run (real images' diversity and extreme-pixel share,
    their spectrum, the FID tracker) and does the epoch-end jobs."""

    def __init__(self, cfg, run: RunDir, state: TrainState, checkpoints: Checkpoints, trackers: Trackers,
                 dist: Dist, run_config: dict, real_uint8: torch.Tensor, device: torch.device,
                 real_for_spectrum: torch.Tensor | None = None, started: float | None = None):
        self.cfg, self.run_dir, self.state, self.checkpoints = cfg, run, state, checkpoints
        self.started = started  # when this session of the run began (status.json says it: the ETA's clock)
        self.trackers, self.dist, self.run_config = trackers, dist, run_config
        self.real_div = monitor.diversity(to_float(real_uint8))
        self.real_sat = monitor.saturation(real_uint8)
        # the data's own periodic peaks (pixel art, upscaled icons have some): the checkerboard's yardstick
        self.real_spectrum = spectrum.peak_contrast(real_uint8 if real_for_spectrum is None else real_for_spectrum)
        self.fid = fid_tracker(cfg, device) if cfg.fid_every and dist.main else None
        self.gif_at = float("-inf")  # when progress.gif was last rebuilt (time.monotonic)

    # ---------------------------------------------------------------- the jobs
    def pictures(self) -> tuple[torch.Tensor, object, str]:
        """(samples, grid image, grid path): this epoch's fixed-noise grid, saved; the GIF updated."""
        st = self.state
        samples = sample(st.shown, st.fixed_noise)  # the run's generator: the EMA with --ema
        grid = grid_image(samples, nrow=int(math.sqrt(self.cfg.n_samples)) or None)
        path = self.run_dir.save_sample(st.epoch, grid)
        self.refresh_gif(final=st.epoch >= self.cfg.epochs)
        return samples, grid, str(path)

    def refresh_gif(self, final: bool = False) -> None:
        """progress.gif from the epoch grids: at the last epoch, when stopping, else at most every
        GIF_EVERY_S seconds."""
        if final or time.monotonic() - self.gif_at >= GIF_EVERY_S:
            self.run_dir.update_gif()
            self.gif_at = time.monotonic()

    def judge(self, samples: torch.Tensor) -> dict:
        """The monitor's signals and alarms for this epoch, as the fields of its metrics record."""
        st, cfg = self.state, self.cfg
        ratio = monitor.diversity(samples) / max(self.real_div, 1e-12)
        # the same measure on latents never seen before (new ones each epoch): fixed noise alone can
        # hide a collapse that happens to spare its 64 points, or flag one that only they show
        fresh = sample(st.g, z_from_seeds(range(FRESH_SEED + st.epoch * cfg.n_samples,
                                                FRESH_SEED + (st.epoch + 1) * cfg.n_samples), cfg.nz))
        fresh_ratio = monitor.diversity(fresh) / max(self.real_div, 1e-12)
        sat = monitor.saturation(samples)
        spec = spectrum.peak_contrast(torch.cat([samples.float().cpu(), fresh.float().cpu()]))
        steps = [m for m in st.metrics if m.get("kind") == "step"]
        signals, alarms = monitor.check(steps, ratio, st.best_diversity, fresh_ratio=fresh_ratio, sat=sat,
                                        real_sat=self.real_sat, context=self.run_config,
                                        best_epoch=st.best_diversity_epoch, previous_ratio=previous_ratio(st.metrics),
                                        spectrum=spec, real_spectrum=self.real_spectrum,
                                        checker_before=monitor.checker_history(st.metrics))
        if st.best_diversity is None or ratio > st.best_diversity:
            st.best_diversity, st.best_diversity_epoch = ratio, st.epoch
        return {"kind": "epoch", "epoch": st.epoch, "step": st.step, "time": time.time(), "diversity_ratio": ratio,
                "fresh_diversity_ratio": fresh_ratio, "saturation": sat, "real_saturation": self.real_sat,
                "spectrum": spec, "real_spectrum": self.real_spectrum, "signals": signals,
                "alarms": [a.to_dict() for a in alarms]}

    def score(self, record: dict) -> bool:
        """FID into `record` when this epoch is measured; whether it is the best so far."""
        st, cfg = self.state, self.cfg
        if not self.fid or not (st.epoch % cfg.fid_every == 0 or st.epoch == cfg.epochs):
            return False
        record["fid"], record["fid_protocol"] = self.fid(st.shown)
        improved = st.best_fid is None or record["fid"] < st.best_fid
        st.best_fid = record["fid"] if improved else st.best_fid
        return improved

    def keep(self, best: bool, healthy: bool) -> Path:
        """last.pt (and best.pt, healthy.pt), then the generator export; returns last.pt's path."""
        path = self.checkpoints.save(best=best, healthy=healthy)
        self.run_dir.save_generator(self.state.shown)
        return path

    # ---------------------------------------------------------------- in order
    def run(self) -> Iterator[Event]:
        st, cfg, run, dist = self.state, self.cfg, self.run_dir, self.dist
        dist.average_buffers(st.g)
        dist.average_buffers(st.d)
        if st.g_ema is not None:  # G's averaged running statistics, as the EMA copies them
            for b_ema, b in zip(st.g_ema.buffers(), st.g.buffers()):
                b_ema.copy_(b)
        if not dist.main:
            self.checkpoints.save()
            return
        samples, grid, grid_path = self.pictures()
        # the monitor judges how training goes, so it reads G itself; the grid shows the run's
        # generator (with --ema the average, which lags G and would raise alarms of its own)
        record = self.judge(samples if st.g_ema is None else sample(st.g, st.fixed_noise))
        best = self.score(record)
        st.metrics.append(record)
        run.append_metrics([record])
        self.trackers.epoch(record, grid)
        # healthy.pt: an epoch the monitor judged clear (no alarm, every signal on the healthy side)
        path = self.keep(best, healthy=bool(record["signals"].get("clear")))
        run.set_status("running" if st.epoch < cfg.epochs else "finished", epoch=st.epoch, epochs=cfg.epochs,
                       started=self.started)
        yield EpochDone(epoch=st.epoch, epochs=cfg.epochs, step=st.step, sample=grid_path, gif=str(run.gif),
                        diversity_ratio=record["diversity_ratio"], signals=record["signals"],
                        fid=record.get("fid"), fid_protocol=record.get("fid_protocol"),
                        best_fid=st.best_fid if "fid" in record else None)
        for a in record["alarms"]:
            yield AlarmRaised(epoch=st.epoch, kind=a["kind"], message=a["message"], remedies=a["remedies"])
        for w in self.trackers.take_warnings():
            yield Warned(w)
        yield Checkpointed(path=str(path), epoch=st.epoch, step=st.step)



def previous_ratio(metrics: list[dict]) -> float | None:
    """The last epoch's fixed-noise diversity, from the metrics so far."""
    last = next((m for m in reversed(metrics) if m.get("kind") == "epoch"), None)
    return last.get("diversity_ratio") if last else None
