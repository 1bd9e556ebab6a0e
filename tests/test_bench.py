"""The benchmark itself runs (at toy sizes) and leaves the process as it found it."""
import json
import os
import sys

import pytest

from tests.conftest import cli


@pytest.mark.slow  # seconds (a process of its own, a timeout, real work): out of the quick loop
def test_bench_dry_run_covers_every_part_and_restores_what_it_touched():
    import pytorch_fid.inception as pfi

    from dcgan import bench

    import torch

    loader, env, hub = pfi.load_state_dict_from_url, dict(os.environ), torch.hub.get_dir()
    r = bench.run(device="cpu", dry_run=True)
    assert pfi.load_state_dict_from_url is loader and dict(os.environ) == env and torch.hub.get_dir() == hub
    assert {"generate", "frechet", "features", "train"} <= r.keys() and r["dry_run"] is True
    rows = r["train"]["images_per_s"]
    assert {"conventional", "ours_fp32"} <= rows.keys() and all(v > 0 for v in rows.values())
    assert r["frechet"]["rel_diff"] < 1e-6  # our distance and scipy's sqrtm agree on the same statistics
    assert r["features"]["ours_img_s"] > 0 and r["generate"]["grid64_ms"] > 0
    assert "images/s" in bench.table(r)


def test_bench_cli_json():
    proc = cli("bench", "--dry-run", "--generate", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= {"generate", "device"} and "train" not in out


def test_without_pytorch_fid_the_features_bench_says_how_to_install_it(monkeypatch):
    import pytest

    from dcgan import bench
    from dcgan.errors import UserError

    monkeypatch.setitem(sys.modules, "pytorch_fid", None)  # as on a plain install
    with pytest.raises(UserError, match=r"pip install 'dcgan-studio\[bench\]'"):
        bench.run(device="cpu", dry_run=True, train=False, generate=False)
