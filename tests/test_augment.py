"""DiffAugment: shapes, exact geometry, gradients, the same policy on real and fake, bit-exact resume."""
import pytest
import torch

from dcgan import augment as A
from dcgan.errors import ConfigError
from tests.test_train import StopAfter, g_weights, run_all, same, tiny


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_policy_parsing():
    assert A.parse_policy("none") == () and A.parse_policy("") == () and A.parse_policy(None) == ()
    assert A.parse_policy("cutout, Color") == ("color", "cutout")
    with pytest.raises(ConfigError, match="comma list"):
        A.parse_policy("color,zoom")
    assert tiny(".", augment="translation,color").augment == "color,translation"


@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_range_and_gradients(channels):
    x = (torch.rand(6, channels, 16, 16) * 2 - 1).requires_grad_()
    y = A.Augment("color,translation,cutout")(x, gen())
    assert y.shape == x.shape
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # G's gradients flow through the policy


def test_translation_is_an_integer_shift_with_grey_padding():
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).view(2, 1, 8, 8) + 1
    y = A.translation(x, gen(3))
    for i in range(2):
        matches = [(dy, dx) for dy in range(-1, 2) for dx in range(-1, 2)
                   if torch.equal(y[i, 0], _shift(x[i, 0], dy, dx))]
        assert len(matches) == 1  # a shift of at most 1/8 of the side, padded with 0


def _shift(img, dy, dx):
    out = torch.zeros_like(img)
    h, w = img.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = img[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def test_cutout_blanks_at_most_a_half_side_square():
    x = torch.ones(32, 3, 16, 16)
    y = A.cutout(x, gen(1))
    blanked = (y == 0).all(dim=1).sum(dim=(1, 2))
    assert (blanked <= 64).all() and (blanked > 0).all() and blanked.max() == 64


def test_color_keeps_per_image_structure_and_is_seeded():
    x = torch.rand(4, 3, 8, 8) * 2 - 1
    a, b = A.color(x, gen(5)), A.color(x, gen(5))
    assert torch.equal(a, b) and not torch.equal(a, x)


def test_the_trainer_augments_real_and_fake_in_both_updates(image_folder, tmp_path, monkeypatch):
    calls = []
    real_call = A.Augment.__call__

    def spy(self, x, g):
        calls.append(x.requires_grad)
        return real_call(self, x, g)

    monkeypatch.setattr(A.Augment, "__call__", spy)
    run_all(tiny(image_folder, epochs=1, augment="color,translation,cutout", max_images=8), tmp_path / "r")
    # one step: D on real (no grad), D on G(z) detached (no grad), then D on G(z) for G's update (grad)
    assert calls == [False, False, True]
    calls.clear()
    run_all(tiny(image_folder, epochs=1, max_images=8), tmp_path / "plain")
    assert calls == []  # the paper's recipe is untouched by default


def test_resume_with_augmentation_is_bit_exact(image_folder, tmp_path):
    kw = dict(epochs=2, augment="color,translation,cutout")
    run_all(tiny(image_folder, **kw), tmp_path / "straight")
    run_all(tiny(image_folder, **kw), tmp_path / "split", stop=StopAfter(4))
    run_all(tiny(image_folder, **kw), tmp_path / "split", resume=True)
    assert same(g_weights(tmp_path / "straight"), g_weights(tmp_path / "split"))
    plain = tmp_path / "plain"
    run_all(tiny(image_folder, epochs=2), plain)
    assert not same(g_weights(plain), g_weights(tmp_path / "straight"))  # augmentation did something
