"""`project`: an image into the generator's latent space. An image the generator drew itself comes
back (PSNR >= 20 dB); the latent it writes starts a walk; a stranger's request is bounded."""
import json

import numpy as np
import pytest
import torch

from dcgan import api
from dcgan.api import Caller, Upload
from dcgan.errors import ConfigError
from tests.conftest import cli

STRANGER = Caller(owner="key:someone", trusted=False)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """One image the bundled generator drew (seed 12345), as a PNG of its own size."""
    folder = tmp_path_factory.mktemp("drawn")
    api.generate(api.LOCAL, "demo", seed=12345, n=1).tiles[0].save(folder / "drawn.png")
    return folder / "drawn.png"


def test_an_image_the_generator_drew_is_recovered_and_walks_start_from_it(drawn, tmp_path):
    r = api.project(api.LOCAL, "demo", str(drawn), steps=150, restarts=2, out=str(tmp_path / "p"))
    assert r.psnr >= 20.0, r.psnr
    assert {p.name for p in (tmp_path / "p").iterdir()} == {"target.png", "reconstruction.png", "latent.npy",
                                                           "project.json"}
    z = np.load(tmp_path / "p" / "latent.npy", allow_pickle=False)
    assert z.shape == (100,) and np.allclose(z, r.z)
    walk = api.interpolate(api.LOCAL, "demo", seeds="7", frames=5, start=str(tmp_path / "p" / "latent.npy"))
    assert len(walk.frames) == 5 and walk.from_latent
    first = np.asarray(walk.frames[0], dtype=np.int16)
    assert np.abs(first - np.asarray(r.reconstruction, dtype=np.int16)).max() <= 1  # frame 0 is the reconstruction
    meta = json.loads((tmp_path / "p" / "project.json").read_text())
    assert meta["psnr"] == pytest.approx(r.psnr) and "Adam" in meta["how"]


def test_a_strangers_projection_is_bounded_and_reads_only_uploads(drawn):
    with pytest.raises(ConfigError, match="steps must be a whole number from 1 to 500"):
        api.project(STRANGER, "demo", Upload(drawn, "mine.png"), steps=5000)
    with pytest.raises(ConfigError, match="upload the image"):
        api.project(STRANGER, "demo", str(drawn))
    r = api.project(STRANGER, "demo", Upload(drawn, "mine.png"), steps=5, restarts=1)
    assert r.name == "mine.png" and r.steps == 5


def test_cli_project_json(drawn, tmp_path):
    out = cli("project", "--checkpoint", "demo", "--image", drawn, "--out", tmp_path / "p", "--steps", 20,
              "--restarts", 1, "--json")
    assert out.returncode == 0, out.stderr[-800:]
    rep = json.loads(out.stdout)
    assert rep["steps"] == 20 and rep["latent"].endswith("latent.npy") and len(rep["z"]) == 100
    bad = cli("project", "--image", tmp_path / "none.png", "--out", tmp_path / "q")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "no such image" in bad.stderr
