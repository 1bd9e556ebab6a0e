"""--channels 1 end to end: data as luminance, G and D with one channel, grayscale pictures."""
import json

from PIL import Image

from dcgan import data
from dcgan.hub import load_generator
from dcgan.runs import RunDir
from tests.conftest import cli
from tests.test_train import run_all, tiny


def test_grayscale_data_is_luminance(tmp_path):
    from tests.conftest import make_images

    make_images(tmp_path / "imgs", 6, size=32)  # already 32 px: no resize, so luma is exact
    rgb, _ = data.load(str(tmp_path / "imgs"), 32)
    gray, _ = data.load(str(tmp_path / "imgs"), 32, channels=1)
    assert gray.shape == (6, 1, 32, 32)
    luma = (rgb.float() * torch_weights()).sum(1, keepdim=True)  # ITU-R 601, as PIL's convert("L")
    assert (luma - gray.float()).abs().max() <= 1


def torch_weights():
    import torch

    return torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def test_grayscale_training_generation_and_fid_side(image_folder, tmp_path):
    out = tmp_path / "gray"
    run_all(tiny(image_folder, epochs=1, channels=1), out)
    run = RunDir(out)
    assert json.loads(run.config.read_text())["channels"] == 1
    with Image.open(run.sample_paths()[0]) as im:
        assert im.mode == "L"
    g = load_generator(out)
    assert g.nc == 1
    proc = cli("generate", "--checkpoint", out, "--n", 4, "--out", tmp_path / "g.png")
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "L"
    proc = cli("interpolate", "--checkpoint", out, "--seeds", 1, 2, "--frames", 3, "--out", tmp_path / "w.gif")
    assert proc.returncode == 0, proc.stderr
    # Inception takes the one channel as R = G = B
    import torch

    from dcgan.inception import preprocess

    x = preprocess(torch.full((1, 1, 8, 8), 128, dtype=torch.uint8))
    assert x.shape == (1, 3, 299, 299) and torch.equal(x[:, 0], x[:, 2])
