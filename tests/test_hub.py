"""Hub round trips, hostile checkpoints, the model card and push (up to the client call), the Space card."""
import pickle
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from dcgan import hub
from dcgan.hub import CheckpointError, load_generator
from dcgan.models import Discriminator, Generator, ModelConfig, build
from tests.conftest import REPO


@pytest.fixture
def saved_g(tmp_path):
    g, _ = build(ModelConfig(ngf=8, ndf=8, nz=20, image_size=32), seed=1)
    g.save_pretrained(tmp_path / "g")
    return g.eval(), tmp_path / "g"


def test_round_trip_gives_identical_outputs(saved_g, tmp_path):
    g, folder = saved_g
    z = torch.randn(4, 20, 1, 1, generator=torch.Generator().manual_seed(0))
    g2 = Generator.from_pretrained(str(folder))
    assert not g2.training and (g2.nz, g2.ngf, g2.image_size) == (20, 8, 32)
    assert torch.equal(g(z), g2(z))
    _, d = build(ModelConfig(ngf=8, ndf=8, image_size=32), seed=2)
    d.save_pretrained(tmp_path / "d")
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(d.eval()(x), Discriminator.from_pretrained(str(tmp_path / "d"))(x))


def test_tampered_weights_fail_loudly(saved_g, tmp_path):
    _, folder = saved_g
    sd = load_file(folder / "model.safetensors")
    missing = {k: v for k, v in sd.items() if k != "main.1.weight"}
    save_file(missing, folder / "model.safetensors")
    with pytest.raises(RuntimeError, match="Missing key"):
        Generator.from_pretrained(str(folder))
    with pytest.raises(CheckpointError, match="do not match"):
        load_generator(folder)
    wrong = dict(sd)
    wrong["main.0.weight"] = torch.zeros(20, 7, 4, 4)
    save_file(wrong, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match="size mismatch"):
        load_generator(folder)
    (folder / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_generator(folder / "model.safetensors")


def test_lone_safetensors_file_infers_its_config(saved_g, tmp_path):
    g, folder = saved_g
    shutil.copyfile(folder / "model.safetensors", tmp_path / "lone.safetensors")
    g2 = load_generator(tmp_path / "lone.safetensors")
    assert (g2.nz, g2.ngf, g2.nc, g2.image_size) == (20, 8, 3, 32)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickle_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"G": _Evil(str(marker))}, f)
    torch.save({"G": _Evil(str(marker)), "config": {}}, tmp_path / "evil2.pt")
    for name in ("evil.pt", "evil2.pt"):
        with pytest.raises(CheckpointError, match="not a safe"):
            load_generator(tmp_path / name)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="only .safetensors and .pt"):
        (tmp_path / "model.pkl").write_bytes(b"x")
        load_generator(tmp_path / "model.pkl")


