import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from dcgan import data, decoding
from tests.conftest import make_images


def test_folder_is_searched_recursively_and_every_mode_converted(tmp_path):
    root = tmp_path / "d"
    make_images(root, 3)
    make_images(root / "sub" / "deeper", 2, ext="jpg", seed=1)
    Image.new("L", (30, 50), 90).save(root / "gray.png")
    Image.new("RGBA", (50, 30), (255, 0, 0, 0)).save(root / "clear.png")  # alpha -> white
    Image.new("RGB", (20, 20), (0, 90, 200)).quantize(8).save(root / "pal.bmp")
    Image.fromarray(np.full((40, 40), 65535, dtype=np.uint16)).save(root / "sixteen.png")
    Image.new("CMYK", (40, 40), (0, 255, 255, 0)).save(root / "cmyk.jpg")
    Image.new("RGB", (1, 1), (1, 2, 3)).save(root / "tiny.webp")
    x, report = data.load(str(root), 32)
    assert x.dtype == torch.uint8 and x.shape == (11, 3, 32, 32)
    assert report.n_images == 11 and report.skipped == []
    assert report.lossy == 4  # three JPEGs and a WebP
    by_name = dict(zip(sorted(p.relative_to(root).as_posix() for p in root.rglob("*.*")), range(11)))
    assert by_name  # ordering is deterministic (sorted paths)
    # the fully transparent PNG became white, the 16-bit white stayed white
    whites = [(img == 255).all().item() for img in x]
    assert sum(whites) >= 2


