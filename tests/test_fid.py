"""FID against analytic answers, scipy, and pytorch-fid itself (same weights file, same images)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg
import torch

from dcgan import fid as F
from dcgan import metrics
from tests.conftest import REPO, make_images
from tests.fid_weights import make_random_fid_weights


@pytest.fixture(scope="session")
def fid_weights(tmp_path_factory):
    return make_random_fid_weights(tmp_path_factory.mktemp("fidw") / "random_fid_inception.pth")


@pytest.fixture
def pytorch_fid(fid_weights, monkeypatch):
    """pytorch-fid with its downloader patched to read our local weights file."""
    import pytorch_fid.inception as pfi

    monkeypatch.setattr(pfi, "load_state_dict_from_url",
                        lambda *a, **k: torch.load(fid_weights, weights_only=True))
    return pfi


@pytest.fixture(scope="session")
def two_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("fidimgs")
    make_images(root / "a", 6, size=48, seed=1)
    make_images(root / "b", 7, size=48, seed=2)
    return root / "a", root / "b"


# ------------------------------------------------------------------ analytic answers

def test_identical_sets_give_zero():
    f = np.random.default_rng(0).standard_normal((500, 16))
    s = F.FeatureStats(16)
    s.update(f)
    assert abs(F.frechet_distance(s.mu, s.sigma, s.mu, s.sigma)) < 1e-6
    km, _ = F.kid(f, f, subsets=10, subset_size=200)
    assert abs(km) < 1e-2 * F.kid(f, f + 1.0, subsets=10, subset_size=200)[0]
    assert F.precision_recall(f, f) == (1.0, 1.0)


def test_equal_covariances_give_mean_distance():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((50, 8))
    sigma = a.T @ a / 50
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    assert F.frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(((mu1 - mu2) ** 2).sum(), rel=1e-9, abs=1e-9)


def test_one_dimensional_case_by_hand():
    # N(1, 4) vs N(3, 9): (1-3)^2 + 4 + 9 - 2*sqrt(36) = 4 + 13 - 12 = 5
    assert F.frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(5.0, abs=1e-12)


def test_streaming_stats_equal_numpy_cov():
    f = np.random.default_rng(2).standard_normal((301, 12)).astype(np.float32) * 3 + 5
    s = F.FeatureStats(12, keep=50)
    for i in range(0, 301, 64):
        s.update(f[i:i + 64])
    assert np.allclose(s.mu, f.astype(np.float64).mean(0), atol=1e-10)
    assert np.allclose(s.sigma, np.cov(f.astype(np.float64), rowvar=False), atol=1e-9)
    assert s.n == 301 and s.kept.shape == (50, 12)
    # every kept row is a real row of the stream
    assert all((np.abs(f - row).sum(1) == 0).any() for row in s.kept)


def test_matches_scipy_sqrtm_on_a_full_rank_512d_problem():
    rng = np.random.default_rng(3)
    d = 512
    a = rng.standard_normal((900, d)) @ rng.standard_normal((d, d)) / np.sqrt(d)
    b = rng.standard_normal((900, d)) * np.linspace(2, 0.2, d) + 0.3
    mu1, s1, mu2, s2 = a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    ref = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
    assert F.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)


@pytest.mark.slow
def test_distance_equals_pytorch_fid_at_2048d_full_rank():
    """pytorch-fid's own calculate_frechet_distance (scipy sqrtm) on full-rank 2048-d covariances."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    rng = np.random.default_rng(4)
    d = 2048
    a = rng.standard_normal((2500, d)) * np.linspace(3, 0.1, d)
    b = rng.standard_normal((2500, d)) * np.linspace(2, 0.2, d) + 0.1
    mu1, s1, mu2, s2 = a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    ref = calculate_frechet_distance(mu1, s1, mu2, s2)
    assert F.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)


def test_singular_covariance_is_handled():
    f = np.random.default_rng(5).standard_normal((5, 32))  # 5 rows: rank 4 of 32
    s = F.FeatureStats(32)
    s.update(f)
    assert abs(F.frechet_distance(s.mu, s.sigma, s.mu, s.sigma)) < 1e-6
    assert F.effective_rank(s.sigma) == 4


