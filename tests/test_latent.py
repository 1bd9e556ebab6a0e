import math

import pytest
import torch

from dcgan import latent


def test_each_tile_reproducible_from_its_own_seed():
    grid = latent.z_from_seeds(latent.grid_seeds(10, 5))
    assert torch.equal(grid[3], latent.z_from_seed(13))
    assert not torch.equal(grid[0], grid[1])


def test_slerp_endpoints_and_magnitude():
    z0, z1 = latent.z_from_seed(1), latent.z_from_seed(2)
    assert torch.allclose(latent.slerp(z0, z1, 0.0), z0, atol=1e-5)
    assert torch.allclose(latent.slerp(z0, z1, 1.0), z1, atol=1e-5)
    for t in (0.25, 0.5, 0.8):
        zt = latent.slerp(z0, z1, t)
        # the norm moves linearly between the endpoints' norms (not collapsing towards 0 as lerp does)
        assert zt.norm().item() == pytest.approx((1 - t) * z0.norm().item() + t * z1.norm().item(), rel=1e-5)
    # lerp of two independent Gaussians shrinks the midpoint by about 1/sqrt(2)
    mid = latent.lerp(z0, z1, 0.5)
    assert mid.norm() < 0.85 * latent.slerp(z0, z1, 0.5).norm()


def test_slerp_angle_is_split_evenly():
    z0 = torch.tensor([1.0, 0.0])
    z1 = torch.tensor([0.0, 2.0])
    mid = latent.slerp(z0, z1, 0.5)
    assert torch.allclose(mid, torch.tensor([math.cos(math.pi / 4), math.sin(math.pi / 4)]) * 1.5, atol=1e-6)


def test_slerp_parallel_vectors_do_not_nan():
    z = latent.z_from_seed(3)
    assert torch.isfinite(latent.slerp(z, 2 * z, 0.3)).all()


@pytest.mark.parametrize("mode", ["slerp", "lerp"])
def test_walk_frames_hit_the_keyframes(mode):
    keys = latent.z_from_seeds([1, 2, 3])
    w = latent.walk(keys, 9, mode)
    assert w.shape == (9, 100)
    assert torch.allclose(w[0], keys[0], atol=1e-5)
    assert torch.allclose(w[4], keys[1], atol=1e-5)
    assert torch.allclose(w[-1], keys[2], atol=1e-5)
    assert torch.allclose(latent.at(keys, 0.5, mode), keys[1], atol=1e-5)


def test_walk_rejects_bad_input():
    with pytest.raises(ValueError):
        latent.walk(latent.z_from_seeds([1]), 5)
    with pytest.raises(ValueError):
        latent.walk(latent.z_from_seeds([1, 2]), 5, "cubic")


def test_arithmetic_is_mean_difference():
    a, b, c = latent.z_from_seeds([1, 2]), latent.z_from_seeds([3, 4]), latent.z_from_seeds([5])
    assert torch.allclose(latent.arithmetic(a, b, c), a.mean(0) - b.mean(0) + c[0])


def test_sample_restores_mode_and_uses_eval():
    from dcgan.models import ModelConfig, build

    g, _ = build(ModelConfig(ngf=8, ndf=8), seed=0)
    g.train()
    z = latent.z_from_seeds(range(4))
    x = latent.sample(g, z)
    assert g.training and x.shape == (4, 3, 64, 64)
    # eval mode: a sample does not depend on the rest of its batch
    assert torch.allclose(latent.sample(g, z[:1]), x[:1], atol=1e-6)


def test_truncation_redraws_outside_components_reproducibly():
    from dcgan.latent import z_from_seed

    plain = z_from_seed(7, 100)
    t = z_from_seed(7, 100, truncation=0.5)
    assert t.abs().max() <= 0.5 and torch.equal(t, z_from_seed(7, 100, truncation=0.5))
    inside = plain.abs() <= 0.5  # components already inside are kept as drawn, the others redrawn
    assert torch.equal(t[inside], plain[inside]) and not torch.equal(t, plain)
    assert torch.equal(z_from_seed(7, 100, truncation=10.0), plain)  # nothing lies beyond 10
    # a truncated standard normal, not a rescaled or clipped one: its spread is that of N(0,1) on [-1, 1]
    many = torch.stack([z_from_seed(s, 100, truncation=1.0) for s in range(200)])
    assert abs(float(many.std()) - 0.5396) < 0.01 and float((many.abs() > 0.999).float().mean()) < 0.01


def test_truncated_grids_narrow_variety_and_repeat():
    import numpy as np

    from dcgan import api

    def spread(grid):  # mean pairwise pixel distance of the tiles
        x = torch.stack([torch.from_numpy(np.asarray(t)).float() for t in grid.tiles])
        return float(torch.pdist(x.flatten(1)).mean())

    full = api.generate(api.LOCAL, "demo", seed=3, n=16)
    half = api.generate(api.LOCAL, "demo", seed=3, n=16, truncation=0.5)
    again = api.generate(api.LOCAL, "demo", seed=3, n=16, truncation=0.5)
    assert list(half.image.getdata()) == list(again.image.getdata())
    assert spread(half) < 0.85 * spread(full)
    with pytest.raises(Exception, match="truncation must be a number from 0.05 to 10"):
        api.generate(api.LOCAL, "demo", truncation=-1)
