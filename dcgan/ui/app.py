"""The whole app: three tabs in one Blocks, and the launch settings app.py and the tests share."""
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


def build_app() -> gr.Blocks:
    # many small requests, each on one core, beat a few on all cores; the training worker keeps
    # its hands off one core (worker.py), so generation is never starved by a running training
    torch.set_num_threads(int(os.environ.get("DCGAN_APP_THREADS", "1")))
    with gr.Blocks(title="DCGAN Studio", delete_cache=(600, 1800), analytics_enabled=False) as demo:
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
