"""`/train` for scripts and agents: one keyword parameter per TrainConfig field, derived, not listed.

The endpoint's signature, type hints (choices as `Literal`) and docstring are built from the fields
(settings_form.api_parameters / api_doc), so a new setting is a new parameter with no edit here.
Parameter names are the settings' own names (the CLI's flags without dashes); `files` takes
uploaded images or one zip (then `data` is ignored) and `half` halves both widths.
"""
from __future__ import annotations

import inspect

import gradio as gr
from gradio.data_classes import FileData

from .. import api
from ..config import TrainConfig
from . import common, settings_form, words


def make(cls=TrainConfig):
    """The /train function for the settings class `cls` (tests pass a class with an extra field)."""
    extra = [inspect.Parameter("files", inspect.Parameter.KEYWORD_ONLY, default=None,
                               annotation=list[FileData] | None),
             inspect.Parameter("half", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=bool),
             inspect.Parameter("key", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=str | None)]
    request = inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=gr.Request)
    params = [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
              for p in settings_form.api_parameters(cls) + extra + [request]]
    sig = inspect.Signature(params, return_annotation=tuple[str, str, str])

    @common.user_errors
    def train(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        kw = dict(bound.arguments)
        request, key = kw.pop("request"), kw.pop("key")
        if common.public_mode() and not common.signed_in(request) and not key:
            key = common.new_key()  # a first run: the visitor's key, returned to keep
        caller = common.caller(request, key)
        ups, half = common.uploads(kw.pop("files")), kw.pop("half")
        started = api.train(caller, settings_form.field_values(cls, kw), uploads=ups, half=half)
        return words.started(started, words.plain), started.run, (key or "") if common.public_mode() else ""

    train.__signature__ = sig
    train.__annotations__ = {p.name: p.annotation for p in params} | {"return": tuple[str, str, str]}
    train.__doc__ = f"""Start training a DCGAN in a background worker (one training at a time); returns at once.

    Every training setting is a parameter, with the paper's defaults.

    Args:
{settings_form.api_doc(cls)}
        files: uploaded images or one .zip to train on, instead of data.
        half: halve ngf and ndf (the blog's half channels).
        key: on a public Space, your visitor key (empty the first time: one is made and returned).

    Returns:
        A note saying what started (or where the run waits in the queue), the run's name (pass it to
        /follow, /stop, /resume, /compare), and on a public Space your visitor key: pass it as `key`
        to every later call, as nobody else can see or change your runs.
    """
    return train


def register() -> None:
    gr.api(make(), api_name="train", queue=False)  # see endpoints.QUEUED
