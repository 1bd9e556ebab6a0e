"""The Train form and the `/train` endpoint's parameters, both derived from TrainConfig's fields.

Each field's type, default, choices, help and metadata decide its widget (a number, a checkbox, a
dropdown of its choices, checkboxes for the words of a comma list, a text box) and its API
parameter (name = the CLI flag's name, type hint with `Literal` choices, docstring line = the
help, label from the field's metadata). The settings most people change (TOP) go on top, the
rest under "All settings"; fields that name server paths are left out in public mode. Adding a
field to TrainConfig adds it here with no other edit.
"""
from __future__ import annotations

import inspect
import typing
from dataclasses import fields

import gradio as gr

from ..config import TrainConfig, base_type, label_of

# the settings on top of the form, in rows of two; every other one is under "All settings"
TOP = ("epochs", "batch_size", "image_size", "max_images", "flip", "augment", "seed", "precision")


def param_name(f) -> str:
    """The field's name in the API: the setting's one name (config.py)."""
    return f.name


def shown_fields(cls=TrainConfig, public: bool = False, skip=("data",)) -> list:
    return [f for f in fields(cls) if f.name not in skip and not (public and f.metadata["server_path"])]


def widget(cls, f, default=None):
    """The component for one field, with its default (or `default`) and help. Numbers carry no
    minimum or maximum: the use case checks them and says so in one line (a widget's own range
    check would refuse without saying what was wrong, and mark every output with an error)."""
    base, m = base_type(cls, f), f.metadata
    default = f.default if default is None else default
    label, info = label_of(f), m["help"]
    if base is bool:
        return gr.Checkbox(default, label=label, info=info)
    if m["choices"]:
        return gr.Dropdown(list(m["choices"]), value=default, label=label, info=info)
    if m["parts"]:
        picked = [p for p in str(default).split(",") if p in m["parts"]]
        return gr.CheckboxGroup(list(m["parts"]), value=picked, label=label, info=info)
    if base in (int, float):
        # an optional count (max_images) shows 0 for "not set": the label says so
        return gr.Number(0 if default is None else default, label=label + (" (0: all)" if default is None else ""),
                         info=info, precision=0 if base is int else None)
    return gr.Textbox("" if default is None else str(default), label=label, info=info)


def build(cls=TrainConfig, public: bool = False, widths: int | None = None) -> dict:
    """{field name: component}: the TOP fields in rows, every other one in an accordion. widths:
    the G and D widths the form opens with (the "Half channels" box's), else the defaults."""
    shown = shown_fields(cls, public)
    start = {"ngf": widths, "ndf": widths} if widths else {}
    out = {}
    top = sorted((f for f in shown if f.name in TOP), key=lambda f: TOP.index(f.name))
    for i in range(0, len(top), 2):
        with gr.Row():
            for f in top[i:i + 2]:
                out[f.name] = widget(cls, f, start.get(f.name))
    with gr.Accordion("All settings (the paper's defaults)", open=False):
        rest = [f for f in shown if f.name not in TOP]
        for i in range(0, len(rest), 2):
            with gr.Row():
                for f in rest[i:i + 2]:
                    out[f.name] = widget(cls, f, start.get(f.name))
    return out


def values(cls, names: list[str], raw: tuple) -> dict:
    """Widget values (in `names` order) -> settings by field name, in the library's types."""
    by = {f.name: f for f in fields(cls)}
    out = {}
    for name, v in zip(names, raw):
        f = by[name]
        if f.metadata["parts"] and isinstance(v, (list, tuple)):
            v = ",".join(v) or f.default
        elif f.default is None and (v is None or v == 0 or (isinstance(v, str) and v.strip() == "")):
            v = None  # an optional setting left empty (or 0 for a count such as max_images): not set
        out[name] = v
    return out


def from_config(cfg: dict, names: list[str], cls=TrainConfig) -> list:
    """A run's recorded settings -> widget values (in `names` order), for a form that follows a run."""
    by = {f.name: f for f in fields(cls)}
    try:
        cfg = {**cfg, **cls.from_dict(cfg).to_dict()}  # older configs' names (nc) read as today's
    except Exception:  # noqa: BLE001 - a config this release cannot read: show what it says
        pass
    out = []
    for name in names:
        f = by[name]
        v = cfg.get(name, f.default)
        if f.metadata["parts"]:
            v = [p for p in str(v or "").split(",") if p in f.metadata["parts"]]
        elif v is None:
            v = "" if base_type(cls, f) is str else 0
        out.append(v)
    return out


def api_parameters(cls=TrainConfig) -> list[inspect.Parameter]:
    """One keyword parameter per field: name, type hint (Literal for choices) and default."""
    params = []
    for f in fields(cls):
        base, m = base_type(cls, f), f.metadata
        hint = typing.Literal[tuple(m["choices"])] if m["choices"] else base
        if f.default is None:
            hint = hint | None
        params.append(inspect.Parameter(param_name(f), inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                        annotation=hint))
    return params


def api_doc(cls=TrainConfig) -> str:
    """The Args lines of `/train`'s docstring, from the fields' help."""
    return "\n".join(f"        {param_name(f)}: {f.metadata['help']}." for f in fields(cls))


def field_values(cls, kwargs: dict) -> dict:
    """API keyword arguments (by parameter name) -> settings by field name; absent ones omitted."""
    return {f.name: kwargs[param_name(f)] for f in fields(cls) if param_name(f) in kwargs}
