"""The whole app: three tabs in one Blocks, and the launch settings app.py and the tests share.

MCP: with GRADIO_MCP_SERVER=True in the environment (or `dcgan app --mcp`), every public endpoint is
also a Model Context Protocol tool at /gradio_api/mcp/ (schema at /gradio_api/mcp/schema), described
by its function's docstring. Off by default.
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from the app or its tests

import gradio as gr  # noqa: E402
import torch  # noqa: E402

from ..runs import runs_root  # noqa: E402
from . import evaluate_tab, generate_tab, train_tab  # noqa: E402

INTRO = ("# DCGAN Studio\nTrain a DCGAN (Radford et al., 2015), watch it learn, explore its latent space "
         "and score it with FID. Defaults are the paper's; the bundled data are 10,000 cartoon faces "
         "(and 1,401 emoji), and the bundled generator draws faces.")


MAX_MESSAGE = 300


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


EXPECTED = {"file": "an uploaded file (in a script: gradio_client.handle_file(path))", "number": "a number",
            "slider": "a number within the slider's range", "checkbox": "true or false",
            "image": "an image", "json": "JSON", "dataframe": "a table"}


class StudioBlocks(gr.Blocks):
    """gr.Blocks whose input problems are one line naming the parameter and what it expects.

    Gradio checks each input against its component before our function runs; a payload of the wrong
    type (a string where a file belongs, a list for a number) otherwise ends as its generic "the
    upstream app raised an exception", or as a multi-line pydantic report. This override of
    Blocks.preprocess_data (Gradio 6) turns those into one line; tests/test_api.py fuzzes it."""

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error as e:
            msg = " ".join(str(e.message if hasattr(e, "message") else e).split())
            raise gr.Error(msg if len(msg) <= MAX_MESSAGE else msg[:MAX_MESSAGE - 1] + "…") from None
        except Exception as e:  # noqa: BLE001 - any input Gradio could not read: one line
            raise gr.Error(_input_problem(block_fn, inputs, e)) from None


def _input_problem(block_fn, inputs, err: Exception) -> str:
    import inspect

    try:
        names = list(inspect.signature(block_fn.fn).parameters)
    except (TypeError, ValueError):
        names = []
    for i, (block, value) in enumerate(zip(block_fn.inputs, inputs)):
        try:
            model = getattr(block, "data_model", None)
            checked = model.model_validate(value, context={"validate_meta": True}) if model and value is not None else value
            block.preprocess(checked)
        except Exception:  # noqa: BLE001 - this is the input that failed
            kind = type(block).__name__.lower()
            name = names[i] if i < len(names) else getattr(block, "label", None) or f"input {i}"
            return f"{name} expects {EXPECTED.get(kind, 'a ' + kind + ' value')}, got {_short(value)}"
    return f"an input could not be read ({type(err).__name__})"


def build_app() -> gr.Blocks:
    # many small requests, each on one core, beat a few on all cores; the training worker keeps
    # its hands off one core (worker.py), so generation is never starved by a running training
    torch.set_num_threads(int(os.environ.get("DCGAN_APP_THREADS", "1")))
    with StudioBlocks(title="DCGAN Studio", delete_cache=(600, 1800), analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Train"):
            train_tab.build(demo)
        with gr.Tab("Generate"):
            generate_tab.build()
        with gr.Tab("Evaluate"):
            evaluate_tab.build()
    demo.queue(default_concurrency_limit=4)
    return demo


def launch_kwargs() -> dict:
    root = runs_root()
    root.mkdir(parents=True, exist_ok=True)
    return {"max_file_size": os.environ.get("DCGAN_MAX_FILE_SIZE", "200mb"), "allowed_paths": [str(root.resolve())],
            # system fonts: the page works offline and fetches nothing from font CDNs
            "theme": gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"],
                                    font_mono=["ui-monospace", "monospace"]), "footer_links": ["api", "gradio"]}