def test_bad_files_are_skipped_and_listed(tmp_path):
    root = tmp_path / "d"
    make_images(root, 4)
    (root / "notes.png").write_text("this is not an image")
    good = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 30)).save(good, format="JPEG")
    (root / "truncated.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    (root / "readme.txt").write_text("ignored: not an image extension")
    x, report = data.load(str(root), 32)
    assert x.shape[0] == 4
    assert sorted(n for n, _ in report.skipped) == ["notes.png", "truncated.jpg"]
    assert "skipped 2" in report.summary()


def test_decompression_bomb_protection_stays_on(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    root = tmp_path / "d"
    make_images(root, 2, size=16)
    Image.new("RGB", (200, 200)).save(root / "bomb.png")  # 40k pixels > 2 x the (lowered) limit
    x, report = data.load(str(root), 32, use_cache=False)
    assert x.shape[0] == 2
    assert report.skipped[0][0] == "bomb.png" and "DecompressionBomb" in report.skipped[0][1]


def test_cache_is_reused(tmp_path, monkeypatch):
    root = tmp_path / "d"
    make_images(root, 5)
    x1, _ = data.load(str(root), 32)

    def boom(*a, **k):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(data, "decode", boom)
    x2, r2 = data.load(str(root), 32)
    assert torch.equal(x1, x2) and r2.n_images == 5
    # another size is another cache entry
    monkeypatch.undo()
    assert data.load(str(root), 64)[0].shape[-1] == 64


def _zip(path, members: dict):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return path


def _png_bytes(color=(200, 10, 10), size=20):
    b = io.BytesIO()
    Image.new("RGB", (size, size), color).save(b, format="PNG")
    return b.getvalue()


def test_zip_is_read_in_memory_and_hostile_paths_are_refused(tmp_path):
    z = _zip(tmp_path / "up.zip", {"a/ok1.png": _png_bytes(), "ok2.png": _png_bytes((0, 0, 255)),
                                    "../escape.png": _png_bytes(), "/abs/root.png": _png_bytes(),
                                    "notes.txt": b"hi"})
    before = sorted(p.name for p in tmp_path.rglob("*"))
    x, report = data.load(str(z), 32)
    assert x.shape[0] == 2
    assert {n for n, _ in report.skipped} == {"../escape.png", "/abs/root.png"}
    assert all(r == "unsafe member path" for _, r in report.skipped)
    # nothing was written next to the zip, nor anywhere else under the test's temp root
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert not [p for p in tmp_path.parent.parent.rglob("*") if p.name in ("escape.png", "root.png")]


def test_zip_bomb_member_is_skipped(tmp_path):
    z = _zip(tmp_path / "bomb.zip", {"ok.png": _png_bytes(), "huge.png": b"\0" * (30 << 20)})
    x, report = data.load(str(z), 32)
    assert x.shape[0] == 1
    assert report.skipped == [("huge.png", "compression ratio too high (zip bomb?)")]


def test_zip_with_too_many_members_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MAX_ZIP_MEMBERS", 10)
    z = _zip(tmp_path / "many.zip", {f"{i}.png": b"x" for i in range(11)})
    with pytest.raises(data.DataError, match="members"):
        data.load(str(z), 32)


def test_unusable_sources_give_one_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(data.DataError, match="holds no usable images"):
        data.load(str(tmp_path / "empty"), 32)
    with pytest.raises(data.DataError, match="no such data source"):
        data.load(str(tmp_path / "missing"), 32)
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(data.DataError, match="not a zip"):
        data.load(str(tmp_path / "x.txt"), 32)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.png").write_text("nope")
    with pytest.raises(data.DataError, match="could be read"):
        data.load(str(tmp_path / "junk"), 32)


def test_emoji_dataset():
    x, report = data.load("emoji", 64)
    assert x.dtype == torch.uint8 and x.shape == (1401, 3, 64, 64)
    assert report.fingerprint and report.n_images == 1401
    # emoji on white: the border is mostly white, the centre is not
    assert x[:, :, 0, :].float().mean() > 200 and x[:, :, 24:40, 24:40].float().mean() < 200
    small, _ = data.load("emoji", 32, max_images=10)
    assert small.shape == (10, 3, 32, 32)


def test_faces_dataset_is_the_default_and_distinct():
    x, report = data.load("faces", 64)
    assert x.dtype == torch.uint8 and x.shape == (10_000, 3, 64, 64) and report.n_images == 10_000
    assert len(torch.unique(x.flatten(1), dim=0)) == 10_000  # every face differs from every other
    demo, demo_report = data.load("demo", 64, max_images=50)
    assert torch.equal(demo, x[:50]) and demo_report.fingerprint == report.fingerprint
    # framed like CelebA's aligned crops: a plain background in the top corners, a face in the middle
    corners = torch.cat([x[:, :, :4, :4], x[:, :, :4, -4:]], dim=2).float()
    assert corners.std(dim=(2, 3)).mean() < 12  # each corner patch is one flat colour
    centre = x[:, :, 20:44, 20:44].float()
    assert centre.std(dim=(2, 3)).mean() > 20  # eyes, mouth, glasses: structure in the middle
    # variety: skin tones and backgrounds differ across the set
    assert x[:, :, 32, 32].float().std(0).mean() > 20
    small, _ = data.load("faces", 32, max_images=10)
    assert small.shape == (10, 3, 32, 32)


def test_celeba_layout_is_found_without_download(tmp_path):
    make_images(tmp_path / "celeba" / "img_align_celeba", 6, ext="jpg")
    x, report = data.load("celeba", 64, data_root=str(tmp_path))
    assert x.shape == (6, 3, 64, 64) and report.source == "celeba"


def test_celeba_download_failure_says_how_to_place_files(tmp_path, monkeypatch):
    import torchvision.datasets

    class Offline:
        def __init__(self, *a, **k):
            raise OSError("no network")

    monkeypatch.setattr(torchvision.datasets, "CelebA", Offline)
    with pytest.raises(data.DataError, match="img_align_celeba"):
        data.load("celeba", 64, data_root=str(tmp_path))


def test_flip_is_seeded_and_per_image():
    x = torch.arange(2 * 3 * 2 * 4, dtype=torch.uint8).view(2, 3, 2, 4).repeat(8, 1, 1, 1)
    a = data.flip(x, torch.Generator().manual_seed(0))
    b = data.flip(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    flipped = [torch.equal(a[i], x[i].flip(-1)) for i in range(len(x))]
    kept = [torch.equal(a[i], x[i]) for i in range(len(x))]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_prefetch_keeps_order_raises_in_the_consumer_and_stops_early():
    import threading

    from dcgan.decoding import prefetch

    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))

    def broken():
        yield 1
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        list(prefetch(broken()))

    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for x in prefetch(endless(), depth=2):
        if x == 3:
            break
    assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())
    assert len(produced) <= 3 + 2 + 2  # at most depth ahead (plus the one in hand) when the loop left


@pytest.mark.parametrize("pool", [False, True])
def test_one_thread_and_the_pool_decode_the_same(tmp_path, monkeypatch, pool):
    """Small images take the one-thread path, large ones the pool: both give the same images, in
    order, across chunk boundaries, with the same skip report."""
    root = tmp_path / "d"
    make_images(root, 40, size=24)
    (root / "zz_notes.png").write_text("not an image")
    src = data.open_source(str(root))
    want = [(n, decoding.decode_one(load(), 16)[0]) for n, load in src.items() if n != "zz_notes.png"]
    monkeypatch.setattr(decoding, "CHUNK", 12)
    monkeypatch.setattr(decoding, "PROBE", 5)
    monkeypatch.setattr(decoding, "SERIAL_BELOW_S", 0.0 if pool else float("inf"))
    src = data.open_source(str(root))
    got = [x for chunk in decoding.decode(src, 16) for x in chunk]
    assert [n for n, _ in got] == [n for n, _ in want]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, want))
    assert src.report.n_images == 40 and [n for n, _ in src.report.skipped] == ["zz_notes.png"]
