"""The installable package: a wheel built from this tree carries the bundled data and generators and
its `dcgan` command works from any folder, without the source checkout on the path."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel, installed (without its dependencies, which this environment has) into a folder."""
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"  # build from a copy: setuptools writes build/ and *.egg-info beside the sources
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "runs", "build", "*.egg-info", "__pycache__",
                                                             ".pytest_cache", ".gradio"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                            "-w", str(tmp / "wheel"), "-q"], capture_output=True, text=True, timeout=600, cwd=tmp)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp / "wheel").glob("dcgan_studio-*.whl"))
    site = tmp / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert inst.returncode == 0, inst.stderr[-2000:]
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "DCGAN_CACHE_DIR": str(tmp / "cache")}
    return site, elsewhere, env


def run(installed, *args):
    site, elsewhere, env = installed
    return subprocess.run([sys.executable, str(site / "bin" / "dcgan"), *map(str, args)], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_installed_command_finds_its_data_and_generators(installed):
    site, elsewhere, _ = installed
    assert (site / "dcgan" / "checkpoints" / "faces-generator" / "model.safetensors").exists()
    assert (site / "dcgan" / "assets" / "faces64.png").exists()
    example = site / "dcgan" / "assets" / "examples" / "example-faces"
    assert (example / "metrics.jsonl").exists() and (example / "progress.gif").exists()
    assert len(list((example / "samples").glob("epoch_*.png"))) == 6
    # the benchmark runs from an installed copy (pytorch-fid is imported only for --fid)
    out = run(installed, "bench", "--dry-run", "--generate", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    out = run(installed, "--help")
    assert out.returncode == 0 and "train" in out.stdout and "compare" in out.stdout
    out = run(installed, "generate", "--checkpoint", "demo", "--n", 4, "--out", "grid.png", "--json")
    assert out.returncode == 0, out.stderr
    assert (elsewhere / "grid.png").exists()
    out = run(installed, "train", "--data", "faces", "--max-images", 64, "--epochs", 1, "--out", "run", "--half",
              "--batch-size", 32, "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    assert (elsewhere / "run" / "generator" / "model.safetensors").exists()
    # the modules really came from the installed copy, not from the checkout
    probe = subprocess.run([sys.executable, "-c", "import dcgan, sys; print(dcgan.__file__)"], cwd=elsewhere,
                           env=installed[2], capture_output=True, text=True)
    assert Path(probe.stdout.strip()).is_relative_to(site)
