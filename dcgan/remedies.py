"""What to do about an alarm: its remedies, most likely first for the run at hand, as records, and
the one sentence an alarm is said in.

A `Remedy` is what to try, in words that name no flag or button, with the settings it changes (by
their one name, config.py) and whether that needs a new run; `for_alarm(kind, run settings)` lists
them for an alarm kind, ordered by the run (small data without augmentation: augmentation first;
the paper's widths: the blog's half channels; a learning rate above the paper's: the paper's), the
way back to a healthy epoch last; `rewind_options` are those a rewind can apply. `sentence` (and
`remedy_words`) say an alarm with each adapter's words for settings: the CLI's flags, the page's
labels. The rules that raise alarms are monitor.py's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SMALL_DATA = 2000  # fewer images than this: D can memorise them (DiffAugment's setting)


@dataclass(frozen=True)
class Remedy:
    """One thing to try: in words that name no flag or button, with the settings it changes (by
    their one name, config.py) so each adapter can say how: the CLI as flags, the page as its
    fields, the API as parameters (`sentence`)."""
    text: str
    settings: dict = field(default_factory=dict)  # {setting: value} this remedy sets
    new_run: bool = False  # the change needs a new run (widths, upsampling are a run's identity)
    rewind: bool = False  # "go back to the last healthy epoch" (how: the adapter's words)

    def to_dict(self) -> dict:
        return {"text": self.text, "settings": dict(self.settings), "new_run": self.new_run, "rewind": self.rewind}

    @classmethod
    def from_dict(cls, d: dict) -> "Remedy":
        return cls(str(d.get("text", "")), dict(d.get("settings") or {}), bool(d.get("new_run")), bool(d.get("rewind")))


def _plain_setting(settings: dict, new_run: bool) -> str:
    said = ", ".join(f"{k} {_value(v)}" for k, v in settings.items())
    return said + (", a new run" if new_run else "")


def _value(v) -> str:
    return "on" if v is True else "off" if v is False else f"{v:g}" if isinstance(v, float) else str(v)


REWIND_WORDS = "or go back to the last healthy epoch and continue from there with one of these changes"


def remedy_words(remedies: list[Remedy], setting_words=None, rewind_words: str | None = None) -> str:
    """Remedies joined with "; ", each followed by how its settings change, said by
    setting_words(settings, new_run) (default: "lr 0.0001"); the rewind remedy as rewind_words
    (default: REWIND_WORDS; "" leaves it out)."""
    say = setting_words or _plain_setting
    parts = []
    for r in remedies:
        if r.rewind:
            words = REWIND_WORDS if rewind_words is None else rewind_words
            if words:
                parts.append(words)
        else:
            parts.append(r.text + (f" ({say(r.settings, r.new_run)})" if r.settings else ""))
    return "; ".join(parts)


def remedies_of(alarm: dict, context: dict | None = None) -> list[Remedy]:
    """An alarm record's remedies: as recorded, or (records written before remedies were records)
    worked out again from its kind and the run's settings."""
    if alarm.get("remedies"):
        return [Remedy.from_dict(r) for r in alarm["remedies"]]
    return for_alarm(alarm["kind"], context or {})


def sentence(alarm: dict, context: dict | None = None, setting_words=None, rewind_words: str | None = None) -> str:
    """The one sentence an alarm is said in: its message, then "Try: " and its remedies (see
    remedy_words for how an adapter says settings and the way back)."""
    return f"{alarm['message']} Try: {remedy_words(remedies_of(alarm, context), setting_words, rewind_words)}."


