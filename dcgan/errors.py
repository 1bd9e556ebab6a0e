"""One family of errors for mistakes a user can fix, caught at the edges (CLI, worker, app).

Raise a `UserError` subclass where the mistake is found, with a short message that says what was
wrong and how to fix it; the CLI prints that one line and exits with `exit_code`, the app shows it,
the worker records it in status.json. Anything else is a bug and keeps its traceback.

A message names a setting by its one name (`lr`, `max_images`, the field or parameter name); where
it does, the name is written `{lr}` and listed in `settings`, so each adapter can say it its own
way (`worded`): the CLI as a flag (`--lr`), the page as the field's label ("Learning rate"); `str()`
gives the plain name. Several classes also derive from the builtin they refine (ValueError,
FileNotFoundError, ...), so code that already catches those keeps working.
"""
from __future__ import annotations

from typing import Callable


class UserError(Exception):
    """Bad input or a missing resource; the message is for users."""

    exit_code = 2

    def __init__(self, message: str = "", *, settings=()):
        self.template, self.settings = str(message), tuple(dict.fromkeys(settings))
        super().__init__(self.worded())

    def worded(self, name: Callable[[str], str] | None = None) -> str:
        """The message with each `{setting}` said by `name(setting)` (default: its plain name)."""
        text = self.template
        for s in self.settings:
            text = text.replace("{" + s + "}", name(s) if name else s)
        return text


class ConfigError(UserError, ValueError):
    """A setting out of range (batch size 0, an unknown precision, ...)."""


class DataError(UserError, ValueError):
    """A data source that cannot be used at all (missing, empty, hostile)."""


class StatsError(UserError, ValueError):
    """FID statistics that cannot be used (wrong keys, shapes, too few samples)."""


class CheckpointError(UserError, ValueError):
    """A generator or checkpoint that cannot be loaded."""


class RunExists(UserError, FileExistsError):
    """A run directory that already holds a run (and --resume was not given)."""


class NothingToResume(UserError, FileNotFoundError):
    """--resume on a directory with no checkpoint."""


class Busy(UserError, RuntimeError):
    """A training is already running; the message says which."""


class TrainingError(UserError, RuntimeError):
    """Training cannot go on (diverged, disk full); checkpoints written before are intact."""

    exit_code = 3


class WeightsUnavailable(UserError, RuntimeError):
    """Network weights (FID Inception, VGG-16) are missing and cannot be downloaded."""

    exit_code = 3


class WeightsFileUnusable(WeightsUnavailable):
    """A weights file that was named but is missing or is not such weights: an input mistake."""

    exit_code = 2


class Cancelled(UserError, RuntimeError):
    """Long work (FID features) stopped because the person asked, or left."""

    exit_code = 130


class TrackerUnavailable(UserError, RuntimeError):
    """A tracker (TensorBoard, trackio, W&B) was asked for but its package is not installed."""
