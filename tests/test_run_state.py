"""What a run says is true: its state reconciled with its worker, epoch and step from its newest
records, an ETA measured from the run itself, a rewind recorded before its worker starts (and a
run stopped during start-up says stopped), the queue's place and wait, the slot seen before Start,
and uploads named as their owner named them."""
import os
import subprocess
import sys
import time

import pytest

from dcgan import api, monitor
from dcgan.api import LOCAL, Caller, Upload
from dcgan.api import watching
from dcgan.api.watching import eta_s, look
from dcgan.runs import RunDir
from tests.conftest import make_images
from tests.test_train import run_all, tiny

VISITOR = Caller(owner="visitor-a", trusted=False)


def test_the_eta_counts_epoch_end_work_and_what_the_epoch_has_taken():
    """Analytic: epochs end every 10 s (steps alone would say 4 s an epoch); 3 of 10 done, 4 s into
    the fourth: 7 epochs x 10 s - 4 s."""
    start = 1000.0
    recs = []
    for e in range(1, 4):
        t_end = start + 10 * e
        recs += [{"kind": "step", "step": 3 * e - 1, "epoch": e, "time": t_end - 6.0, "images_per_s": 100.0},
                 {"kind": "step", "step": 3 * e, "epoch": e, "time": t_end - 6.0 + 2.0, "images_per_s": 100.0},
                 {"kind": "epoch", "epoch": e, "step": 3 * e, "time": t_end}]
    cfg = {"epochs": 10, "steps_per_epoch": 3, "n_images": 24}
    assert eta_s(cfg, recs, {"started": start}, now=start + 34) == pytest.approx(66.0)
    # records of an earlier session (before a resume) do not count: one epoch end of this session so
    # far, so the steps' own pace (2 s a step) is all there is
    assert eta_s(cfg, recs, {"started": start + 21}, now=start + 34) == pytest.approx(7 * 6.0 - 4.0)
    assert eta_s(cfg, [], {"started": start}) is None


def test_the_eta_follows_the_newest_epochs_when_the_pace_changes():
    """Analytic: 5 epochs of 30 s (a neighbour's load), then 12 of 5 s; 17 of 40 done, just at an
    epoch end: the newest ETA_EPOCHS epochs say 5 s each, so 23 x 5 s, not the session's mean."""
    t, recs = 0.0, []
    for e in range(1, 18):
        t += 30.0 if e <= 5 else 5.0
        recs.append({"kind": "epoch", "epoch": e, "step": e, "time": t})
    cfg = {"epochs": 40, "steps_per_epoch": 1, "n_images": 8}
    assert watching.ETA_EPOCHS <= 11
    assert eta_s(cfg, recs, {"started": 0.0}, now=t) == pytest.approx(23 * 5.0)


