"""The run endpoints: /summary, /stop, /resume, /rewind, /slot, /runs, /follow, /compare, /push
(/train is train_endpoint.py; endpoints.py registers them all).
"""
# no `from __future__ import annotations` here: Gradio reads the return hints as objects (a string
# "tuple[...]" would count as one output)
from dataclasses import asdict
from typing import Literal

import gradio as gr
from gradio.data_classes import FileData

from .. import api
from . import common, words


@common.user_errors
def summary(image_size: Literal[32, 64, 128] = 64, half: bool = False, channels: Literal[1, 3] = 3, ngf: int = 64,
            ndf: int = 64, nz: int = 100,
            upsample: Literal["transposed", "resize"] = "transposed") -> tuple[str, dict]:
    """The paper's architecture table for these settings: every layer of G and D with its kernel,
    stride, padding, output shape and parameters, and the totals.

    Args:
        image_size: 32, 64 or 128.
        half: halve ngf and ndf (the blog's half channels).
        channels: image channels, 3 (RGB) or 1 (grayscale).
        ngf: generator width (the paper: 64).
        ndf: discriminator width (the paper: 64).
        nz: latent size (the paper: 100).
        upsample: G's x2 steps: "transposed" (the paper's) or "resize" (nearest x2 + 3x3 conv).

    Returns:
        The table as Markdown, and as JSON ({"generator": {"layers": [...], "params": N}, "discriminator": ...}).
    """
    t = api.summary(image_size, ngf, ndf, nz, channels, half, upsample)
    return t.markdown, t.table


@common.user_errors
def stop(run: str | None = None, key: str | None = None, request: gr.Request = None) -> str:
    """Stop your running training; it saves a checkpoint first and can be resumed.

    Args:
        run: the run to stop (as /train returned it); empty stops whichever of yours is running.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        What happened, in one sentence.
    """
    return words.stopped(api.stop(common.caller(request, key), run or None))


@common.user_errors
def resume(run: str | None = None, epochs: int | None = None, key: str | None = None,
           request: gr.Request = None) -> tuple[str, str]:
    """Continue a stopped, finished or interrupted run of yours until it has trained `epochs` epochs in total.

    Args:
        run: the run's name; empty resumes your newest run.
        epochs: the total number of epochs to reach; empty keeps what the run asked for.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A note, and the run's name (pass it to /follow).
    """
    r = api.resume(common.caller(request, key), run or None, epochs if epochs not in ("", None) else None)
    return words.started(r, words.plain), r.run


@common.user_errors
def rewind(run: str | None = None, continue_with: str | None = None, lr: float | None = None,
           beta1: float | None = None, beta2: float | None = None, flip: bool | None = None,
           augment: str | None = None, epochs: int | None = None, key: str | None = None,
           request: gr.Request = None) -> tuple[str, str]:
    """Go back to a run's last healthy epoch (the newest epoch end without an alarm, kept as
    checkpoints/healthy.pt) and continue from there with changed settings; a run still training is
    stopped first, and the abandoned epochs are kept aside (Compare shows them).

    Args:
        run: the run's name; empty rewinds your newest run.
        continue_with: one of the options /follow's "rewind" offers (default: the first, the monitor's
            first remedy); ignored when any setting below is given.
        lr: a new Adam learning rate.
        beta1: a new Adam beta1.
        beta2: a new Adam beta2.
        flip: random horizontal flips on or off.
        augment: "none" or a comma list of color, translation, cutout.
        epochs: the total number of epochs to reach; empty keeps what the run asked for.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A note, and the run's name (pass it to /follow).
    """
    given = {k: v for k, v in (("lr", lr), ("beta1", beta1), ("beta2", beta2), ("flip", flip), ("augment", augment))
             if v not in (None, "")}
    r = api.rewind(common.caller(request, key), run or None, continue_with or None, given or None,
                   epochs if epochs not in ("", None) else None)
    return words.started(r, words.plain), r.run


@common.user_errors
def slot(key: str | None = None, request: gr.Request = None) -> tuple[str, dict]:
    """The one training slot: free or busy, about when it frees, how many runs wait, and where yours is.

    Args:
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A sentence, and the same as JSON (busy, mine, run: the running run's name when it is yours,
        free_in_s, waiting, my_place).
    """
    s = api.slot(common.caller(request, key))
    return words.slot(s, common.public_mode()).replace("**", ""), asdict(s)


@common.user_errors
def runs(key: str | None = None, request: gr.Request = None) -> list[dict]:
    """Your training runs, newest first, then the shipped example runs (read-only, everyone's).

    Args:
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        One record per run: name, state (running, finished, stopped, failed, interrupted, new), epoch
        reached, epochs asked for, data, widths, flips, augmentation, the first alarm and the best FID.
    """
    return [r.to_dict() for r in api.runs(common.caller(request, key))]


@common.user_errors
def follow(run: str | None = None, key: str | None = None,
           request: gr.Request = None) -> tuple[str, dict, FileData | None, FileData | None]:
    """Follow a training run live, until it ends: its status, newest numbers, newest grid and GIF.

    Args:
        run: the run's name (as /train returns it); empty follows your newest run.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A stream of updates: the status line, the newest step and epoch records with the alarms, the
        newest fixed-noise grid (PNG) and the progress GIF.
    """
    # a generator: each update has the annotated shape (Gradio reads the schema from the return hint)
    for s in api.follow(common.caller(request, key), run or None):
        record = {**s.to_dict(), "story": words.phase(s.phase),
                  "alarms_text": words.alarms(s, words.plain, "or rewind (/rewind)" if s.rewind else "")}
        yield (words.status_line(s.name, s.status).replace("**", ""), record,
               common.file_data(common.handout(s.grid)), common.file_data(common.handout(s.gif)))


@common.user_errors
def compare(runs: list[str] | None = None, replay_alarms: bool = False,
            key: str | None = None, request: gr.Request = None) -> tuple[FileData, str, dict]:
    """Put two or more of your runs side by side: losses, D(x) and D(G(z)), sample diversity and FID
    overlaid on one step axis, each run's newest grid, the settings that differ, and the first alarms.

    Args:
        runs: names of two to eight runs; empty compares your two newest runs.
        replay_alarms: judge the runs with today's monitor instead of the alarms recorded while they trained.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        The comparison picture (PNG), one line per run (state, first alarm), and the differing settings.
    """
    out = common.out_path("compare.png")
    c = api.compare_runs(common.caller(request, key), runs, out=out, replay=replay_alarms)
    return common.file_data(c.picture), "\n".join(words.compared(c, words.plain)), dict(c.differing)


@common.user_errors
def push(run: str | None = None, repo_id: str | None = None, private: bool = False,
         key: str | None = None, request: gr.Request = None, oauth_token: gr.OAuthToken | None = None) -> str:
    """Push one of your runs (generator, samples, GIF and model card) to the Hugging Face Hub. On your
    own machine it uses this machine's login; on a Space, your own sign-in, never the server's.

    Args:
        run: the run to push.
        repo_id: USER/NAME of the model repository to create or update.
        private: make the repository private.
        key: on a public Space, the visitor key /train returned (none when signed in); unused locally.

    Returns:
        A line with the repository's URL.
    """
    p = api.push(common.caller(request, key), run or "", repo_id or "", private,
                 token=oauth_token.token if oauth_token is not None else None)
    return f"Pushed **{p.run}** to [{p.repo_id}]({p.url})."
