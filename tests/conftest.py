"""Shared fixtures: a private data cache per test session and tiny image folders made on the spot."""
import os
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


@pytest.fixture
def image_folder(tmp_path) -> Path:
    make_images(tmp_path / "imgs", 24)
    return tmp_path / "imgs"