def test_bad_statistics_are_refused(tmp_path):
    with pytest.raises(F.StatsError, match="different lengths"):
        F.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(F.StatsError, match="NaN"):
        F.frechet_distance(np.zeros(2), np.eye(2) * np.nan, np.zeros(2), np.eye(2))
    np.savez(tmp_path / "wrong_keys.npz", mean=np.zeros(3))
    with pytest.raises(F.StatsError, match="'mu' and 'sigma'"):
        F.load_stats(tmp_path / "wrong_keys.npz")
    F.save_stats(tmp_path / "d64.npz", np.zeros(64), np.eye(64))
    with pytest.raises(F.StatsError, match="--dims 64"):
        F.load_stats(tmp_path / "d64.npz", dims=2048)


# ------------------------------------------------------------------ against pytorch-fid

@pytest.mark.parametrize("dims", [64, 2048])
def test_features_and_statistics_equal_pytorch_fid(dims, fid_weights, pytorch_fid, two_folders):
    from pytorch_fid import fid_score

    files = sorted(two_folders[0].glob("*.png"))
    model = pytorch_fid.InceptionV3([pytorch_fid.InceptionV3.BLOCK_INDEX_BY_DIM[dims]]).eval()
    ref = fid_score.get_activations(files, model, batch_size=3, dims=dims, device="cpu", num_workers=0)
    ref_mu, ref_sigma = fid_score.calculate_activation_statistics(files, model, 3, dims, "cpu", 0)
    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=3, dims=dims)
    ours = ev.side(str(two_folders[0]), use_cache=False)  # the folder holds exactly `files`
    scale = np.abs(ref).max()
    assert np.allclose(ours.features, ref, rtol=1e-4, atol=1e-5 * scale)
    assert np.allclose(ours.mu, ref_mu, rtol=1e-4, atol=1e-5 * scale)
    assert np.allclose(ours.sigma, ref_sigma, rtol=1e-3, atol=1e-5 * scale ** 2)


def test_fid_equals_pytorch_fid_end_to_end_64d(fid_weights, pytorch_fid, two_folders):
    """The whole path, folders in, number out. (At 2048-d with a handful of images the covariance
    is singular and pytorch-fid's sqrtm raises 'Imaginary component'; there the chain above holds:
    equal features and statistics, and the distance test against pytorch-fid at 2048-d.)"""
    from pytorch_fid import fid_score

    a, b = two_folders
    ref_fid = fid_score.calculate_fid_given_paths([str(a), str(b)], batch_size=3, device="cpu", dims=64,
                                                  num_workers=0)
    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=3, dims=64)
    rep = metrics.compare(ev, ev.side(str(a)), ev.side(str(b)))
    assert rep["fid"] == pytest.approx(ref_fid, rel=1e-3)
    assert rep["n_a"] == 6 and rep["n_b"] == 7 and rep["protocol"] == "fid6_legacy_64"


def test_stats_npz_is_read_by_pytorch_fid(fid_weights, pytorch_fid, two_folders, tmp_path):
    from pytorch_fid import fid_score

    a, b = two_folders
    out = tmp_path / "a.npz"
    proc = subprocess.run([sys.executable, "-m", "dcgan", "stats", str(a), "--out", str(out), "--dims", "64",
                           "--weights", str(fid_weights), "--json"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n"] == 6
    ref = fid_score.calculate_fid_given_paths([str(out), str(b)], batch_size=3, device="cpu", dims=64, num_workers=0)
    direct = fid_score.calculate_fid_given_paths([str(a), str(b)], batch_size=3, device="cpu", dims=64, num_workers=0)
    assert ref == pytest.approx(direct, rel=1e-6)


# ------------------------------------------------------------------ sources, warnings, CLI

def test_generator_side_and_warnings(fid_weights, two_folders, tmp_path):
    from dcgan.models import ModelConfig, build

    g, _ = build(ModelConfig(ngf=8, ndf=8, image_size=32), seed=0)
    g.save_pretrained(tmp_path / "gen")
    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=8, dims=64)
    side = ev.side(str(tmp_path / "gen"), n=10, seed=3)
    assert side.kind == "generator" and side.n == 10 and side.sizes == {(32, 32)}
    again = ev.side(str(tmp_path / "gen"), n=10, seed=3)
    assert np.array_equal(side.mu, again.mu)  # image i from seed s + i: reproducible
    rep = metrics.compare(ev, ev.side(str(two_folders[0])), side)
    assert np.isfinite(rep["fid"]) and rep["kid_mean"] is not None and 0 <= rep["precision"] <= 1
    text = " ".join(rep["warnings"])
    assert "below 2048" in text and "different native sizes" in text


def test_jpeg_and_rank_warnings(fid_weights, tmp_path):
    make_images(tmp_path / "j", 4, ext="jpg")
    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=4, dims=64)
    side = ev.side(str(tmp_path / "j"))
    assert side.lossy == 4
    assert any("JPEG" in w for w in metrics.warnings_for(side, side, 64))
    collapsed = metrics.Side("c", "generator", n=500, mu=np.zeros(64), sigma=np.diag([1.0] * 3 + [0.0] * 61))
    assert any("mode-collapse" in w for w in metrics.warnings_for(collapsed, collapsed, 64))


