import torch
from PIL import Image

from dcgan import images


def test_to_uint8_uses_the_fixed_range():
    x = torch.tensor([-1.0, 0.0, 1.0, -3.0, 5.0]).view(1, 1, 1, 5)
    assert images.to_uint8(x).flatten().tolist() == [0, 128, 255, 0, 255]
    # a dim batch stays dim: no per-batch min/max stretching
    dim = torch.full((1, 3, 2, 2), -0.5)
    assert images.to_uint8(dim).max().item() == 64


def test_uint8_float_round_trip():
    u = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    assert torch.equal(images.to_uint8(images.to_float(u)), u)


def test_grid_layout():
    x = torch.zeros(5, 3, 4, 4, dtype=torch.uint8)
    g = images.grid(x, nrow=3, pad=1)
    assert g.shape == (3, 2 * 5 + 1, 3 * 5 + 1)
    assert g[0, 0, 0] == 255 and g[0, 1, 1] == 0


def test_gif_has_every_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), (i * 20, 0, 0)) for i in range(7)]
    images.save_gif(frames, tmp_path / "a.gif")
    with Image.open(tmp_path / "a.gif") as im:
        assert im.n_frames == 7


def test_atomic_path_leaves_old_file_on_error(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    try:
        with images.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_progress_gif_stays_bounded_and_keeps_first_and_newest(tmp_path):
    from dcgan.runs import RunDir

    run = RunDir(tmp_path)
    for e in range(1, 101):
        run.save_sample(e, Image.new("RGB", (530, 530), (e, 255 - e, 0)))
    run.update_gif(max_frames=10, max_side=100)
    with Image.open(run.gif) as gif:
        assert gif.n_frames == 10 and gif.size == (100, 100)
        first = gif.convert("RGB").getpixel((50, 50))
        gif.seek(9)
        newest = gif.convert("RGB").getpixel((50, 50))
        assert gif.info["duration"] == 4 * 250  # PIL merges the repeats: the newest is held 4x longer
    assert abs(first[0] - 1) <= 8 and abs(newest[0] - 100) <= 8  # epoch 1 and epoch 100
