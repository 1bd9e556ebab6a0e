"""--ema: a moving average of G's weights, updated each step, resumed exactly, and what the run shows
(grids, generator/, a checkpoint loaded as a generator), while the checkpoint keeps the raw G."""
import json

import pytest
import torch

from dcgan.config import TrainConfig
from dcgan.errors import ConfigError
from dcgan.latent import sample
from dcgan.models import Generator
from dcgan.runs import RunDir, load_checkpoint
from tests.test_train import StopAfter, run_all, same, tiny


def test_ema_is_the_average_of_g_over_steps(image_folder, tmp_path):
    """One epoch of 3 steps: ema_t = d_t ema_(t-1) + (1 - d_t) g_t, with the warmed-up decay d_t =
    min(decay, (1 + t) / (10 + t)), parameter by parameter; BatchNorm's running statistics are G's own."""
    from dcgan.models import build

    decay = 0.9
    cfg = tiny(image_folder, epochs=1, ema=decay, batch_size=8)
    g0 = build(cfg.model(), seed=cfg.seed)[0].state_dict()
    seen = []
    import dcgan.state as state_mod

    original = state_mod.TrainState.update_ema

    def record(self, d):
        seen.append({k: v.detach().clone() for k, v in self.g.state_dict().items()})
        original(self, d)

    state_mod.TrainState.update_ema = record
    try:
        run_all(cfg, tmp_path / "r")
    finally:
        state_mod.TrainState.update_ema = original
    ck = load_checkpoint(RunDir(tmp_path / "r").last)
    assert len(seen) == ck["step"] == 3
    for k, v in ck["G_ema"].items():
        if "running" in k or "num_batches" in k:
            assert torch.equal(v, ck["G"][k])
            continue
        want = g0[k]
        for t, g in enumerate(seen):
            d = min(decay, (1 + t) / (10 + t))
            want = d * want + (1 - d) * g[k]
        assert torch.allclose(v, want, atol=1e-6), k
    assert not same(ck["G_ema"], ck["G"])


def test_the_run_shows_the_ema_and_keeps_the_raw_g(image_folder, tmp_path):
    run_all(tiny(image_folder, ema=0.99), tmp_path / "r")
    run = RunDir(tmp_path / "r")
    ck = torch.load(run.last, weights_only=True)
    exported = Generator.from_pretrained(str(run.generator))
    assert same(exported.state_dict(), ck["G_ema"]) and not same(exported.state_dict(), ck["G"])
    assert json.loads(run.config.read_text())["ema"] == 0.99
    # the epoch grid is what the average draws from the fixed noise
    from PIL import Image
    import numpy as np

    from dcgan.images import grid_image

    want = grid_image(sample(exported, ck["fixed_noise"]), nrow=4)
    with Image.open(run.sample_paths()[-1]) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), np.asarray(want.convert("RGB")))
    from dcgan.hub import load_generator

    assert same(load_generator(str(run.last)).state_dict(), ck["G_ema"])  # a checkpoint's generator: the EMA


def test_resume_with_ema_is_bit_exact_mid_epoch(image_folder, tmp_path):
    cfg = tiny(image_folder, epochs=2, ema=0.95)
    run_all(cfg, tmp_path / "straight")
    run_all(cfg, tmp_path / "split", stop=StopAfter(4))
    run_all(cfg, tmp_path / "split", resume=True)
    a, b = (load_checkpoint(RunDir(tmp_path / x).last) for x in ("straight", "split"))
    assert same(a["G_ema"], b["G_ema"]) and same(a["G"], b["G"])


def test_ema_setting_is_checked_and_off_by_default(image_folder, tmp_path):
    with pytest.raises(ConfigError, match="ema must be 0"):
        TrainConfig(ema=1.0)
    run_all(tiny(image_folder, epochs=1), tmp_path / "r")
    assert load_checkpoint(RunDir(tmp_path / "r").last)["G_ema"] is None
