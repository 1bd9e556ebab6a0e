"""The checkerboard measure (spectrum.py) on images whose spectra are known, and resize-convolution
upsampling (models.py): shapes, the architecture table, saving and loading."""
import json
import math

import pytest
import torch

from dcgan.hub import config_from_state, load_generator
from dcgan.models import Generator, ModelConfig, build
from dcgan.spectrum import PERIODS, excess, lattice, peak_contrast
from dcgan.summary import markdown, table


def noise(n=64, size=64, seed=0):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 0.2


def wave(size, period, axis):
    x = torch.arange(size, dtype=torch.float64)
    w = torch.cos(2 * math.pi * x / period)
    return (w[None, :] if axis == "x" else w[:, None]).expand(size, size)


def test_the_lattice_of_each_period():
    assert sorted(lattice(64, 2)) == [(0, 32), (32, 0), (32, 32)]
    assert len(lattice(64, 4)) == 16 - 4 and len(lattice(64, 8)) == 64 - 16
    assert (0, 16) in lattice(64, 4) and (0, 32) not in lattice(64, 4) and (8, 0) in lattice(64, 8)
    assert lattice(8, 8) == []  # the neighbours of a peak would be peaks: not measured


def test_white_noise_has_no_peaks():
    # white noise has the same expected power at every frequency: each contrast is about 1
    c = peak_contrast(noise(256))
    assert set(c) == {str(p) for p in PERIODS}
    assert all(0.8 < v < 1.25 for v in c.values()), c


@pytest.mark.parametrize("period", PERIODS)
def test_a_periodic_pattern_shows_at_its_own_period_only(period):
    x = noise(64) + 0.1 * wave(64, period, "x").float()
    c = peak_contrast(x)
    assert c[str(period)] > 20
    assert all(0.7 < v < 1.4 for k, v in c.items() if k != str(period)), c


def test_a_checkerboard_is_period_two_on_both_axes():
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    cb = ((-1.0) ** (yy + xx)) * 0.05
    assert peak_contrast(noise(64) + cb)["2"] > 50
    assert peak_contrast((noise(64) + cb).clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8))["2"] > 50


def test_excess_is_relative_to_the_real_images():
    real = {"2": 3.0, "4": 1.5, "8": 1.0}
    assert excess({"2": 30.0, "4": 1.5, "8": 2.0}, real) == {"2": 10.0, "4": 1.0, "8": 2.0}


def test_a_fresh_transposed_generator_paints_a_checkerboard_and_resize_does_not():
    # the uneven overlap of 4x4 stride-2 transposed convolutions (Odena et al. 2016), at init already
    z = torch.randn(64, 100, generator=torch.Generator().manual_seed(1))
    out = {}
    for up in ("transposed", "resize"):
        g, _ = build(ModelConfig(ngf=16, ndf=16, upsample=up), seed=0)
        with torch.no_grad():
            out[up] = peak_contrast(g.eval()(z))
    assert max(out["transposed"].values()) > 10 * max(out["resize"].values()), out


@pytest.mark.parametrize("size", [32, 64, 128])
def test_resize_generator_shapes_and_weights(size):
    g = Generator(nz=16, ngf=8, nc=1, image_size=size, upsample="resize")
    assert g(torch.randn(2, 16)).shape == (2, 1, size, size)
    kinds = [type(m).__name__ for m in g.main]
    assert kinds.count("Upsample") == kinds.count("Conv2d") == int(math.log2(size)) - 2
    assert kinds.count("ConvTranspose2d") == 1  # the 1x1 -> 4x4 projection stays the paper's
    assert config_from_state(g.state_dict()) == {"nz": 16, "ngf": 8, "nc": 1, "image_size": size, "upsample": "resize"}


def test_resize_in_the_table_and_through_save_and_load(tmp_path):
    t = table(ModelConfig(ngf=8, ndf=8, upsample="resize"))
    assert t["config"]["upsample"] == "resize"
    assert [r for r in t["generator"]["layers"] if r["type"] == "Conv2d"][0]["kernel"] == 3
    assert "Upsample" in markdown(t) and "resize-convolution" in markdown(t)
    assert "resize" not in markdown(table(ModelConfig(ngf=8, ndf=8)))
    g = Generator(nz=16, ngf=8, image_size=32, upsample="resize")
    g.save_pretrained(tmp_path / "g")
    assert json.loads((tmp_path / "g" / "config.json").read_text())["upsample"] == "resize"
    back = Generator.from_pretrained(tmp_path / "g")
    assert back.upsample == "resize" and load_generator(tmp_path / "g").upsample == "resize"
    z = torch.randn(3, 16)
    assert torch.equal(back.eval()(z), g.eval()(z))
    with pytest.raises(Exception, match="upsample must be one of"):
        ModelConfig(upsample="bilinear")
