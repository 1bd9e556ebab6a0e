"""Shared fixtures: a private data cache per test session, tiny image folders made on the spot, the
command line run in this process, and the real app launched on loopback (driven through
gradio_client)."""
import contextlib
import io
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    os.environ["DCGAN_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    yield


def make_images(folder: Path, n: int, size: int = 40, seed: int = 0, ext: str = "png") -> list[Path]:
    """n small random-coloured images with a blob, so they are not all alike."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        arr = np.full((size, size, 3), rng.integers(0, 256, 3), dtype=np.uint8)
        y, x = rng.integers(0, size // 2, 2)
        arr[y:y + size // 3, x:x + size // 3] = rng.integers(0, 256, 3)
        p = folder / f"img_{i:03d}.{ext}"
        Image.fromarray(arr).save(p)
        paths.append(p)
    return paths


@pytest.fixture(autouse=True, scope="module")
def _no_training_left():
    """A training a module started (a fuzzed /train, a run left going) stops with the module: it
    would take the CPU from every test after it."""
    yield
    from dcgan import api

    api.stop_training()


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args, cwd=None) -> Ran:
    """`dcgan ARGS` as `python -m dcgan` runs it (dcgan.cli.main), in this process: the same parser,
    exit status and output, without a second interpreter importing torch (seconds a call). Tests that
    need a process of their own (a signal, a kill, a pipe, torchrun, the installed command) keep one."""
    from dcgan.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as e:  # argparse: --help (0) and flag mistakes (2)
                code = e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    finally:
        os.chdir(here)
    return Ran(code, out.getvalue(), err.getvalue())


@pytest.fixture
def image_folder(tmp_path) -> Path:
    make_images(tmp_path / "imgs", 24)
    return tmp_path / "imgs"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app(tmp_path_factory, **launch):
    """(client, runs folder, url, close): the app on a free loopback port, runs in a fresh folder."""
    from gradio_client import Client

    from dcgan.inception import make_random_weights

    runs = tmp_path_factory.mktemp("runs")
    weights = make_random_weights(tmp_path_factory.mktemp("w") / "fid.pth")
    saved = {k: os.environ.get(k) for k in ("DCGAN_RUNS_DIR", "DCGAN_FID_WEIGHTS")}
    os.environ.update(DCGAN_RUNS_DIR=str(runs), DCGAN_FID_WEIGHTS=str(weights))
    from dcgan.api.training import SUPERVISOR
    from dcgan.ui.app import build_app, launch_kwargs

    demo = build_app()
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(),
                            quiet=True, **{**launch_kwargs(), **launch})
    client = Client(url, verbose=False)

    def close():
        SUPERVISOR.stop()
        demo.close()
        torch.set_num_threads(min(2, os.cpu_count() or 1))
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)

    return client, runs, url, close


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One launched app (local mode) for every test module that drives it as a script would."""
    client, runs, _, close = launch_app(tmp_path_factory)
    yield client, runs
    close()