@pytest.mark.slow
def test_the_eta_of_a_real_run_is_within_a_quarter_of_the_time_it_then_took(tmp_path):
    """A real run in its own process, as the page's worker is (384 images, 20 epochs of about half a
    second here, epoch ends included), watched from this one as the page watches it: from 20% of it
    done to 80%, the ETA the run view would show is within +-25% of the time the run really still
    took (to its "finished"). The worker leaves the watcher a core, as the page's worker does
    (worker.py: all cores but one): with two threads on two shared cores every poll stalls the
    trainer's thread barrier and epochs swing by a fifth, and epochs of a tenth of a second would
    time the test's noise, not the ETA."""
    make_images(tmp_path / "d", 384, size=32)
    out, epochs = tmp_path / "r", 20
    run, samples = RunDir(out), []
    worker = subprocess.Popen(
        [sys.executable, "-m", "dcgan", "train", "--data", str(tmp_path / "d"), "--out", str(out),
         "--epochs", str(epochs), "--batch-size", "16", "--image-size", "32", "--ngf", "32",
         "--ndf", "32", "--nz", "16", "--n-samples", "16", "--seed", "3", "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        while worker.poll() is None:
            if run.status_file.exists():
                s = look(run).status
                if s.state == "running" and s.eta_s is not None:
                    samples.append((time.time(), s.epoch, s.eta_s))
            time.sleep(0.3)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.wait() == 0, worker.stderr.read().decode()[-2000:]
    assert run.status()["state"] == "finished"
    t_end = run.status_file.stat().st_mtime
    judged = [(t_end - t, eta) for t, epoch, eta in samples if 0.2 * epochs <= epoch <= 0.8 * epochs]
    assert len(judged) >= 5, samples
    off = [abs(eta - left) / left for left, eta in judged]
    ends = [r["time"] for r in run.read_metrics() if r.get("kind") == "epoch"]
    took = [round(b - a, 2) for a, b in zip(ends, ends[1:])]
    assert max(off) <= 0.25, (sorted(zip(off, judged))[-3:], took)


def test_a_queued_runs_wait_is_followed_to_the_second_in_its_last_minute(tmp_path, monkeypatch):
    """A queued run followed while the running one's time left goes 90, 80, 70 s, then 50, 49, 48 s:
    one snapshot a minute as the page says it ("2 min", "1 min"), and in the last minute one a second
    ("50 s", "49 s"), so a page never keeps saying a wait that has passed."""
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path / "runs"))
    run = RunDir(tmp_path / "runs" / "waiting")
    run.path.mkdir(parents=True)
    run.set_status("queued")
    lefts, poll = [90.0, 80.0, 70.0, 50.0, 49.0, 48.0], [-1]

    def next_poll():  # follow asks before each poll; the wait read during that poll is the next one
        poll[0] += 1
        return poll[0] == len(lefts)

    monkeypatch.setattr(watching, "wait_s", lambda target: lefts[poll[0]])
    monkeypatch.setattr(watching.SUPERVISOR, "position", lambda target: 1)
    seen = [s.status.wait_s for s in watching.follow(LOCAL, "waiting", poll_s=0, should_stop=next_poll)]
    assert seen == [90.0, 80.0, 50.0, 49.0, 48.0]  # 90 s reads "2 min"; 80 and 70 s both "1 min"


def test_a_starting_run_is_not_said_to_be_about_to_end(tmp_path, monkeypatch):
    """The slot's running run has just started (no step yet): its time left counts the start-up
    still ahead of it, not only 16 images' worth of steps ("about 0 s left" was said)."""
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path / "runs"))
    run = RunDir(tmp_path / "runs" / "starting")
    run.path.mkdir(parents=True)
    run.write_config({"epochs": 1, "max_images": 16})
    run.set_status("running", pid=os.getpid(), started=time.time() - 2.0)
    monkeypatch.setattr(watching.SUPERVISOR, "active", lambda: run)
    monkeypatch.setattr(watching.SUPERVISOR, "queued", lambda: [])
    left = api.slot(LOCAL).free_in_s
    assert watching.START_UP_S - 3.0 <= left <= watching.START_UP_S


@pytest.fixture
def staged_run(tmp_path, monkeypatch):
    """A finished run with an alarm at its last two epochs and healthy.pt at epoch 2 (the real rules
    neither fire on runs this small nor find them healthy, so the monitor is staged)."""
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path / "runs"))
    real = monitor.check

    def check(steps, *a, **kw):
        signals, alarms = real(steps, *a, **kw)
        if steps[-1]["epoch"] >= 3:
            alarms = alarms + [monitor.Alarm("lost_variety", "Mode collapse (staged).", ["x"])]
        return {**signals, "clear": not alarms}, alarms

    monkeypatch.setattr(monitor, "check", check)
    make_images(tmp_path / "d", 16, size=32)
    run_all(tiny(tmp_path / "d", epochs=4), tmp_path / "runs" / "staged")
    monkeypatch.setattr(monitor, "check", real)
    return RunDir(tmp_path / "runs" / "staged")


