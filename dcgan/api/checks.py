"""Cheap input checks for the use cases: each one line that names the parameter and the range.

Values may arrive loosely typed (a form's float, an HTTP client's string); a check accepts what
means the same number ("8", 8.0) and refuses the rest with a `ConfigError` such as
"n must be a whole number from 1 to 256 (got 0)". Whole numbers print as whole numbers; what was
given is quoted as given (text as text, an empty box as "nothing"), never as what a conversion
made of it. The parameter's name is marked as a setting (errors.UserError), so the CLI says it as
a flag and the page as its label.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

from ..errors import ConfigError
from ..latent import MAX_SEED


def shown(value) -> str:
    """A value as a message quotes it: text in quotes, nothing as 'nothing', long ones cut."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "nothing"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _refuse(name: str, words: str, value) -> ConfigError:
    return ConfigError(f"{{{name}}} {words} (got {shown(value)})", settings=(name,))


def _range(lo, hi) -> str:
    return f"from {lo} to {hi}" if hi is not None else f"of at least {lo}"


def whole(value, name: str, lo: int, hi: int | None = None) -> int:
    """A whole number in [lo, hi]; big ones may arrive as text to keep every digit."""
    words = f"must be a whole number {_range(lo, hi)}"
    if isinstance(value, bool) or value is None:
        raise _refuse(name, words, value)
    try:
        if isinstance(value, str):
            x = int(value.strip()) if value.strip().lstrip("+-").isdigit() else float(value)
        else:
            x = value if isinstance(value, int) else float(value)
    except (TypeError, ValueError):
        raise _refuse(name, words, value) from None
    if isinstance(x, float):
        if not (math.isfinite(x) and x.is_integer()):
            raise _refuse(name, words, value)
        x = int(x)
    if x < lo or (hi is not None and x > hi):
        raise _refuse(name, words, value)
    return x


def number(value, name: str, lo: float, hi: float) -> float:
    try:
        x = float(value) if not isinstance(value, bool) and value is not None else math.nan
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and lo <= x <= hi):
        raise _refuse(name, f"must be a number from {lo:g} to {hi:g}", value)
    return x


def seed(value, name: str = "seed") -> int:
    return whole(value, name, 0, MAX_SEED)


def seeds(value, name: str = "seeds", at_least: int = 1, at_most: int = 64, distinct_neighbours: bool = False
          ) -> list[int]:
    """Seeds as a list, or as text separated by spaces or commas ("1, 2 3"). With
    distinct_neighbours, two seeds in a row may not be the same (a walk would stand still)."""
    if isinstance(value, str):
        parts: Sequence = value[:4000].replace(",", " ").split()
    elif isinstance(value, Iterable):
        parts = list(value)
    elif value is None:
        parts = []
    else:
        parts = [value]
    out = [seed(p, name) for p in parts[:at_most + 1]]
    if not at_least <= len(parts) <= at_most:
        many = f"{at_least} to {at_most}" if at_least != at_most else f"{at_least}"
        got = "none" if not parts else f"{len(parts)} seed{'s' if len(parts) != 1 else ''}"
        raise ConfigError(f"{{{name}}} needs {many} seeds, each a whole number from 0 to {MAX_SEED} (got {got})",
                          settings=(name,))
    if distinct_neighbours and any(a == b for a, b in zip(out, out[1:])):
        raise ConfigError(f"{{{name}}}: a seed repeated next to itself makes the walk stand still there "
                          f"(got {shown(value if isinstance(value, str) else ' '.join(map(str, out)))})",
                          settings=(name,))
    return out


def one_of(value, name: str, options: Iterable) -> object:
    options = list(options)
    if value not in options:
        raise _refuse(name, f"must be one of {', '.join(map(str, options))}", value)
    return value


def flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise _refuse(name, "must be true or false", value)
