"""Mode-collapse and divergence signals, computed from what training already measures.

Pure functions over the metric stream (the step records of metrics.jsonl) and the samples of each
epoch; no training, no I/O. `check` returns the current signal values and the alarms they raise,
each a message with remedies (remedies.py: records of what to try and which settings it changes)
in the order most likely to help that run (it is told the run's settings). `clear` says whether an
epoch is healthy enough to go back to, `phase` where a run stands (the live view words it).
`replay` runs `check` over a recorded run, epoch by epoch, exactly as training does.

The rules were calibrated on real runs of this trainer on the bundled faces (the collapse study in
docs/alarms.md; their metrics are tests/fixtures/collapse/, replayed by tests/test_monitor.py): every
run whose grids went wrong alarms within a few epochs of it, and no healthy run alarms, including a
half-width run that stalled for its first 300 steps (D sure of everything, one grey tile for every
latent) and recovered on its own. What separated them:

  * lost variety: a collapsing run first learns variety (its samples' diversity reaches 0.3 of
    the real images' or more) and then loses it (below half its best, on the fixed latents and on
    fresh ones, two epochs running). Immature runs dip before they reach 0.3 (the emoji run: 0.28,
    then 0.14); healthy ones dip by a third at most.
  * no variety: still below 0.35 after 1,000 steps (healthy runs on the faces and emoji passed
    0.35 by step ~700).
  * artefacts: too high a learning rate saturates pixels (colour blow-outs, checkerboards): the
    samples' share of pure-extreme pixel values goes far above the real images' (0.33-0.48 vs 0.03).
  * D dominating: D(x) ~ 1 and D(G(z)) ~ 0 for several hundred steps is normal in the first ~600
    steps (the stall above), so it is judged only after 600 steps.
  * checkerboard: judged once the samples learned variety, or from epoch 20 and step 200 on (the
    stall's grey tiles carry the pattern; see CHECKER_WARMUP_*). The early stall (in_early_stall)
    is one predicate, shared by the phase the page shows and these warm-ups' documentation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .remedies import Remedy, for_alarm, remedy_words, sentence
from .spectrum import excess

WINDOW_STEPS = 300  # "several hundred steps": shorter bursts are normal GAN dynamics
STALL_STEPS = 600  # D-dominance is judged after this: healthy runs stall for ~300 steps at first
DIVERSITY_WARMUP_STEPS = 1000  # "no variety" is judged after this (healthy runs pass 0.35 by ~700)
COLLAPSE_RATIO = 0.35  # sample diversity below this fraction of the real data's: no variety
LEARNED_RATIO = 0.3  # a run whose samples reached this much variety had learned some
LOST_FRACTION = 0.5  # ... and lost it when it falls below this fraction of its best
SATURATION_EXCESS = 0.15  # samples' extreme-pixel share above the real images' by this much ...
SATURATION_FACTOR = 3.0  # ... and this many times: artefacts
CHECKER_EXCESS = 15.0  # periodic peaks this many times the real images' (spectrum.py): checkerboard
CHECKER_WARMUP_EPOCHS = 20  # judged from this epoch on, or once the samples have learned variety
# (LEARNED_RATIO): a fresh transposed-conv G is all checkerboard and every run's early-stall grey
# tiles carry the pattern for its first few hundred steps; by epoch 20 a small set has been seen 20
# times (so a pattern still there is the run's, not youth), a large one is far past its stall
CHECKER_WARMUP_STEPS = 200  # ... and never before this many steps: a fresh transposed G is all checkerboard,
# and the early stall's grey tiles of a healthy faces run read 13-100 for their first ~200 steps, however
# few images an epoch holds (a 32-image run reaches epoch 20 at step 80, its samples as grey as at step 8)
CHECKER_TREND = 0.15  # the last epochs' mean this much above / below the ones before: growing / fading
DOMINANT_REAL, DOMINANT_FAKE = 0.9, 0.1  # D(x) above and D(G(z)) below these (last 10 logs): D is ahead


@dataclass
class Alarm:
    kind: str  # lost_variety | no_variety | artefacts | checkerboard | d_wins | d_saturated | g_wins
    message: str
    remedies: list[Remedy] = field(default_factory=list)

    def __post_init__(self):
        self.remedies = [Remedy(r) if isinstance(r, str) else r for r in self.remedies]  # words alone: no setting

    @property
    def remedy(self) -> str:
        """The remedies in plain words (settings by their names)."""
        return remedy_words(self.remedies)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "remedy": self.remedy,
                "remedies": [r.to_dict() for r in self.remedies]}

    def __str__(self) -> str:
        return sentence(self.to_dict())


def pairwise_distance(samples: torch.Tensor) -> torch.Tensor:
    """Mean pairwise L2 distance between images (N, ...), as a 0-d tensor on their device (no sync)."""
    x = samples.detach().float().flatten(1)
    n = x.shape[0]
    if n < 2:
        return x.new_zeros(())
    return torch.cdist(x, x).sum() / (n * (n - 1))


def diversity(samples: torch.Tensor) -> float:
    """Mean pairwise L2 distance between images (N, C, H, W), N >= 2, in (-1, 1)."""
    return float(pairwise_distance(samples.detach().cpu()))


def saturation(images: torch.Tensor) -> float:
    """Share of channel values within 8/255 of black or white; images uint8, or float in (-1, 1)."""
    x = images.detach().cpu()
    if x.dtype != torch.uint8:
        x = ((x.float() + 1) * 127.5).round().clamp(0, 255)
    x = x.float()
    return float(((x <= 8) | (x >= 247)).float().mean())


# ---------------------------------------------------------------- the signals

def _window(steps: list[dict], window_steps: int) -> list[dict]:
    if not steps:
        return []
    last = steps[-1]["step"]
    win = [r for r in steps if r["step"] > last - window_steps]
    # only judge a window that really spans several hundred steps of history
    if last - steps[0]["step"] < window_steps * 0.9 or len(win) < 5:
        return []
    return win


def _slope(ys: list[float]) -> float:
    n = len(ys)
    xm, ym = (n - 1) / 2, sum(ys) / n
    den = sum((i - xm) ** 2 for i in range(n)) or 1.0
    return sum((i - xm) * (y - ym) for i, y in enumerate(ys)) / den


def _frac(win: list[dict], key: str, pred) -> float:
    return sum(1 for r in win if pred(r[key])) / len(win)


def check(steps: list[dict], diversity_ratio: float | None = None, best_ratio: float | None = None,
          window_steps: int = WINDOW_STEPS, fresh_ratio: float | None = None, sat: float | None = None,
          real_sat: float | None = None, context: dict | None = None, best_epoch: int | None = None,
          previous_ratio: float | None = None, spectrum: dict | None = None,
          real_spectrum: dict | None = None, checker_before: list[float] | None = None) -> tuple[dict, list[Alarm]]:
    """Signals and alarms at an epoch's end.

    steps: the step records so far (step, loss_d, loss_g, d_real, d_fake, ...); diversity_ratio:
    this epoch's fixed-noise sample diversity over the real images'; best_ratio (and best_epoch):
    the best before this epoch; previous_ratio: the last epoch's (variety must stay lost two epochs
    running); fresh_ratio: the same measure on fresh latents; sat, real_sat: the
    samples' and the real images' share of extreme pixel values; spectrum, real_spectrum: the
    samples' and the real images' periodic peak contrast (spectrum.peak_contrast) and
    checker_before: the checkerboard signal of the epochs before; context: the run's settings
    (n_images, ngf, ndf, flip, augment, lr, upsample), which order the remedies.
    """
    ctx = context or {}
    signals: dict = {}
    alarms: list[Alarm] = []
    win = _window(steps, window_steps)
    step = steps[-1]["step"] if steps else 0

    def alarm(kind: str, message: str, **more) -> None:
        alarms.append(Alarm(kind, message, for_alarm(kind, {**ctx, "step": step, **more})))

    if win:
        ld, lg = [r["loss_d"] for r in win], [r["loss_g"] for r in win]
        signals["loss_d_low_frac"] = _frac(win, "loss_d", lambda v: v < 0.1)
        signals["loss_g_low_frac"] = _frac(win, "loss_g", lambda v: v < 0.1)
        signals["loss_g_slope"] = _slope(lg)
        signals["loss_d_slope"] = _slope(ld)
        signals["d_real_mean"] = sum(r["d_real"] for r in win) / len(win)
        signals["d_fake_mean"] = sum(r["d_fake"] for r in win) / len(win)
        if win[0].get("batch_diversity") is not None:
            signals["batch_diversity"] = sum(r["batch_diversity"] for r in win) / len(win)
        span = f"the last {win[-1]['step'] - win[0]['step']} steps"
        if step >= STALL_STEPS:
            if signals["loss_d_low_frac"] > 0.9 and sum(lg) / len(lg) > 4 and signals["loss_g_slope"] >= 0:
                alarm("d_wins", f"The discriminator is winning: its loss has been near 0 for {span} while the "
                                "generator's keeps climbing, so G learns almost nothing.")
            if signals["d_real_mean"] > 0.95 and signals["d_fake_mean"] < 0.05:
                alarm("d_saturated", f"D(x) is about 1 and D(G(z)) about 0 over {span}: D tells real from "
                                     "generated perfectly and G's gradient carries little.")
        if signals["loss_g_low_frac"] > 0.9 and sum(ld) / len(ld) > 2 and signals["loss_d_slope"] >= 0:
            alarm("g_wins", f"The generator's loss has been near 0 for {span} while the discriminator's keeps "
                            "climbing: D is fooled trivially.")
    if diversity_ratio is not None:
        signals["diversity_ratio"] = diversity_ratio
        if fresh_ratio is not None:
            signals["fresh_diversity_ratio"] = fresh_ratio
        lowest = min(diversity_ratio, fresh_ratio) if fresh_ratio is not None else diversity_ratio
        highest = max(diversity_ratio, fresh_ratio) if fresh_ratio is not None else diversity_ratio
        learned = best_ratio is not None and best_ratio >= LEARNED_RATIO
        still = previous_ratio is None or previous_ratio < LOST_FRACTION * (best_ratio or 0)
        if learned and highest < LOST_FRACTION * best_ratio and still:
            at = f" at epoch {best_epoch}" if best_epoch else ""
            alarm("lost_variety", f"Mode collapse: the samples have lost their variety ({lowest:.0%} of the real "
                                  f"images', down from {best_ratio:.0%}{at}); G now draws nearly the same picture "
                                  "for every latent.")
        elif step >= DIVERSITY_WARMUP_STEPS and highest < COLLAPSE_RATIO:
            alarm("no_variety", f"Possible mode collapse: after {step} steps the samples show only {highest:.0%} "
                                "of the real images' variety.")
    if sat is not None:
        signals["saturation"] = sat
        if real_sat is not None:
            signals["real_saturation"] = real_sat
            if sat > real_sat + SATURATION_EXCESS and sat > SATURATION_FACTOR * real_sat:
                alarm("artefacts", f"The samples are burnt out: {sat:.0%} of their pixel values sit at pure black "
                                   f"or white against {real_sat:.0%} in the real images (colour blow-outs, "
                                   "checkerboards): the updates are too large.")
    if spectrum:
        learned = max(best_ratio or 0.0, diversity_ratio or 0.0) >= LEARNED_RATIO
        epoch = steps[-1].get("epoch", 0) if steps else 0  # the epoch just ended (its last step record's)
        _checkerboard(signals, spectrum, real_spectrum or {}, checker_before or [],
                      learned or (epoch >= CHECKER_WARMUP_EPOCHS and step >= CHECKER_WARMUP_STEPS), alarm)
    signals["clear"] = not alarms and clear(signals, best_ratio)
    return signals, alarms


def clear(signals: dict, best_ratio: float | None = None) -> bool:
    """Whether an epoch's signals are all on the healthy side of every alarm's bar, warm-ups
    ignored: what makes an epoch worth going back to (healthy.pt). An epoch the warm-ups kept quiet
    (the early stall's grey, checkered tiles) is not healthy, only not judged yet."""
    ratio = max(signals.get("diversity_ratio", 1.0), signals.get("fresh_diversity_ratio", 0.0))
    if ratio < COLLAPSE_RATIO or (best_ratio is not None and best_ratio >= LEARNED_RATIO
                                  and ratio < LOST_FRACTION * best_ratio):
        return False
    if signals.get("checkerboard", 0.0) >= CHECKER_EXCESS:
        return False
    sat, real_sat = signals.get("saturation"), signals.get("real_saturation")
    if sat is not None and real_sat is not None and sat > real_sat + SATURATION_EXCESS and sat > SATURATION_FACTOR * real_sat:
        return False
    return not (signals.get("d_real_mean", 0.0) > 0.95 and signals.get("d_fake_mean", 1.0) < 0.05)


def _checkerboard(signals: dict, spec: dict, real: dict, before: list[float], judged: bool, alarm) -> None:
    ex = excess(spec, real)
    period = max(ex, key=ex.get)
    value = signals["checkerboard"] = ex[period]
    signals["checkerboard_period"] = int(period)
    recent, earlier = [*before[-2:], value], before[-6:-2]
    trend = "holding"
    if earlier:
        change = sum(recent) / len(recent) / max(sum(earlier) / len(earlier), 1e-12) - 1
        trend = "growing" if change > CHECKER_TREND else "fading" if change < -CHECKER_TREND else "holding"
    signals["checkerboard_trend"] = trend
    # two epochs running above the bar, past the warm-up
    if judged and value >= CHECKER_EXCESS and before and before[-1] >= CHECKER_EXCESS:
        how = {"growing": "and growing", "fading": "though fading", "holding": "and holding"}[trend]
        alarm("checkerboard", f"Checkerboard artefacts: the samples carry a periodic {period}-px pattern, "
                              f"{value:.1f}x the real images' share at that period, {how} "
                              f"(the uneven overlap of G's stride-2 transposed convolutions).", trend=trend)


def checker_history(records: list[dict]) -> list[float]:
    """The checkerboard signal of each epoch so far (oldest first), from epoch records."""
    return [r["signals"]["checkerboard"] for r in records
            if r.get("kind") == "epoch" and "checkerboard" in r.get("signals", {})]


def replay(records: list[dict], context: dict | None = None) -> list[dict]:
    """What the monitor would have said at each epoch end of a run, from its metrics.jsonl records
    alone: [{"epoch", "step", "signals", "alarms"}]. The trainer calls `check` the same way."""
    steps, best, best_epoch, previous, out, checker = [], None, None, None, [], []
    for r in records:
        if r.get("kind") == "step":
            steps.append(r)
        elif r.get("kind") == "epoch" and r.get("diversity_ratio") is not None:
            ratio = r["diversity_ratio"]
            signals, alarms = check(steps, ratio, best, fresh_ratio=r.get("fresh_diversity_ratio"),
                                    sat=r.get("saturation"), real_sat=r.get("real_saturation"), context=context,
                                    best_epoch=best_epoch, previous_ratio=previous, spectrum=r.get("spectrum"),
                                    real_spectrum=r.get("real_spectrum"), checker_before=list(checker))
            if "checkerboard" in signals:
                checker.append(signals["checkerboard"])
            if best is None or ratio > best:
                best, best_epoch = ratio, r["epoch"]
            previous = ratio
            out.append({"epoch": r["epoch"], "step": r["step"], "signals": signals,
                        "alarms": [a.to_dict() for a in alarms]})
    return out


@dataclass(frozen=True)
class Phase:
    """Where a run stands, from its records (the live view words it): `kind` is waiting (nothing
    logged yet), trouble (an alarm now), stall (the early stall: D ahead, nothing learned yet,
    within the first STALL_STEPS), recovered (alarms earlier, none now), learning (shapes before
    variety, before DIVERSITY_WARMUP_STEPS) or healthy."""
    kind: str
    step: int = 0
    d_real: float | None = None  # means over the last 10 logs
    d_fake: float | None = None
    diversity_ratio: float | None = None  # the newest epoch's
    alarm_epochs: tuple = ()  # epochs that had alarms before the newest
    checker_from: tuple = (CHECKER_WARMUP_EPOCHS, CHECKER_WARMUP_STEPS)  # when the stall's pattern is judged
    d_from: int = STALL_STEPS  # when D's lead is judged

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def in_early_stall(steps: list[dict], epochs: list[dict]) -> bool:
    """The early stall: within the first STALL_STEPS, D tells real from generated almost perfectly
    and the samples have never learned variety (a run that learned and then lost it is no stall)."""
    if not steps or steps[-1]["step"] > STALL_STEPS:
        return False
    recent = steps[-10:]
    d_real = sum(r["d_real"] for r in recent) / len(recent)
    d_fake = sum(r["d_fake"] for r in recent) / len(recent)
    best = max((e.get("diversity_ratio") or 0.0 for e in epochs), default=0.0)
    return d_real > DOMINANT_REAL and d_fake < DOMINANT_FAKE and best < LEARNED_RATIO


def phase(steps: list[dict], epochs: list[dict]) -> Phase:
    """What the curves say now (see Phase), from the same records the alarms are judged on."""
    if not steps:
        return Phase("waiting")
    last, recent = steps[-1], steps[-10:]
    d_real = sum(r["d_real"] for r in recent) / len(recent)
    d_fake = sum(r["d_fake"] for r in recent) / len(recent)
    ratio = epochs[-1].get("diversity_ratio") if epochs else None
    before = tuple(sorted({e["epoch"] for e in epochs[:-1] if e.get("alarms")}))
    now = epochs[-1].get("alarms", []) if epochs else []
    kind = ("trouble" if now else "stall" if in_early_stall(steps, epochs) else "recovered" if before
            else "learning" if ratio is not None and ratio < COLLAPSE_RATIO and last["step"] < DIVERSITY_WARMUP_STEPS
            else "healthy")
    return Phase(kind, last["step"], d_real, d_fake, ratio, before)
