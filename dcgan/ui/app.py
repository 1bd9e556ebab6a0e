"""The whole app: the page's three tabs, and the public API / MCP tools beside them, in one Blocks.

The page opens on Generate (faces from the bundled generator, before any click). Its events are
private; the public HTTP API and the MCP tools are the use cases exposed with `gr.api`
(endpoints.py, train_endpoint.py). MCP: with GRADIO_MCP_SERVER=True in the environment (or
`dcgan app --mcp`), every public endpoint is also a tool at /gradio_api/mcp/ (schema at
/gradio_api/mcp/schema), described by its function's docstring. Off by default.
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from the app or its tests

import gradio as gr  # noqa: E402
import torch  # noqa: E402

from .. import api  # noqa: E402
from . import common, endpoints, evaluate_tab, generate_tab, train_tab  # noqa: E402

INTRO = ("# DCGAN Studio\nTrain a DCGAN (Radford et al., 2015), watch it learn, explore its latent space "
         "and score it with FID. Defaults are the paper's; the bundled data are 10,000 cartoon faces "
         "(and 1,401 emoji), and the bundled generator draws faces.")


def build_app() -> gr.Blocks:
    # many small requests, each on one core, beat a few on all cores; the training worker keeps
    # its hands off one core (worker.py), so generation is never starved by a running training
    torch.set_num_threads(int(os.environ.get("DCGAN_APP_THREADS", "1")))
    api.serve()  # a queue left by a restart is served again; the bundled generators' directions warmed
    with gr.Blocks(title="DCGAN Studio", delete_cache=(600, 1800), analytics_enabled=False) as demo:
        endpoints.register()  # first, so the public names are theirs (page events are private)
        gr.Markdown(INTRO)
        # who this browser is, in public mode: a key kept in the browser, so a reload or a second tab
        # re-attaches to the visitor's runs (made at the first Start; unused on one's own machine)
        key = gr.BrowserState("", storage_key="dcgan-studio-visitor")
        with gr.Tab("Generate"):
            generate_tab.build(demo, key)
        with gr.Tab("Train"):
            train_tab.build(demo, key)
        with gr.Tab("Evaluate"):
            evaluate_tab.build(demo, key)
    demo.queue(default_concurrency_limit=4)
    return demo


# Pictures (elem_classes "picture") keep their label and buttons above them, not over their top
# rows of tiles; lists of files to download (elem_classes "downloads") offer no "remove" button.
# On a phone the Train tab's columns stack with the live run view (#run-view) first,
# and tab labels are tighter so Generate's five sub-tabs fit without a "more" menu.
CSS = """
.picture .icon-button-wrapper.top-panel { position: static !important; display: flex; justify-content: flex-end;
  box-shadow: none !important; background: transparent !important; margin: 0 0 4px auto; width: fit-content; }
.picture label[data-testid="block-label"] { position: static !important; margin-bottom: 4px; }
.downloads .label-clear-button { display: none !important; }
@media (max-width: 720px) {
  #train-row { flex-direction: column-reverse !important; }
  .tab-container > button { padding: 0 4px !important; font-size: 12px !important; }
}
"""


# Gradio 6.31's status tracker and upload button say these keys to screen readers untranslated
# ("common.complete"): the words, for the locales a visitor's browser may ask for
SPOKEN = {"common.complete": "Complete", "common.upload": "Upload", "common.error": "Error"}


def launch_kwargs() -> dict:
    root = api.runs_folder()
    # a person's own machine serves its runs' pictures by path; a public app hands out only copies
    allowed = [] if common.public_mode() else [str(root.resolve())]
    return {"max_file_size": os.environ.get("DCGAN_MAX_FILE_SIZE", "200mb"), "allowed_paths": allowed,
            # system fonts: the page works offline and fetches nothing from font CDNs
            "theme": gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"],
                                    font_mono=["ui-monospace", "monospace"]), "footer_links": ["api", "gradio"],
            "css": CSS, "i18n": gr.I18n(en=SPOKEN, **{"en-US": SPOKEN, "en-GB": SPOKEN})}
