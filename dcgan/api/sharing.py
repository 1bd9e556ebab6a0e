"""Use case: a run shared on the Hugging Face Hub (`push`): its generator, samples, GIF and model card."""
from __future__ import annotations

from ..errors import ConfigError
from ..hub import push as hub_push
from . import checks
from .access import run_for, writable
from .caller import Caller
from .results import Pushed


def push(caller: Caller, run: str, repo_id: str, private: bool = False, token: str | None = None) -> Pushed:
    """A run's generator, samples, GIF and model card to the Hub. The local user pushes with this
    machine's login; anyone else only with their own token (never the server's)."""
    target = writable(run_for(caller, run))
    repo_id = str(repo_id or "").strip()
    if not caller.trusted and not token:
        raise ConfigError("sign in with Hugging Face first: the app pushes with your account, never the server's")
    url = hub_push(target.path, repo_id, private=checks.flag(private, "private"), token=token,
                   local_credentials=caller.trusted and not token)
    return Pushed(url, repo_id, target.name)