def dcgan(*args):
    return subprocess.run([sys.executable, "-m", "dcgan", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_bad_inputs_are_one_line_errors(fid_weights, two_folders, tmp_path):
    a, _ = two_folders
    (tmp_path / "empty").mkdir()
    make_images(tmp_path / "single", 1)
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "x.png").write_text("not an image")
    F.save_stats(tmp_path / "d64.npz", np.zeros(64), np.eye(64))
    cases = [(tmp_path / "empty", "holds no usable images"), (tmp_path / "single", "at least 2"),
             (tmp_path / "text", "could be read"), (tmp_path / "d64.npz", "--dims 64")]
    for src, msg in cases:
        proc = dcgan("fid", src, a, "--weights", fid_weights, "--dims", 2048 if "npz" in str(src) else 64)
        assert proc.returncode == 2, (src, proc.stderr)
        assert msg in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()[-1]) < 400


def test_missing_weights_say_how_to_provide_them(tmp_path, monkeypatch, two_folders):
    env = {"DCGAN_FID_WEIGHTS": "", "TORCH_HOME": str(tmp_path / "th"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path), "DCGAN_CACHE_DIR": str(tmp_path / "c")}
    proc = subprocess.run([sys.executable, "-m", "dcgan", "fid", str(two_folders[0]), str(two_folders[1])], cwd=REPO,
                          capture_output=True, text=True, env={**env, "https_proxy": "http://127.0.0.1:9"})
    assert proc.returncode == 3
    assert "--weights" in proc.stderr and "DCGAN_FID_WEIGHTS" in proc.stderr and "Traceback" not in proc.stderr


def test_training_tracks_fid_and_keeps_the_best_epoch(fid_weights, tmp_path):
    from dcgan.runs import RunDir, load_checkpoint
    from dcgan.train import TrainConfig, train

    make_images(tmp_path / "d", 16, size=32)
    cfg = TrainConfig(data=str(tmp_path / "d"), epochs=3, batch_size=8, image_size=32, ngf=8, ndf=8, nz=16,
                      log_every=2, n_samples=16, fid_every=1, fid_n=12, fid_dims=64, fid_weights=str(fid_weights))
    events = list(train(cfg, tmp_path / "r"))
    epochs = [e for e in events if e["type"] == "epoch"]
    fids = [e["fid"] for e in epochs]
    assert len(fids) == 3 and all(np.isfinite(fids)) and epochs[0]["fid_protocol"] == "fid12_legacy_64"
    best_epoch = 1 + int(np.argmin(fids))
    run = RunDir(tmp_path / "r")
    assert load_checkpoint(run.best)["epoch"] == best_epoch
    assert [r["fid"] for r in run.read_metrics() if r["kind"] == "epoch"] == fids


def test_clean_resize_is_pil_bicubic_per_channel_in_float():
    import torch
    from PIL import Image

    from dcgan.inception import preprocess

    x = torch.randint(0, 256, (2, 3, 40, 56), dtype=torch.uint8)
    clean, legacy = preprocess(x, "clean"), preprocess(x, "legacy")
    assert clean.shape == legacy.shape == (2, 3, 299, 299)
    ref = np.asarray(Image.fromarray(x[1, 2].numpy().astype(np.float32) / 255.0, mode="F")
                     .resize((299, 299), Image.BICUBIC), dtype=np.float32) * 2 - 1
    assert np.allclose(clean[1, 2].numpy(), ref, atol=1e-6)
    assert not torch.allclose(clean, legacy, atol=1e-3)  # the two protocols really differ
    # float input in (-1, 1), as G makes it, goes through the same conversion
    assert torch.allclose(preprocess(x.float() / 127.5 - 1, "legacy"), legacy, atol=1e-5)
