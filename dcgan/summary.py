"""The paper's architecture table for any size and width: each layer's type, kernel, stride,
padding, output shape and parameter count, for G and D, with the totals.

Shapes are measured by running one zero input through the real modules (so the table cannot
drift from models.py), parameters counted from them. `table(cfg)` gives the JSON-ready dict that
`python -m dcgan summary --json` prints and the app shows; `markdown(table)` the text version.
"""
from __future__ import annotations

import torch
from torch import nn

from .models import ModelConfig, build

_CONV = (nn.Conv2d, nn.ConvTranspose2d)


def _layers(seq: nn.Sequential, x: torch.Tensor) -> list[dict]:
    rows = []
    with torch.no_grad():
        for i, layer in enumerate(seq):
            x = layer(x)
            row = {"index": i, "type": type(layer).__name__, "kernel": None, "stride": None, "padding": None,
                   "output_shape": list(x.shape[1:]), "params": sum(p.numel() for p in layer.parameters())}
            if isinstance(layer, _CONV):
                row.update(kernel=layer.kernel_size[0], stride=layer.stride[0], padding=layer.padding[0],
                           in_channels=layer.in_channels, out_channels=layer.out_channels)
            elif isinstance(layer, nn.LeakyReLU):
                row["slope"] = layer.negative_slope
            rows.append(row)
    return rows


def table(cfg: ModelConfig) -> dict:
    """{"generator": {"layers": [...], "params": N, "input_shape": [...]}, "discriminator": {...}, "config": {...}}."""
    g, d = build(cfg, seed=0)
    g.eval(), d.eval()
    z = torch.zeros(1, cfg.nz, 1, 1)
    x = torch.zeros(1, cfg.nc, cfg.image_size, cfg.image_size)
    out = {}
    for name, model, inp in (("generator", g, z), ("discriminator", d, x)):
        out[name] = {"input_shape": list(inp.shape[1:]), "layers": _layers(model.main, inp),
                     "params": sum(p.numel() for p in model.parameters())}
    m = cfg.to_dict()
    out["config"] = {"channels" if k == "nc" else k: v for k, v in m.items()}  # the settings' names
    return out


def _fmt_shape(s: list[int]) -> str:
    return " × ".join(map(str, s))


def rows(t: dict, which: str) -> list[list]:
    """Rows for a table widget: layer, kernel/stride/pad, output shape, params."""
    out = []
    for r in t[which]["layers"]:
        ksp = f"{r['kernel']} / {r['stride']} / {r['padding']}" if r["kernel"] else ""
        kind = r["type"] + (f"({r['slope']})" if "slope" in r else "")
        out.append([r["index"], kind, ksp, _fmt_shape(r["output_shape"]), f"{r['params']:,}"])
    return out


def markdown(t: dict) -> str:
    c = t["config"]
    parts = [f"DCGAN at {c['image_size']}×{c['image_size']}, nz = {c['nz']}, ngf = {c['ngf']}, "
             f"ndf = {c['ndf']}, {c['channels']} channel{'s' if c['channels'] > 1 else ''}"
             + (", resize-convolution upsampling in G (nearest ×2 + 3×3 conv; the paper uses transposed "
                "convolutions)" if c.get("upsample") == "resize" else ""), ""]
    for which, title in (("generator", "Generator"), ("discriminator", "Discriminator")):
        parts += [f"### {title}: input {_fmt_shape(t[which]['input_shape'])}, {t[which]['params']:,} parameters", "",
                  "| # | layer | kernel / stride / pad | output shape | parameters |", "|---:|---|---|---|---:|"]
        parts += [f"| {' | '.join(map(str, r))} |" for r in rows(t, which)]
        parts.append("")
    return "\n".join(parts)
