"""CUDA paths: run only where a GPU is present (skipped on the CPU-only CI machine)."""
import numpy as np
import pytest
import torch

from dcgan.runs import RunDir, load_checkpoint
from dcgan.train import TrainConfig, train
from tests.conftest import make_images

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.mark.parametrize("precision,compile_", [("fp32", False), ("bf16", False), ("bf16", True)])
def test_training_on_cuda(tmp_path, precision, compile_):
    make_images(tmp_path / "d", 64, size=64)
    cfg = TrainConfig(data=str(tmp_path / "d"), epochs=2, batch_size=16, ngf=16, ndf=16, device="cuda",
                      precision=precision, compile=compile_, log_every=2, n_samples=16)
    events = list(train(cfg, tmp_path / "r"))
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
