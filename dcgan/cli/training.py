"""The run verbs: train (and resume, rewind), compare runs, the architecture summary."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from ..errors import ConfigError
from .words import REWIND, flag, report, setting_words

def train_args(p: argparse.ArgumentParser) -> None:
    from ..config import add_arguments, changeable

    p.add_argument("--out", required=True, help="run directory to write (or resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from checkpoints/last.pt "
                   "(or the checkpoint --from names); these may change: "
                   + ", ".join(flag(n) for n in changeable()))
    p.add_argument("--from", dest="start_from", default="last", choices=("last", "healthy", "best"),
                   help="with --resume: last (default); healthy, the newest epoch end the monitor judged clear (a "
                        "rewind: later epochs are kept aside in branches/N); best, the best FID")
    p.add_argument("--json", action="store_true", help="print events as JSON lines instead of a progress bar")
    add_arguments(p)


def cmd_train(a: argparse.Namespace) -> int:
    from ..api import LOCAL, train_here
    from ..config import given
    from ..progress import Bar, TrainingView

    if a.start_from != "last" and not a.resume:
        raise ConfigError(f"--from {a.start_from} continues a run: add --resume")
    quiet = int(os.environ.get("RANK", "0")) > 0  # under torchrun only rank 0 talks
    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping: saving a checkpoint (Ctrl-C again to abort without one)", file=sys.stderr)

    decoding = Bar("decoding images", "img", disable=quiet or a.json)
    view = TrainingView(a.out, decoding, setting_words, REWIND)
    events = train_here(LOCAL, given(a), a.out, resume=a.resume, half=a.half, stop=stop, data_progress=decoding,
                        start_from=a.start_from)
    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for ev in events:
            if quiet:
                continue
            if a.json:
                print(json.dumps(ev.to_dict(), default=str), flush=True)
            else:
                view.show(ev)
    finally:
        view.close()
        for s, h in old.items():
            signal.signal(s, h)
    return 0


def cmd_compare(a: argparse.Namespace) -> int:
    from ..api import LOCAL, compare_runs

    c = compare_runs(LOCAL, a.runs, out=a.out, replay=a.replay_alarms)
    lines = [f"{len(c.runs)} run{'s' if len(c.runs) != 1 else ''} -> {c.picture}"]
    lines += [f"  {k}: {' | '.join(map(str, vals))}" for k, vals in c.differing]
    for r in c.compared:
        x = r.first_alarm
        lines.append(f"  {r.name} ({r.state}): " + (f"first alarm at epoch {x['epoch']} ({x['kind']})" if x else
                                                     "no alarm"))
        if r.fid:
            (last, at), (best, best_at) = r.fid["last"], r.fid["best"]
            lines.append(f"    {r.fid['protocol']} {last:.1f} at epoch {at} (best {best:.1f} at epoch {best_at})")
        for b in r.branches:
            changed = " ".join(f"{flag(k)} {v}" for k, v in b["changed"].items()) or "nothing changed"
            lines.append(f"    rewound at epoch {b['at_epoch']} to epoch {b['from_epoch']} ({b['source']}.pt) with "
                         f"{changed}; the abandoned branch reached epoch {b['reached']}"
                         + (f" with alarms: {', '.join(k.replace('_', ' ') for k in b['alarms'])}" if b["alarms"] else ""))
    report(a, c.to_dict(), "\n".join(lines))
    return 0


def cmd_summary(a: argparse.Namespace) -> int:
    from ..api import summary

    t = summary(image_size=a.image_size, ngf=a.ngf, ndf=a.ndf, nz=a.nz, channels=a.channels, half=a.half,
                upsample=a.upsample)
    print(json.dumps(t.table) if a.json else t.markdown)
    return 0


def add_verbs(sub) -> None:
    """Add this family's verbs to the `dcgan` parser's subcommands."""
    p = sub.add_parser("train", help="train a DCGAN into a run directory")
    train_args(p)
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("compare", help="two or more runs' curves overlaid and their grids side by side, as a PNG")
    p.add_argument("runs", nargs="+", help="run directories")
    p.add_argument("--out", required=True, help="output .png")
    p.add_argument("--replay-alarms", action="store_true",
                   help="show what today's monitor says about the runs, instead of the alarms recorded in training")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_compare)

    p = sub.add_parser("summary", help="the paper's architecture table: layers, shapes, parameters of G and D")
    p.add_argument("--image-size", type=int, default=64, choices=(32, 64, 128))
    p.add_argument("--nz", type=int, default=100)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--channels", type=int, default=3, choices=(1, 3))
    p.add_argument("--half", action="store_true", help="halve ngf and ndf, as train --half does")
    p.add_argument("--upsample", default="transposed", choices=("transposed", "resize"),
                   help="G's x2 steps, as train --upsample (default: transposed, the paper's)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_summary)
