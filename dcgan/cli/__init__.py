"""`dcgan VERB` (or `python -m dcgan VERB`): train, generate, interpolate, project, fid, stats,
nearest, weights, push, bench, summary, compare, app.

Thin adapters over the use cases (dcgan.api, called as the machine's own user): parse flags, call
one use case, print a short result (or one JSON object with --json); training's progress is drawn
by progress.py. The `train` flags are derived from TrainConfig's fields
(config.add_arguments), so every training setting is a flag. Exit status: 0 done; 2 a mistake the
user can fix (bad data, settings, checkpoint, statistics: errors.UserError), printed as one line;
3 the work could not go on for a reason outside the input (training stopped by a non-finite loss
or a full disk, FID weights missing), also one line; 1 a bug, with its traceback.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys

from ..errors import UserError
from . import sampling, scoring, service, training
from .words import REWIND, flag, setting_words

__all__ = ["REWIND", "build_parser", "flag", "main", "setting_words"]


class _Parser(argparse.ArgumentParser):
    """A flag mistake is one line and exit 2, like every other mistake (not usage plus a line)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    # allow_abbrev off: --epoch is a mistake to point out, not --epochs to guess
    ap = _Parser(prog="dcgan", description="DCGAN Studio: train, explore and score DCGANs.", allow_abbrev=False)
    ap.add_argument("--version", action="version", version=f"dcgan-studio {__version__}")
    sub = ap.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=_Parser)
    sub.add_parser = functools.partial(sub.add_parser, allow_abbrev=False)
    for family in (training, sampling, scoring, service):
        family.add_verbs(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except UserError as e:
        print(f"error: {' '.join(e.worded(flag).split())}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # `dcgan ... | head`: the reader left; say nothing more, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