def _fake_hub_cache(cache: Path, repo_id: str, files: dict) -> None:
    """Lay files out as huggingface_hub's cache does, so the real client finds them offline."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    for name, src in files.items():
        shutil.copyfile(src, snap / name)


def test_hub_id_through_the_real_client_offline(saved_g, tmp_path, monkeypatch):
    g, folder = saved_g
    cache = tmp_path / "hf"
    _fake_hub_cache(cache, "someone/emoji-dcgan", {"model.safetensors": folder / "model.safetensors",
                                                   "config.json": folder / "config.json"})
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    z = torch.randn(2, 20, 1, 1)
    assert torch.equal(load_generator("someone/emoji-dcgan")(z), g(z))
    with pytest.raises(CheckpointError, match="cannot reach the Hugging Face Hub"):
        load_generator("someone/does-not-exist")


@pytest.fixture
def tiny_run(tmp_path, image_folder):
    from dcgan.config import TrainConfig
    from dcgan.train import train

    cfg = TrainConfig(data=str(image_folder), epochs=2, batch_size=8, image_size=32, ngf=8, ndf=8, nz=16,
                      log_every=2, n_samples=16)
    list(train(cfg, tmp_path / "run"))
    return tmp_path / "run"


def test_model_card_and_staging(tiny_run, tmp_path):
    staged = hub.stage(tiny_run, tmp_path / "staged", "someone/tiny")
    names = sorted(p.name for p in staged.iterdir())
    assert names == ["README.md", "config.json", "metrics.jsonl", "model.safetensors", "progress.gif",
                     "samples.png", "training_config.json"]
    card = (staged / "README.md").read_text()
    from huggingface_hub import ModelCard

    meta = ModelCard(card).data.to_dict()
    assert {"gan", "dcgan", "unconditional-image-generation"} <= set(meta["tags"])
    assert 'Generator.from_pretrained("someone/tiny")' in card and "--epochs 2" in card
    assert "Trained for 2 epochs" in card and "Limitations" in card
    # the staged folder is itself loadable
    assert Generator.from_pretrained(str(staged)).image_size == 32


def test_push_calls_the_client_with_the_staged_folder(tiny_run, monkeypatch):
    """The upload path up to the HfApi calls; no network is touched (and none was reached for real)."""
    calls = {}

    def create_repo(self, repo_id, **kw):
        calls["create"] = (repo_id, kw)
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, *, repo_id, folder_path, **kw):
        calls["upload"] = (repo_id, sorted(p.name for p in Path(folder_path).iterdir()), kw)

    monkeypatch.setattr("huggingface_hub.HfApi.create_repo", create_repo)
    monkeypatch.setattr("huggingface_hub.HfApi.upload_folder", upload_folder)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    url = hub.push(tiny_run, "someone/tiny", private=True)
    assert url == "https://huggingface.co/someone/tiny"
    assert calls["create"] == ("someone/tiny", {"private": True, "exist_ok": True})
    assert "model.safetensors" in calls["upload"][1] and "README.md" in calls["upload"][1]


def test_push_without_token_or_with_a_bad_id(tiny_run, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(CheckpointError, match="HF_TOKEN"):
        hub.push(tiny_run, "someone/tiny")
    with pytest.raises(CheckpointError, match="USER/NAME"):
        hub.push(tiny_run, "not a repo id")


def test_readme_is_a_valid_space_card():
    from huggingface_hub import SpaceCard

    import gradio

    card = SpaceCard.load(REPO / "README.md")
    meta = card.data.to_dict()
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and (REPO / meta["app_file"]).exists()
    assert meta["sdk_version"].split(".")[0] == gradio.__version__.split(".")[0]
    assert str(meta["python_version"]).startswith("3.")
    for key in ("title", "emoji", "license", "short_description", "tags"):
        assert meta.get(key), key
    assert len(meta["short_description"]) <= 60
    lfs = (REPO / ".gitattributes").read_text()
    assert "*.safetensors filter=lfs" in lfs and "*.gif filter=lfs" in lfs


@pytest.mark.parametrize("name,dataset", [("demo", "faces"), ("emoji", "emoji")])
def test_bundled_generators_load_offline_and_are_varied(name, dataset):
    from dcgan import data, latent, monitor
    from dcgan.images import to_float

    g = load_generator(name)
    assert (g.image_size, g.nc) == (64, 3) and not g.training
    real, _ = data.load(dataset, 64)
    pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:64]
    samples = latent.sample(g, latent.z_from_seeds(range(1000, 1064), g.nz))
    ratio = monitor.diversity(samples) / monitor.diversity(to_float(real[pick]))
    assert ratio > monitor.COLLAPSE_RATIO  # the monitor would not call this mode collapse
    folder = hub.BUNDLED[hub.ALIASES.get(name, name)]
    card = (folder / "README.md").read_text()
    assert f"python -m dcgan train --data {dataset}" in card and "Diversity of 64 samples" in card
    assert (folder / "progress.gif").exists() and (folder / "samples.png").exists()


def test_push_uses_the_visitors_token_never_the_servers(tiny_run, monkeypatch):
    from dcgan import api
    from dcgan.errors import UserError
    from dcgan.runs import RunDir

    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tiny_run.parent))
    monkeypatch.setenv("HF_TOKEN", "hf_server_owner_token")
    run = RunDir(tiny_run)
    run.write_json(run.request, {"config": {}, "owner": "visitor"})
    visitor = api.Caller(owner="visitor", trusted=False)
    used = {}

    def create_repo(self, repo_id, **kw):
        used["token"] = self.token
        return f"https://huggingface.co/{repo_id}"

    monkeypatch.setattr("huggingface_hub.HfApi.create_repo", create_repo)
    monkeypatch.setattr("huggingface_hub.HfApi.upload_folder", lambda self, **kw: None)
    with pytest.raises(UserError, match="sign in"):
        api.push(visitor, tiny_run.name, "visitor/tiny")
    assert "token" not in used
    assert api.push(visitor, tiny_run.name, "visitor/tiny", token="hf_visitor_token").url.endswith("visitor/tiny")
    assert used["token"] == "hf_visitor_token"
    # on one's own machine the local login is the right one
    assert api.push(api.LOCAL, tiny_run.name, "owner/tiny").repo_id == "owner/tiny"
    assert used["token"] == "hf_server_owner_token"
