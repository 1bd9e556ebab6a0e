"""Hub datasets and CelebA's fallbacks, offline, against a local cache laid out like the Hub's."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from dcgan import data
from dcgan.errors import DataError
from tests.conftest import make_images


def png_bytes(rgb, size=24) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((size, size + 6, 3), rgb, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hub cache that huggingface_hub uses, with the network off."""
    import huggingface_hub.constants as c

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(c, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    return cache


def snapshot_dir(cache, repo_id, commit="0123456789abcdef0123456789abcdef01234567"):
    folder = cache / f"datasets--{repo_id.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    snap = folder / "snapshots" / commit
    snap.mkdir(parents=True)
    return snap


def write_parquet(path, rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    image = pa.array(rows, type=pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
    pq.write_table(pa.table({"image": image, "label": list(range(len(rows)))}), path, row_group_size=3)


def test_parquet_layout_reads_the_train_split_and_lists_bad_rows(hub_cache):
    snap = snapshot_dir(hub_cache, "someone/faces")
    good = [{"bytes": png_bytes((10 * i, 0, 0)), "path": f"{i}.png"} for i in range(7)]
    bad = [{"bytes": b"not an image", "path": "bad.png"}, {"bytes": None, "path": "gone.png"}]
    write_parquet(snap / "data" / "train-00000-of-00002.parquet", good[:4] + bad)
    write_parquet(snap / "data" / "train-00001-of-00002.parquet", good[4:])
    write_parquet(snap / "data" / "test-00000-of-00001.parquet", [{"bytes": png_bytes((0, 0, 255)), "path": "t"}])
    x, report = data.load("hf:someone/faces", 16)
    assert x.shape == (7, 3, 16, 16) and report.n_images == 7
    assert [r for r in x[:, 0, 8, 8].tolist()] == [10 * i for i in range(7)]  # the train rows, in order
    assert {n for n, _ in report.skipped} == {"data/train-00000-of-00002.parquet:4",
                                              "data/train-00000-of-00002.parquet:5"}
    again, rep2 = data.load("hf:someone/faces", 16)  # from the decode cache, same fingerprint
    assert torch.equal(again, x) and rep2.fingerprint == report.fingerprint


def test_image_folder_layout(hub_cache):
    snap = snapshot_dir(hub_cache, "someone/pics")
    make_images(snap / "train" / "cats", 5, size=20)
    x, report = data.load("hf:someone/pics", 16)
    assert x.shape == (5, 3, 16, 16) and report.source == "hf:someone/pics"


def test_a_corrupt_shard_is_skipped_and_listed_and_nothing_usable_is_one_line(hub_cache):
    snap = snapshot_dir(hub_cache, "someone/mixed")
    write_parquet(snap / "data" / "train-00000-of-00002.parquet", [{"bytes": png_bytes((1, 2, 3)), "path": "a"}] * 3)
    (snap / "data" / "train-00001-of-00002.parquet").write_text("this is not parquet")
    x, report = data.load("hf:someone/mixed", 16)
    assert len(x) == 3 and any("not a readable parquet shard" in why for _, why in report.skipped)

    snap = snapshot_dir(hub_cache, "someone/broken")
    (snap / "train.parquet").write_bytes(b"PAR1 garbage")
    with pytest.raises(DataError, match="no readable parquet shard") as e:
        data.load("hf:someone/broken", 16)
    assert "\n" not in str(e.value)


def test_offline_without_a_cached_copy_or_a_bad_name(hub_cache):
    with pytest.raises(DataError, match="not in the local Hub cache"):
        data.load("hf:someone/never-downloaded", 16)
    with pytest.raises(DataError, match="hf:OWNER/NAME"):
        data.load("hf:../../etc", 16)


def test_celeba_fallback_order(tmp_path, hub_cache, monkeypatch):
    import torchvision.datasets

    calls = []

    class Offline:
        def __init__(self, *a, **k):
            calls.append("torchvision")
            raise OSError("Google Drive quota exceeded")

    monkeypatch.setattr(torchvision.datasets, "CelebA", Offline)
    # 1. a local folder wins without asking torchvision
    make_images(tmp_path / "local" / "celeba" / "img_align_celeba", 4, size=30, ext="jpg")
    x, report = data.load("celeba", 16, data_root=str(tmp_path / "local"))
    assert len(x) == 4 and calls == [] and report.source == "celeba"
    # 2. no folder, torchvision fails, the Hub copy is not there either: one message naming all three
    with pytest.raises(DataError) as e:
        data.load("celeba", 16, data_root=str(tmp_path / "empty"))
    msg = str(e.value)
    assert calls == ["torchvision"] and "img_align_celeba" in msg and "nielsr/CelebA-faces" in msg
    # 3. the Hub copy in the cache is used after torchvision fails
    snap = snapshot_dir(hub_cache, "nielsr/CelebA-faces")
    write_parquet(snap / "data" / "train-00000-of-00001.parquet",
                  [{"bytes": png_bytes((0, 9 * i, 0), size=40), "path": f"{i}.jpg"} for i in range(5)])
    x, report = data.load("celeba", 16, data_root=str(tmp_path / "empty"))
    assert len(x) == 5 and calls == ["torchvision", "torchvision"] and "nielsr/CelebA-faces" in report.source