def test_a_rewind_is_recorded_before_its_worker_and_a_stop_during_start_up_says_stopped(staged_run):
    s = api.snapshot(LOCAL, "staged")
    assert s.rewind.epoch == 2 and (s.status.epoch, s.status.state) == (4, "finished")
    started = api.rewind(LOCAL, "staged")
    assert started.rewound["from_epoch"] == 2 and started.rewound["at_epoch"] == 4
    # recorded now, before the worker has trained a step: the history forks at epoch 2
    cfg = staged_run.read_config()
    assert cfg["rewinds"][0]["branch"] == "branches/1" and (staged_run.branches / "1" / "branch.json").exists()
    assert [r["epoch"] for r in staged_run.read_metrics() if r.get("kind") == "epoch"] == [1, 2]
    early = api.snapshot(LOCAL, "staged").status
    assert early.epoch == 2 and early.epochs == 4  # never "epoch 4/4" while it goes back to 2
    stopped = api.stop(LOCAL, "staged")  # while the worker is still starting (importing, reading the data)
    assert stopped.what == "stopped" and stopped.state == "stopped"
    st = staged_run.status()
    assert st["state"] == "stopped" and staged_run.state() == "stopped"  # not "running" with a dead pid
    after = api.snapshot(LOCAL, "staged")
    assert after.status.epoch == 2 and after.rewind is None
    c = api.compare_runs(LOCAL, ["staged"])
    assert c.compared[0].branches[0]["from_epoch"] == 2 and c.compared[0].branches[0]["reached"] == 4


def test_no_rewind_is_offered_to_an_epoch_that_was_no_healthier(tmp_path, monkeypatch):
    """The real rules on a tiny run: its epochs are the stall's grey tiles, never judged clear, so
    healthy.pt is never kept and an alarm there offers no way back to an epoch just as grey."""
    real = monitor.check

    def check(steps, *a, **kw):
        signals, alarms = real(steps, *a, **kw)
        if steps[-1]["epoch"] >= 2:
            alarms = alarms + [monitor.Alarm("checkerboard", "Checkerboard artefacts (staged).", ["x"])]
        return signals, alarms

    monkeypatch.setattr(monitor, "check", check)
    make_images(tmp_path / "d", 16, size=32)
    run_all(tiny(tmp_path / "d", epochs=3), tmp_path / "r")
    run = RunDir(tmp_path / "r")
    assert not any(e["signals"]["clear"] for e in [r for r in run.read_metrics() if r.get("kind") == "epoch"])
    assert not run.healthy.exists() and look(run).rewind is None


def test_a_visitors_skipped_files_are_named_as_they_named_them(tmp_path, monkeypatch):
    """Public mode: the note names the visitor's own files (no server path, no staging prefix)."""
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DCGAN_MAX_WORK", "1")  # refused after decoding: nothing starts training
    ups = []
    for i, p in enumerate(make_images(tmp_path / "cache" / "a", 4, size=32)):
        ups.append(Upload(p, f"photo {i}.png"))
    fake = tmp_path / "cache" / "b" / "x9f3" / "fake.png"
    fake.parent.mkdir(parents=True)
    fake.write_text("not a picture")
    ups.append(Upload(fake, "fake.png"))
    from dcgan.api import training
    from dcgan.api.access import receive

    folder = receive(ups, tmp_path / "staged", tmp_path / "staged.zip", "training")
    from dcgan import data

    _, report = data.load(folder, 32, use_cache=False)
    (name, why), = report.skipped
    assert name == "fake.png" and why == "UnidentifiedImageError: cannot identify image file 'fake.png'"
    with pytest.raises(api.UserError, match="epochs × images must be at most 1"):
        training.train(VISITOR, {"epochs": 1, "image_size": 32}, uploads=ups)
    assert not list((tmp_path / "runs").iterdir())


def test_a_corrupt_zip_is_called_that(tmp_path, monkeypatch):
    monkeypatch.setenv("DCGAN_RUNS_DIR", str(tmp_path / "runs"))
    bad = tmp_path / "u" / "faces.zip"
    bad.parent.mkdir()
    bad.write_bytes(b"PK\x03\x04 this is no zip")
    with pytest.raises(api.UserError, match="faces.zip is not a readable zip file"):
        api.train(VISITOR, {"epochs": 1}, uploads=[Upload(bad, "faces.zip")])
