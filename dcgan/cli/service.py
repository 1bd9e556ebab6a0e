"""The service verbs: app (the browser app), push (to the Hub), bench (throughput)."""
from __future__ import annotations

import argparse
import json

from .words import report

def cmd_app(a: argparse.Namespace) -> int:
    """The browser app, as `python app.py` starts it (for an installed package, which has no app.py)."""
    from ..ui.app import build_app, launch_kwargs

    build_app().launch(server_name=a.host, server_port=a.port, mcp_server=a.mcp or None, **launch_kwargs())
    return 0


def cmd_push(a: argparse.Namespace) -> int:
    from ..api import LOCAL, push

    p = push(LOCAL, a.run_dir, a.repo_id, private=a.private)
    report(a, {"url": p.url, "repo_id": p.repo_id}, f"pushed {a.run_dir} -> {p.url}")
    return 0


def cmd_bench(a: argparse.Namespace) -> int:
    from ..bench import run, table

    everything = not (a.train or a.fid or a.generate)
    r = run(device=a.device, train=a.train or everything, fid=a.fid or everything, generate=a.generate or everything,
            batch_size=a.batch_size, ngf=a.ngf, ndf=a.ndf, steps=a.steps, fid_n=a.fid_n,
            fid_batch_size=a.fid_batch_size, weights=a.weights, stats_a=a.stats_a, stats_b=a.stats_b,
            checkpoint=a.checkpoint, dry_run=a.dry_run)
    print(json.dumps(r) if a.json else table(r))
    return 0


def add_verbs(sub) -> None:
    """Add this family's verbs to the `dcgan` parser's subcommands."""
    p = sub.add_parser("app", help="open the browser app (Train, Generate, Evaluate)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--mcp", action="store_true", help="also serve the app's tools over MCP "
                                                      "(same as GRADIO_MCP_SERVER=True)")
    p.set_defaults(fn=cmd_app)

    p = sub.add_parser("push", help="upload a run's generator, samples, GIF and a model card to the Hub")
    p.add_argument("run_dir")
    p.add_argument("--repo-id", required=True, help="USER/NAME")
    p.add_argument("--private", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_push)

    p = sub.add_parser("bench", help="throughput against conventional baselines (training, FID, generation)")
    for name, h in (("--train", "training loop"), ("--fid", "FID features and distance"),
                    ("--generate", "generation latency")):
        p.add_argument(name, action="store_true", help=f"only the {h} benchmark (default: all)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--ngf", type=int, default=64)
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--steps", type=int, default=None, help="measured training steps (default 10 on CPU, 50 on GPU)")
    p.add_argument("--fid-n", type=int, default=None, help="images for the feature benchmark")
    p.add_argument("--fid-batch-size", type=int, default=16)
    p.add_argument("--weights", default=None, help="FID weights (default: installed ones, else random)")
    p.add_argument("--stats-a", default=None, help="two .npz files to time frechet_distance on (default: synthetic)")
    p.add_argument("--stats-b", default=None)
    p.add_argument("--checkpoint", default="faces-generator", help="generator for the latency benchmark")
    p.add_argument("--dry-run", action="store_true", help="toy sizes: check that every benchmark runs, in seconds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench)
