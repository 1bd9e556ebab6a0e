"""Mode-collapse and divergence signals, computed from what training already measures.

Pure functions over the metric stream (the step records of metrics.jsonl) and the fixed-noise
samples of each epoch; no training, no I/O. `check` returns the current signal values and the
alarms they raise, each in plain words with the usual remedies. Thresholds are deliberately
conservative: a healthy DCGAN's losses swing a lot, and a false alarm teaches people to ignore
the real one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

WINDOW_STEPS = 300  # "several hundred steps": shorter bursts are normal GAN dynamics
# Sample diversity is judged only after this many steps. On the demo set it climbs from 0.03 to
# ~0.5 of the real data's over the first ~1,000 steps with dips on the way (seen: 0.14 at step
# 315), so earlier alarms would call an immature model collapsed.
DIVERSITY_WARMUP_STEPS = 1000
COLLAPSE_RATIO = 0.35  # sample diversity below this fraction of the real data's
REMEDIES = {
    "d_wins": "use half channels (--half, or a smaller --ndf), keep random flips on, lower D's learning rate, "
              "or add one-sided label smoothing (real label 0.9)",
    "g_wins": "D is being fooled trivially: check the data (a tiny or constant dataset?), "
              "lower G's learning rate, or widen D",
    "d_saturated": "D separates real from fake perfectly, so G gets no gradient: use half channels, "
                   "keep flips on, lower the learning rate, or smooth the real labels",
    "mode_collapse": "the fixed-noise samples look alike: restart from an earlier checkpoint with "
                     "half channels and random horizontal flips, or a lower learning rate",
}


@dataclass
class Alarm:
    kind: str
    message: str
    remedy: str

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.message} Try: {self.remedy}."


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
          window_steps: int = WINDOW_STEPS, fresh_ratio: float | None = None) -> tuple[dict, list[Alarm]]:
    """Signals and alarms from step records (step, loss_d, loss_g, d_real, d_fake).

    diversity_ratio: this epoch's sample diversity / the real data's; best_ratio: the best seen.
    The diversity alarm waits for DIVERSITY_WARMUP_STEPS: early samples are near-constant
    because the model is immature (and BatchNorm's running statistics still settling), not
    because it collapsed.
    """
    signals: dict = {}
    alarms: list[Alarm] = []
    win = _window(steps, window_steps)
    if win:
        ld, lg = [r["loss_d"] for r in win], [r["loss_g"] for r in win]
        signals["loss_d_low_frac"] = _frac(win, "loss_d", lambda v: v < 0.1)
        signals["loss_g_low_frac"] = _frac(win, "loss_g", lambda v: v < 0.1)
        signals["loss_g_slope"] = _slope(lg)
        signals["loss_d_slope"] = _slope(ld)
        signals["d_real_mean"] = sum(r["d_real"] for r in win) / len(win)
        signals["d_fake_mean"] = sum(r["d_fake"] for r in win) / len(win)
        span = f"the last {win[-1]['step'] - win[0]['step']} steps"
        if signals["loss_d_low_frac"] > 0.9 and sum(lg) / len(lg) > 4 and signals["loss_g_slope"] >= 0:
            alarms.append(Alarm("d_wins", f"The discriminator is winning: its loss has been near 0 "
                                f"for {span} while the generator's loss keeps climbing.", REMEDIES["d_wins"]))
        if signals["loss_g_low_frac"] > 0.9 and sum(ld) / len(ld) > 2 and signals["loss_d_slope"] >= 0:
            alarms.append(Alarm("g_wins", f"The generator's loss has been near 0 for {span} while the "
                                "discriminator's keeps climbing.", REMEDIES["g_wins"]))
        if signals["d_real_mean"] > 0.95 and signals["d_fake_mean"] < 0.05:
            alarms.append(Alarm("d_saturated", f"D(x) is about 1 and D(G(z)) about 0 over {span}.",
                                REMEDIES["d_saturated"]))
    if diversity_ratio is not None:
        signals["diversity_ratio"] = diversity_ratio
        trained = bool(steps) and steps[-1]["step"] >= DIVERSITY_WARMUP_STEPS
        fell = best_ratio is not None and best_ratio > 0 and diversity_ratio < 0.5 * best_ratio
        if trained and (diversity_ratio < COLLAPSE_RATIO or fell):
            why = (f"only {diversity_ratio:.0%} of the real images' variety" if not fell else
                   f"down to {diversity_ratio:.0%} of the real images' variety from {best_ratio:.0%}")
            alarms.append(Alarm("mode_collapse", f"Possible mode collapse: the fixed-noise samples show {why}.",
                                REMEDIES["mode_collapse"]))
    return signals, alarms


def replay(records: list[dict]) -> list[dict]:
    """What the monitor would have said at each epoch end of a run, from its metrics.jsonl records
    alone: [{"epoch", "step", "signals", "alarms"}]. The trainer calls `check` the same way."""
    steps, best, out = [], None, []
    for r in records:
        if r.get("kind") == "step":
            steps.append(r)
        elif r.get("kind") == "epoch" and r.get("diversity_ratio") is not None:
            ratio = r["diversity_ratio"]
            signals, alarms = check(steps, ratio, best, fresh_ratio=r.get("fresh_diversity_ratio"))
            best = ratio if best is None else max(best, ratio)
            out.append({"epoch": r["epoch"], "step": r["step"], "signals": signals,
                        "alarms": [a.to_dict() for a in alarms]})
    return out
