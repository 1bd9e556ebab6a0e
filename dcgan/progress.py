"""The command line's progress: tqdm bars for decoding and features, and training events as text.

`TrainingView` renders the trainer's events (events.py) on a terminal: a bar per epoch with the
losses and throughput, one line per epoch end, alarms and warnings, the final line on stdout.
`Bar` is a fn(done, total) that draws a bar only once work starts (cached work shows nothing).
Nothing here trains; the CLI hands events over one at a time.
"""
from __future__ import annotations

import sys

from tqdm import tqdm

from .events import AlarmRaised, EpochDone, Event, Finished, Logged, Started, Warned


class Bar:
    """fn(done, total) drawing a tqdm bar, started on the first call and restarted when a new
    total begins."""

    def __init__(self, desc: str, unit: str, disable: bool = False):
        self.desc, self.unit, self.disable, self.bar = desc, unit, disable, None

    def __call__(self, done: int, total: int) -> None:
        if self.disable:
            return
        if self.bar is None or self.bar.total != total or done < self.bar.n:
            self.close()
            self.bar = tqdm(total=total, unit=self.unit, desc=self.desc, dynamic_ncols=True, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class TrainingView:
    """Training events -> a terminal: call `show(event)` for each, in order."""

    def __init__(self, out_dir: str, decoding: Bar | None = None, setting_words=None, rewind_words: str | None = None):
        self.out_dir, self.decoding = out_dir, decoding
        self.words = (setting_words, rewind_words)  # how alarms say settings and the way back (the CLI's flags)
        self.bar: tqdm | None = None
        self.spe, self.epochs = 0, 0

    def _new_bar(self, epoch: int) -> None:
        self.bar = tqdm(total=self.spe, desc=f"epoch {epoch}/{self.epochs}", unit="step", dynamic_ncols=True)

    def show(self, ev: Event) -> None:
        if isinstance(ev, Started):
            if self.decoding is not None:
                self.decoding.close()
            d = ev.data
            print(f"data: {d['n_images']} images ({d['n_skipped']} skipped); device {ev.device}; "
                  f"{ev.steps_per_epoch} steps/epoch", file=sys.stderr)
            for name, why in d["skipped"][:5]:
                print(f"  skipped {name}: {why}", file=sys.stderr)
            if ev.rewind:
                r = ev.rewind
                say = self.words[0] or (lambda changes, new_run: ", ".join(f"{k} {v}" for k, v in changes.items()))
                changed = say(r["changed"], False) if r["changed"] else "the same settings"
                kept = f"; epochs {r['from_epoch'] + 1}-{r['at_epoch']} kept in {r['branch']}" if r.get("branch") else ""
                print(f"rewound to epoch {r['from_epoch']} ({r['source']}.pt) with {changed}{kept}", file=sys.stderr)
            self.spe, self.epochs = ev.steps_per_epoch, ev.config["epochs"]
            self._new_bar((ev.resumed_from_epoch or 0) + 1)
        elif isinstance(ev, Logged) and self.bar is not None:
            self.bar.update(ev.step - (ev.epoch - 1) * self.spe - self.bar.n)  # steps are logged every k
            self.bar.set_postfix(loss_d=f"{ev.loss_d:.3f}", loss_g=f"{ev.loss_g:.3f}", img_s=f"{ev.images_per_s:.0f}")
        elif isinstance(ev, EpochDone):
            self.close()
            fid = f", {ev.fid_protocol} {ev.fid:.2f} (best {ev.best_fid:.2f})" if ev.fid is not None else ""
            tqdm.write(f"epoch {ev.epoch}/{ev.epochs}: samples {ev.sample} "
                       f"(diversity {ev.diversity_ratio:.2f} of real{fid})", file=sys.stderr)
            if ev.epoch < ev.epochs:
                self._new_bar(ev.epoch + 1)
        elif isinstance(ev, AlarmRaised):
            tqdm.write(f"alarm: {ev.sentence(*self.words)}", file=sys.stderr)
        elif isinstance(ev, Warned):
            tqdm.write(f"warning: {ev.message}", file=sys.stderr)
        elif isinstance(ev, Finished):
            self.close()
            print(f"{ev.reason} at epoch {ev.epoch}, step {ev.step}: {self.out_dir}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
