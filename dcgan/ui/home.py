"""A first page: the bundled demo dataset and the command line, until the full tabs land."""
from __future__ import annotations

import gradio as gr
import torch

from ..data import demo_images
from ..images import grid, to_pil


def demo_grid(n: int = 64, seed: int = 0):
    tiles = torch.from_numpy(demo_images()).permute(0, 3, 1, 2)
    pick = torch.randperm(len(tiles), generator=torch.Generator().manual_seed(int(seed)))[: int(n)]
    return to_pil(grid(tiles[pick], nrow=8))


def build() -> gr.Blocks:
    with gr.Blocks(title="DCGAN Studio") as demo:
        gr.Markdown("# DCGAN Studio\nTrain, watch, explore and score DCGANs (Radford et al., 2015). "
                    "The Train, Generate and Evaluate tabs are being built; the command line "
                    "(`python -m dcgan train|generate|interpolate`) already does these jobs.")
        with gr.Row():
            seed = gr.Number(value=0, precision=0, label="Seed")
            show = gr.Button("Show demo dataset")
        img = gr.Image(label="Bundled demo dataset (Noto emoji, 64×64)", type="pil")
        show.click(demo_grid, inputs=[gr.State(64), seed], outputs=img, api_name="demo_data")
        demo.load(demo_grid, inputs=[gr.State(64), seed], outputs=img)
    return demo
