"""The use cases: one typed function for every job a person does, shared by the CLI, the page and
the HTTP/MCP API, so the same question gets the same answer wherever it is asked.

Each takes plain values in the product's vocabulary (`data="faces"`, `generator="demo"`, a run's
name, a Hub id), and the `Caller` who asks (caller.py) when it touches runs or names files; it
checks every input cheaply before any expensive work, raises the `UserError` family with one line
that names the parameter and its range, and returns a dataclass (results.py). No gradio here.

    training.py  train, train_here, stop, resume, rewind, runs, snapshot, follow, summary
    sampling.py  generate, interpolate, scrub, directions, arithmetic (and warm_directions)
    scoring.py   fid, stats, compare, push, weights
    copies.py    nearest (did the generator copy its training images?)
    projecting.py project (an image's latent, reusable by walks)
"""
from .caller import LOCAL, Caller, Upload
from .copies import nearest
from .projecting import project
from .sampling import arithmetic, directions, generate, interpolate, scrub, warm_directions
from .scoring import compare, fid, push, stats, weights
from .training import follow, resume, rewind, runs, snapshot, stop, summary, train, train_here

__all__ = ["LOCAL", "Caller", "Upload", "arithmetic", "compare", "directions", "fid", "follow", "generate", "rewind",
           "interpolate", "nearest", "project", "push", "resume", "runs", "scrub", "snapshot", "stats", "stop", "summary", "train",
           "train_here", "warm_directions", "weights"]
