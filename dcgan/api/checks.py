"""Cheap input checks for the use cases: each one line that names the parameter and the range.

Values may arrive loosely typed (a form's float, an HTTP client's string); a check accepts what
means the same number ("8", 8.0) and refuses the rest with a `ConfigError` such as
"n must be a whole number from 1 to 256 (got 0)". Whole numbers print as whole numbers.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

from ..errors import ConfigError
from ..latent import MAX_SEED


def _show(value) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _range(lo, hi) -> str:
    return f"from {lo} to {hi}" if hi is not None else f"of at least {lo}"


def whole(value, name: str, lo: int, hi: int | None = None) -> int:
    """A whole number in [lo, hi]; big ones may arrive as text to keep every digit."""
    word = f"{name} must be a whole number {_range(lo, hi)}"
    if isinstance(value, bool):
        raise ConfigError(f"{word} (got {_show(value)})")
    try:
        if isinstance(value, str):
            x = int(value.strip()) if value.strip().lstrip("+-").isdigit() else float(value)
        else:
            x = value if isinstance(value, int) else float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{word} (got {_show(value)})") from None
    if isinstance(x, float):
        if not (math.isfinite(x) and x.is_integer()):
            raise ConfigError(f"{word} (got {_show(value)})")
        x = int(x)
    if x < lo or (hi is not None and x > hi):
        raise ConfigError(f"{word} (got {_show(value)})")
    return x


def number(value, name: str, lo: float, hi: float) -> float:
    try:
        x = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and lo <= x <= hi):
        raise ConfigError(f"{name} must be a number from {lo:g} to {hi:g} (got {_show(value)})")
    return x


def seed(value, name: str = "seed") -> int:
    return whole(value, name, 0, MAX_SEED)


def seeds(value, name: str = "seeds", at_least: int = 1, at_most: int = 64) -> list[int]:
    """Seeds as a list, or as text separated by spaces or commas ("1, 2 3")."""
    if isinstance(value, str):
        parts: Sequence = value[:4000].replace(",", " ").split()
    elif isinstance(value, Iterable):
        parts = list(value)
    else:
        parts = [value]
    if not at_least <= len(parts) <= at_most:
        many = f"{at_least} to {at_most}" if at_least > 1 else f"at most {at_most}"
        raise ConfigError(f"{name} needs {many} seeds, each a whole number from 0 to {MAX_SEED} "
                          f"(got {len(parts)})")
    return [seed(p, name) for p in parts]


def one_of(value, name: str, options: Iterable) -> object:
    options = list(options)
    if value not in options:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, options))} (got {_show(value)})")
    return value


def flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise ConfigError(f"{name} must be true or false (got {_show(value)})")
