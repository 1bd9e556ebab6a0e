"""How the command line says things: a setting as its flag, a remedy's settings as flags, and a
result as a line of text or one JSON object (--json)."""
from __future__ import annotations

import json

FLAGS = {"start_from": "--from", "a": "A", "b": "B", "runs": "RUNS"}  # not a flag named like the setting


def flag(setting: str) -> str:
    """How the command line says a setting (a use case's parameter): its flag."""
    return FLAGS.get(setting, "--" + setting.replace("_", "-"))


def setting_words(settings: dict, new_run: bool) -> str:
    """A remedy's settings as the flags that set them (remedies.remedy_words)."""
    said = " ".join(flag(k) if v is True else f"--no-{k.replace('_', '-')}" if v is False
                    else f"{flag(k)} {v:g}" if isinstance(v, float) else f"{flag(k)} {v}" for k, v in settings.items())
    return said + (", a new run" if new_run else "")


REWIND = ("or go back to the last healthy epoch and continue with one of these changes "
          "(train --out RUN --resume --from healthy and its flag)")


def report(a, obj: dict, text: str) -> None:
    """Print a verb's result: `obj` as one JSON object with --json, else `text`."""
    print(json.dumps(obj) if getattr(a, "json", False) else text)
