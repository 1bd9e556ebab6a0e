"""`nearest`: likely copies of training images among generated ones. Built sets: mirrored and
re-encoded (JPEG, WebP, a resize) training images must be flagged; other faces, emoji and the
bundled generator's samples must not."""
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from dcgan import api, nearest as nn
from dcgan.data import bundled_images
from tests.conftest import cli

COPIED = list(range(100, 1000, 90))  # ten training faces that the built set copies


def _reencode(arr: np.ndarray, how: str) -> np.ndarray:
    img = Image.fromarray(arr)
    if how.startswith("jpeg"):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(how[4:]))
        return np.asarray(Image.open(buf).convert("RGB"))
    if how == "webp":
        buf = io.BytesIO()
        img.save(buf, "WEBP", quality=80)
        return np.asarray(Image.open(buf).convert("RGB"))
    if how == "resize":
        return np.asarray(img.resize((48, 48), Image.BILINEAR).resize((64, 64), Image.BILINEAR))
    raise ValueError(how)


@pytest.fixture(scope="module")
def built_set(tmp_path_factory):
    """A folder of 'generated' images: copies (mirrored, re-encoded) of ten training faces, and
    images that are not copies (faces the real side lacks, emoji)."""
    folder = tmp_path_factory.mktemp("generated")
    faces = bundled_images("faces")
    for n, i in enumerate(COPIED):
        how = ("jpeg90", "jpeg75", "webp", "resize")[n % 4]
        Image.fromarray(_reencode(faces[i][:, ::-1].copy(), how)).save(folder / f"copy_{i:05d}_{how}.png")
    for i in range(10):  # faces outside the real side given below (it is the first 5,000)
        Image.fromarray(faces[5000 + 37 * i]).save(folder / f"other_face_{i}.png")
    for i in range(10):
        Image.fromarray(bundled_images("emoji")[10 * i]).save(folder / f"emoji_{i}.png")
    real = tmp_path_factory.mktemp("real")
    for i in range(5000):
        Image.fromarray(faces[i]).save(real / f"{i:05d}.png", compress_level=1)
    return folder, real


def test_mirrored_and_reencoded_copies_are_flagged_and_nothing_else(built_set):
    folder, real = built_set
    r = api.nearest(api.LOCAL, str(folder), str(real), n=100)
    got = {s.name: s for s in r.samples}
    assert r.n == 30 and r.n_real == 5000
    for name, s in got.items():
        if name.startswith("copy_"):
            assert s.copy, (name, s.distances[0], r.threshold)
            assert s.nearest[0] == f"{name[5:10]}.png"  # the very image it copies
        else:
            assert not s.copy, (name, s.distances[0], r.threshold)
    assert r.copies == 10
    assert r.picture.width > 3 * 4 * 64 and r.picture.height < 10 * 90  # 24 rows in 3 columns


def test_the_bundled_generator_copies_nothing_and_the_json_names_files(built_set, tmp_path):
    r = cli("nearest", "demo", "faces", "--n", 32, "--json", "--out", tmp_path / "nn.png")
    assert r.returncode == 0, r.stderr[-1000:]
    rep = json.loads(r.stdout)
    assert rep["n"] == 32 and rep["copies"] == 0 and {"name", "nearest", "distance", "copy"} <= rep["samples"][0].keys()
    assert rep["samples"][0]["name"] == "seed 0" and rep["samples"][0]["nearest"].startswith("faces_")
    assert (tmp_path / "nn.png").stat().st_size > 1000


def test_threshold_rule_on_known_distances():
    """The threshold is the real images' 1% nearest-neighbour quantile, floored at a quarter of the median."""
    torch.manual_seed(0)
    real = torch.nn.functional.normalize(torch.randn(500, 192), dim=1)
    cal = nn.calibrate(real, real)
    d = torch.cdist(real, real)
    d.fill_diagonal_(float("inf"))
    q = float(np.quantile(d.min(1).values.double().numpy(), 0.01))
    assert cal.threshold == pytest.approx(max(q, 0.25 * cal.median_distance)) and cal.n_real == 500
    dupes = torch.cat([real[:250], real[:250]])  # every image twice: the bar is set by distinct neighbours
    assert nn.calibrate(dupes, dupes).threshold == pytest.approx(
        max(float(np.quantile(torch.cdist(real[:250], real[:250]).fill_diagonal_(float("inf")).min(1).values
                              .double().numpy(), 0.01)), 0.25 * nn.calibrate(dupes, dupes).median_distance), rel=0.05)
