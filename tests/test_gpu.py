"""CUDA paths: run only where a GPU is present (skipped on the CPU-only CI machine)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from dcgan.runs import RunDir, load_checkpoint
from dcgan.config import TrainConfig
from dcgan.train import train
from tests.conftest import REPO, make_images

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.mark.parametrize("precision,compile_", [("fp32", False), ("bf16", False), ("bf16", True)])
def test_training_on_cuda(tmp_path, precision, compile_):
    make_images(tmp_path / "d", 64, size=64)
    cfg = TrainConfig(data=str(tmp_path / "d"), epochs=2, batch_size=16, ngf=16, ndf=16, device="cuda",
                      precision=precision, compile=compile_, log_every=2, n_samples=16)
    events = [e.to_dict() for e in train(cfg, tmp_path / "r")]
    steps = [e for e in events if e["type"] == "step"]
    assert events[-1]["reason"] == "finished" and all(np.isfinite([s["loss_d"], s["loss_g"]]).all() for s in steps)
    state = load_checkpoint(RunDir(tmp_path / "r").last)  # loads on the CPU
    assert state["config"]["device_used"].startswith("cuda") and state["epoch"] == 2
    assert all(not v.is_cuda for v in state["G"].values())


def test_fid_features_on_cuda_match_cpu(tmp_path):
    from dcgan.inception import make_random_weights
    from dcgan.metrics import Evaluator

    w = make_random_weights(tmp_path / "w.pth")
    make_images(tmp_path / "imgs", 6, size=48)
    cpu = Evaluator(weights=w, device="cpu", dims=2048).side(str(tmp_path / "imgs"), use_cache=False)
    gpu = Evaluator(weights=w, device="cuda", dims=2048).side(str(tmp_path / "imgs"), use_cache=False)
    # cuDNN may use TF32 for convolutions: agreement to about a percent, not to float32's last bit
    assert np.allclose(gpu.mu, cpu.mu, rtol=2e-2, atol=2e-2 * np.abs(cpu.mu).max())


def test_torchrun_one_gpu_over_nccl(tmp_path):
    """The one-GPU torchrun smoke run: the process joins an NCCL group of one and all-reduces there."""
    make_images(tmp_path / "imgs", 32, size=32)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=1", "--standalone", "-m", "dcgan",
           "train", "--data", str(tmp_path / "imgs"), "--out", str(tmp_path / "run"), "--epochs", "2",
           "--batch-size", "8", "--image-size", "32", "--ngf", "8", "--ndf", "8", "--device", "cuda", "--json"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    done = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")][-1]
    assert done == {"type": "done", "reason": "finished", "epoch": 2, "step": 8, "ranks_in_sync": True}
    status = RunDir(tmp_path / "run").status()
    assert status["backend"] == "nccl" and status["world_size"] == 1


@pytest.mark.parametrize("dims", [64, 2048])
def test_features_on_cuda_equal_pytorch_fid_on_cuda(tmp_path, monkeypatch, dims):
    """Inception features on the GPU against pytorch-fid's on the same GPU, same weights file."""
    pfi = pytest.importorskip("pytorch_fid.inception")
    from pytorch_fid import fid_score

    from dcgan.inception import make_random_weights
    from dcgan.metrics import Evaluator

    w = make_random_weights(tmp_path / "w.pth")
    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: torch.load(w, weights_only=True))
    files = make_images(tmp_path / "imgs", 24, size=48)
    model = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[dims]]).to("cuda").eval()
    ref = fid_score.get_activations(files, model, batch_size=8, dims=dims, device="cuda", num_workers=0)
    ours = Evaluator(weights=w, device="cuda", batch_size=8, dims=dims).side(str(tmp_path / "imgs"), use_cache=False)
    scale = np.abs(ref).max()
    # both run cuDNN convolutions (TF32 allowed by default): agreement to about a percent of the scale
    assert ours.features.shape == ref.shape
    assert np.allclose(ours.features, ref, rtol=2e-2, atol=2e-2 * scale)
    assert np.allclose(ours.mu, ref.mean(0), rtol=2e-2, atol=2e-2 * scale)
