"""A bounded load test of the real app on loopback, while a training runs.

    python -m scripts.load_test --clients 20 --calls 25

Starts `python app.py` on a free loopback port with its own runs and temp folders, starts a small
training through the API (so generation competes with it), then has N gradio_client clients make
M generate/interpolate/directions calls each (the same seed 0 grid for all on their first call, as every
page load asks for it). Reports p50/p95 latency per endpoint, errors, and the server's
resident memory and temp-file counts before and after. Every loop is bounded in count and time;
only 127.0.0.1 is contacted.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def count_files(*folders: Path) -> int:
    return sum(1 for f in folders if f.exists() for p in f.rglob("*") if p.is_file())


def start_app(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "DCGAN_RUNS_DIR": str(workdir / "runs"), "GRADIO_TEMP_DIR": str(workdir / "gradio"),
           "TMPDIR": str(workdir / "tmp"), "GRADIO_ANALYTICS_ENABLED": "False"}
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    end = time.time() + 120
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the app did not start within 120 s")


def load(url: str, clients: int, calls: int, download: bool = False, timeout_s: float = 1800) -> dict:
    from gradio_client import Client

    lat: dict[str, list[float]] = {"generate": [], "interpolate": [], "directions": []}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.time() + timeout_s

    def one_client(i: int) -> None:
        # download=False: the latency until the server has answered with the files' URLs (a browser
        # then fetches them in parallel); download=True adds fetching each file, one by one
        c = Client(url, verbose=False, download_files=download)
        for k in range(calls):
            if time.time() > deadline:
                return
            kind = ("generate", "interpolate", "directions")[(i + k) % 3]
            t = time.perf_counter()
            try:
                if kind == "generate":
                    c.predict(seed=k % 2, n=16, api_name="/generate")  # the same pictures, asked at once
                elif kind == "interpolate":
                    c.predict(seeds=f"{i} {i + k + 1}", frames=8, api_name="/interpolate")
                else:
                    c.predict(seed=i, direction_1=(k % 5) / 2 - 1, api_name="/directions")
                with lock:
                    lat[kind].append(time.perf_counter() - t)
            except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(f"{kind}: {type(e).__name__}: {str(e)[:120]}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one_client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0

    def pct(xs, q):
        return 1000 * statistics.quantiles(xs, n=100)[q - 1] if len(xs) >= 2 else float("nan")

    out = {"clients": clients, "calls_each": calls, "calls": sum(map(len, lat.values())) + len(errors),
           "errors": len(errors), "first_errors": errors[:5], "wall_s": wall}
    for kind, xs in lat.items():
        out[kind] = {"n": len(xs), "p50_ms": pct(xs, 50), "p95_ms": pct(xs, 95)}
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--calls", type=int, default=25)
    ap.add_argument("--no-training", action="store_true", help="do not run a training during the load")
    ap.add_argument("--download", action="store_true", help="clients also download every returned file")
    ap.add_argument("--public", action="store_true", help="run the app in public mode (DCGAN_PUBLIC=1)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if a.public:
        os.environ["DCGAN_PUBLIC"] = "1"
    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="dcgan-load-") as tmp:
        work = Path(tmp)
        proc, url = start_app(work)
        try:
            c = Client(url, verbose=False)
            c.predict(n=16, api_name="/generate")  # warm-up: model loaded, caches filled
            c.predict(direction_1=0.5, api_name="/directions")  # and the directions computed (start-up work)
            before = {"rss_mb": rss_mb(proc.pid), "files": count_files(work / "gradio", work / "tmp")}
            training = None
            if not a.no_training:
                note, training, key = c.predict(data="emoji", epochs=1000, batch_size=64, half=True, device="cpu",
                                           max_images=256, api_name="/train")
            result = load(url, a.clients, a.calls, a.download)
            if training:
                c.predict(key=key, api_name="/stop")
            after = {"rss_mb": rss_mb(proc.pid), "files": count_files(work / "gradio", work / "tmp")}
            # a second, identical round: memory that keeps growing would show up as a second step
            again = load(url, a.clients, a.calls, a.download) if a.calls * a.clients <= 200 else None
            final = {"rss_mb": rss_mb(proc.pid), "files": count_files(work / "gradio", work / "tmp")}
            report = {"url": url, "training_during_load": training, **result, "server_before": before,
                      "server_after": after, "server_after_second_round": final if again else None,
                      "second_round_errors": again["errors"] if again else None}
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)
            for status in (work / "runs").glob("*/status.json"):  # a worker has its own session: end it too
                try:
                    pid = int(json.loads(status.read_text()).get("pid") or 0)
                    if pid > 1 and pid != os.getpid():
                        os.killpg(pid, 9)
                except (OSError, ValueError):
                    pass
    if a.json:
        print(json.dumps(report))
    else:
        print(f"{report['calls']} calls from {a.clients} clients in {report['wall_s']:.1f} s, "
              f"{report['errors']} errors, training during load: {bool(training)}, "
              f"file downloads {'included' if a.download else 'not included'}")
        for kind in ("generate", "interpolate", "directions"):
            r = report[kind]
            print(f"  /{kind:<12} n={r['n']:<4} p50 {r['p50_ms']:8.1f} ms   p95 {r['p95_ms']:8.1f} ms")
        print(f"  server RSS {before['rss_mb']:.0f} MB -> {after['rss_mb']:.0f} MB; "
              f"temp files {before['files']} -> {after['files']}")
    return report


if __name__ == "__main__":
    main()
