"""The use cases: one typed function for every job a person does, shared by the CLI, the page and
the HTTP/MCP API, so the same question gets the same answer wherever it is asked. This package is
also the page's only door into the project (with dcgan.config for the settings' fields): whatever
the page needs, from the training slot to the helpers that write files out, is offered here.

Each use case takes plain values in the product's vocabulary (`data="faces"`,
`generator="faces-generator"`, a run's name, a Hub id), and the `Caller` who asks (caller.py) when
it touches runs or names files; it checks every input cheaply before any expensive work, raises the
`UserError` family with one line that names the parameter and its range, and returns data
(results.py): states, numbers, alarms as records. Each adapter words them. No gradio here.

    training.py      train, train_here, stop, resume, rewind (commands)
    watching.py      runs, snapshot, follow, slot, fid_curve (what runs say)
    architecture.py  summary
    comparing.py     compare_runs
    sampling.py      generate, interpolate, scrub, directions, arithmetic (and warm_directions)
    scoring.py       fid, stats, weights
    sides.py         what a side of fid, stats or nearest is (the one resolver)
    copies.py        nearest (did the generator copy its training images?)
    projecting.py    project (an image's latent, reusable by walks)
    sharing.py       push
    access.py        who may name what (runs, data, generators, uploads)
    service.py       the training slot's supervisor and an app's start-up work
"""
from ..errors import UserError, WeightsUnavailable
from ..images import atomic_path, save_gif, save_png
from ..metrics import report_markdown
from ..monitor import Phase
from ..remedies import REWIND_WORDS, remedy_words, sentence as alarm_sentence
from .access import GENERATORS, pick_generator
from .architecture import summary
from .caller import LOCAL, Caller, Upload
from .comparing import EXAMPLE_PAIR, compare_runs
from .copies import nearest
from .limits import Limits
from .projecting import project
from .results import (ArchitectureTable, Comparison, FidResult, RunInfo, RunSnapshot, RunStatus, Slot, Stopped,
                      TrainingStarted, WorkStep)
from .sampling import MAX_FRAMES, MAX_GRID, N_DIRECTIONS, arithmetic, directions, generate, interpolate, scrub, \
    warm_directions
from .scoring import MAX_N as MAX_FID_N
from .scoring import fid, stats, weights
from .service import runs_folder, serve, stop_training
from .sharing import push
from .training import resume, rewind, stop, train, train_here
from .watching import EXAMPLE, fid_curve, follow, runs, slot, snapshot


def limits() -> Limits:
    """What a public Space allows one visitor (from the Space owner's environment)."""
    return Limits.from_env()


__all__ = ["EXAMPLE", "EXAMPLE_PAIR", "GENERATORS", "LOCAL", "MAX_FID_N", "MAX_FRAMES", "MAX_GRID", "N_DIRECTIONS",
           "REWIND_WORDS", "ArchitectureTable", "Caller", "Comparison", "FidResult", "Limits", "Phase", "RunInfo",
           "RunSnapshot", "RunStatus", "Slot", "Stopped", "TrainingStarted", "Upload", "UserError",
           "WeightsUnavailable", "WorkStep", "alarm_sentence", "arithmetic", "atomic_path", "compare_runs",
           "directions", "fid", "fid_curve", "follow", "generate", "interpolate", "limits", "nearest", "pick_generator",
           "project", "push", "remedy_words", "report_markdown", "resume", "rewind", "runs", "runs_folder",
           "save_gif", "save_png", "scrub", "serve", "slot", "snapshot", "stats", "stop", "stop_training", "summary",
           "train", "train_here", "warm_directions", "weights"]
