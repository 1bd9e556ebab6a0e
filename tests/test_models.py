import pytest
import torch

from dcgan.models import Discriminator, Generator, ModelConfig, build, n_params


def expected_g_params(nz, ngf, nc, size):
    n = {32: 3, 64: 4, 128: 5}[size]
    ch = ngf * 2 ** (n - 1)
    total = nz * ch * 16 + 2 * ch
    for _ in range(n - 1):
        total += ch * (ch // 2) * 16 + 2 * (ch // 2)
        ch //= 2
    return total + ch * nc * 16


@pytest.mark.parametrize("width,g,d", [(64, 3_576_704, 2_765_568), (32, 1_100_224, 694_656)])
def test_paper_parameter_counts_at_64(width, g, d):
    gen, disc = build(ModelConfig(ngf=width, ndf=width))
    assert n_params(gen) == g
    assert n_params(disc) == d


@pytest.mark.parametrize("size", [32, 64, 128])
def test_shapes_and_counts_per_size(size):
    gen, disc = build(ModelConfig(ngf=8, ndf=8, image_size=size))
    z = torch.randn(3, 100, 1, 1)
    x = gen(z)
    assert x.shape == (3, 3, size, size)
    assert x.min() >= -1 and x.max() <= 1
    p = disc(x)
    assert p.shape == (3,) and ((p > 0) & (p < 1)).all()
    assert torch.allclose(torch.sigmoid(disc.logits(x)), p)
    assert n_params(gen) == expected_g_params(100, 8, 3, size)
    # one more (or one fewer) stride-2 block per doubling of the side
    convs = [m for m in gen.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(convs) == {32: 4, 64: 5, 128: 6}[size]
    assert all(c.kernel_size == (4, 4) and c.bias is None for c in convs)
    assert all(c.stride == (2, 2) and c.padding == (1, 1) for c in convs[1:])


def test_layer_layout_follows_the_paper():
    gen, disc = build(ModelConfig(ngf=8, ndf=8))
    g_types = [type(m).__name__ for m in gen.main]
    assert g_types[-2:] == ["ConvTranspose2d", "Tanh"]
    assert g_types.count("BatchNorm2d") == 4 and "BatchNorm2d" not in g_types[-2:]
    d_types = [type(m).__name__ for m in disc.main]
    assert d_types[:2] == ["Conv2d", "LeakyReLU"]  # no BatchNorm on D's input layer
    assert d_types[-2:] == ["Conv2d", "Sigmoid"]
    assert all(m.negative_slope == 0.2 for m in disc.main if isinstance(m, torch.nn.LeakyReLU))
    # state-dict keys follow pytorch/examples' dcgan, so its checkpoints load here
    assert "main.0.weight" in gen.state_dict() and "main.12.weight" in gen.state_dict()
    assert "main.11.weight" in disc.state_dict()


def test_init_statistics():
    gen, disc = build(ModelConfig(), seed=0)
    conv = torch.cat([m.weight.flatten() for m in [*gen.modules(), *disc.modules()]
                      if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))])
    bn_w = torch.cat([m.weight for m in [*gen.modules(), *disc.modules()] if isinstance(m, torch.nn.BatchNorm2d)])
    bn_b = torch.cat([m.bias for m in [*gen.modules(), *disc.modules()] if isinstance(m, torch.nn.BatchNorm2d)])
    assert abs(conv.mean().item()) < 1e-3 and abs(conv.std().item() - 0.02) < 5e-4
    assert abs(bn_w.mean().item() - 1.0) < 5e-3 and abs(bn_w.std().item() - 0.02) < 3e-3
    assert (bn_b == 0).all()


def test_init_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    g1, _ = build(ModelConfig(ngf=8, ndf=8), seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    g2, _ = build(ModelConfig(ngf=8, ndf=8), seed=7)
    assert all(torch.equal(a, b) for a, b in zip(g1.state_dict().values(), g2.state_dict().values()))


@pytest.mark.parametrize("kw", [dict(image_size=48), dict(nz=0), dict(ngf=-1)])
def test_bad_config_is_refused(kw):
    with pytest.raises(ValueError):
        ModelConfig(**kw)
    with pytest.raises(ValueError):
        Generator(**{k: v for k, v in kw.items() if k in ("image_size", "nz", "ngf")}) if "image_size" in kw \
            else ModelConfig(**kw)


def test_discriminator_rejects_bad_size():
    with pytest.raises(ValueError, match="image_size"):
        Discriminator(image_size=100)