def for_alarm(kind: str, ctx: dict) -> list[Remedy]:
    """The remedies of an alarm of `kind` for a run with settings `ctx` (and its step, trend)."""
    small = 0 < ctx.get("n_images", SMALL_DATA) < SMALL_DATA
    augmented = ctx.get("augment", "none") not in ("none", "", None)
    ngf, ndf = int(ctx.get("ngf", 64)), int(ctx.get("ndf", 64))
    half = ngf <= 32 and ndf <= 32
    flips = ctx.get("flip", True)
    lr = float(ctx.get("lr", 2e-4))
    out: list[Remedy] = []
    if kind in ("lost_variety", "no_variety", "d_wins", "d_saturated"):
        if small and not augmented:
            out.append(Remedy(f"add differentiable augmentation: with only {ctx.get('n_images')} images D memorises "
                              "them and G is left chasing what D still accepts", {"augment": "color,translation,cutout"}))
        if not (half and flips):
            changes = {**({} if half else {"ngf": max(1, ngf // 2), "ndf": max(1, ndf // 2)}),
                       **({} if flips else {"flip": True})}
            out.append(Remedy("the blog's fix: half the channels and random horizontal flips", changes,
                              new_run=not half))
        if lr > 2e-4 * 1.01:
            out.append(Remedy(f"the paper's learning rate (this run uses {lr:g})", {"lr": 2e-4}))
        out.append(Remedy("a lower learning rate for D, or one-sided label smoothing (real label 0.9)"))
        if kind in ("lost_variety", "no_variety"):
            out.append(Remedy("more (or more varied) training images"))
    elif kind == "artefacts":
        out.append(Remedy("a lower learning rate: the paper's" + (f" (this run uses {lr:g})" if lr > 2.2e-4 else ""),
                          {"lr": 2e-4}))
        out.append(Remedy("Adam's beta1 at the paper's 0.5", {"beta1": 0.5}))
        out.append(Remedy("restart, or rewind: a run this far off rarely recovers on its own"))
    elif kind == "checkerboard":
        if ctx.get("trend") == "fading" and ctx.get("step", 0) < 2000:
            out.append(Remedy("keep training: the pattern is fading, as it often does while G is young"))
        if lr > 2.2e-4:
            out.append(Remedy(f"the paper's learning rate (this run uses {lr:g})", {"lr": 2e-4}))
        else:
            out.append(Remedy("a lower learning rate, which lets G smooth the pattern out", {"lr": lr / 2}))
        if ctx.get("upsample", "transposed") == "transposed":
            out.append(Remedy("resize-convolution upsampling: nearest-neighbour x2 and a 3x3 convolution cannot "
                              "paint this pattern", {"upsample": "resize"}, new_run=True))
        if ctx.get("trend") != "fading" or ctx.get("step", 0) >= 2000:
            out.append(Remedy("keep training only if it fades: a pattern that holds for many epochs rarely leaves"))
    elif kind == "g_wins":
        out += [Remedy("check the data (a tiny or near-constant dataset?)"),
                Remedy("a lower learning rate for G, or a wider D")]
    out.append(Remedy(REWIND_WORDS, rewind=True))
    return out


def rewind_options(kinds: list[str], ctx: dict) -> list[tuple[str, dict]]:
    """What a rewind to the last healthy epoch may continue with, for these alarm kinds: (words,
    {setting: value}) in the order of the remedies, only settings that may change on a rewind
    (config.py's tunable ones; widths and upsampling need a new run). First: the one to preselect."""
    small = 0 < ctx.get("n_images", SMALL_DATA) < SMALL_DATA
    lr, out = float(ctx.get("lr", 2e-4)), []
    augmented = ctx.get("augment", "none") not in ("none", "", None)
    for kind in kinds:
        if kind in ("lost_variety", "no_variety", "d_wins", "d_saturated"):
            if small and not augmented:
                out.append(("augmentation (color, translation, cutout)", {"augment": "color,translation,cutout"}))
            if not ctx.get("flip", True):
                out.append(("random horizontal flips", {"flip": True}))
        if lr > 2.2e-4:
            out.append((f"the paper's learning rate 0.0002 (now {lr:g})", {"lr": 2e-4}))
        out.append((f"half the learning rate ({lr / 2:g})", {"lr": lr / 2}))
        if kind == "artefacts" and float(ctx.get("beta1", 0.5)) != 0.5:
            out.append(("Adam's beta1 at the paper's 0.5", {"beta1": 0.5}))
    seen, unique = set(), []
    for words, changes in out:
        if words not in seen:
            seen.add(words)
            unique.append((words, changes))
    return unique
