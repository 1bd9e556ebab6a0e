"""Who is asking, and files they handed over: the two things every use case may need to know.

A `Caller` is passed to every use case that touches runs or names files. On a person's own machine
(the CLI, or the app bound to loopback with public mode off) the caller is `LOCAL`: one user who
owns every run and may name any folder or file of the machine. A visitor of a public app is a
`Caller(owner=..., trusted=False)`: it names data and generators only by the product's vocabulary
(bundled names, its own run names, Hub ids) or hands files over as `Upload`s, never a server path.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Caller:
    owner: str = "local"  # who owns what this caller starts (the signed-in user or a browser's key)
    trusted: bool = True  # may name server paths: the machine's own user, never a public visitor

    def sees(self, owner: str | None) -> bool:
        """Whether a run owned by `owner` is this caller's to list, watch, stop or read. The local
        user sees every run (including CLI runs, which record no owner)."""
        return self.trusted or owner == self.owner


LOCAL = Caller()


@dataclass(frozen=True)
class Upload:
    """A file the caller handed over (the app's adapter vouches it is an upload, not a server
    path); `name` is the file's own name, as the caller knows it, for messages."""

    path: Path
    name: str

    @classmethod
    def of(cls, path, name: str | None = None) -> "Upload":
        p = Path(path)
        return cls(p, name or p.name)
