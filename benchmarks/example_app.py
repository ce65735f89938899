"""Benchmark the bundled homedata dashboard under real gunicorn (2 workers) on 127.0.0.1.

Measures, on the full bundled sample (283k room readings, every table):

* boot: from starting gunicorn to the first answer of ``/healthz`` (with ``--preload`` the data
  is loaded once in the master before the workers fork; without it each worker loads its own);
* p50/p95 latency of every API endpoint called with its defaults (what the dashboard asks for),
  plus the main chart endpoint with random zoom windows (never cached);
* requests per second of ``/api/series`` with 4 concurrent clients;
* memory per worker from /proc: RSS (what the brief's target is about) and PSS (shared pages
  divided among the processes sharing them: what a 512 MB dyno really pays).

Targets: boot <= 3 s, p95 <= 25 ms, RSS <= 150 MB per worker.

    .venv/bin/python benchmarks/example_app.py [--preload] [--requests 200] [--seconds 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            if get(port, "/healthz")[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit("gunicorn did not answer in time")


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return sorted(out)


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB from /proc."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    rollup = Path(f"/proc/{pid}/smaps_rollup")
    if rollup.exists():
        for line in rollup.read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    return rss, pss


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def latency(port: int, paths: list[str], rounds: int) -> list[float]:
    times = []
    for i in range(rounds):
        path = paths[i % len(paths)]
        t0 = time.perf_counter()
        status, _ = get(port, path)
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
    return times


def throughput(port: int, path: str, seconds: float, clients: int) -> float:
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        while time.perf_counter() < stop:
            get(port, path)
            done[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def zoom_windows(count: int) -> list[str]:
    """Random 1-to-10-day windows inside the sample's span: each is a fresh, uncached request."""
    rng = random.Random(6)
    first = 1458691200  # 2016-03-23
    last = 1537700000  # 2018-09-23
    out = []
    for _ in range(count):
        start = rng.randrange(first, last - 10 * 86400)
        end = start + rng.randrange(86400, 10 * 86400)
        fmt = "%Y-%m-%dT%H:%M:%S"
        out.append(
            f"/api/series?start={time.strftime(fmt, time.gmtime(start))}"
            f"&end={time.strftime(fmt, time.gmtime(end))}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--preload", action="store_true", help="load the data in the master, then fork"
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the throughput run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "HOMEDATA_DIR"}
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
    ]
    if args.preload:
        cmd.append("--preload")
    proc = subprocess.Popen(
        [*cmd, "wsgi:app"],
        cwd=EXAMPLE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        boot = wait_ready(port, proc)
        # Both workers must be serving before we measure: without --preload the second may
        # still be loading. Poll until two requests in a row are quick.
        ready_at = time.perf_counter()
        while time.perf_counter() - ready_at < 10:
            t0 = time.perf_counter()
            get(port, "/healthz")
            get(port, "/healthz")
            if time.perf_counter() - t0 < 0.02:
                break
        both = boot + (time.perf_counter() - ready_at)
        index = json.loads(get(port, "/api")[1])
        results: dict[str, dict[str, float]] = {}
        for entry in index["endpoints"]:
            times = latency(port, [entry["path"]], args.requests)
            results[entry["path"]] = {
                "first": times[0],  # computed; later ones come from the worker's response cache
                "p50": statistics.median(times),
                "p95": percentile(times, 95),
            }
        for name, paths in (("/api/series (zoom windows, uncached)", zoom_windows(args.requests)),):
            times = latency(port, paths, args.requests)
            results[name] = {
                "first": times[0],
                "p50": statistics.median(times),
                "p95": percentile(times, 95),
            }
        rps = throughput(port, "/api/series", args.seconds, clients=4)
        workers = children(proc.pid)
        memory = {pid: memory_mb(pid) for pid in workers}
        master = memory_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    figures = {
        "preload": args.preload,
        "boot_s": round(boot, 3),
        "both_workers_ready_s": round(both, 3),
        "latency_ms": {k: {q: round(v, 2) for q, v in r.items()} for k, r in results.items()},
        "series_requests_per_s": round(rps, 1),
        "worker_rss_mb": [round(m[0], 1) for m in memory.values()],
        "worker_pss_mb": [round(m[1], 1) for m in memory.values()],
        "master_rss_mb": round(master[0], 1),
        "master_pss_mb": round(master[1], 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"gunicorn, 2 workers, {'--preload' if args.preload else 'no preload'}, 127.0.0.1")
    print(
        f"boot to first answer: {boot:.2f} s   (both workers serving: {both:.2f} s)   target <= 3 s"
    )
    print(f"{'endpoint':<40} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8}   (target p95 <= 25 ms)")
    for path, r in results.items():
        print(f"{path:<40} {r['first']:>9.2f} {r['p50']:>8.2f} {r['p95']:>8.2f}")
    print(f"/api/series with 4 concurrent clients: {rps:.0f} requests/s")
    for pid, (rss, pss) in memory.items():
        print(f"worker {pid}: RSS {rss:.1f} MB, PSS {pss:.1f} MB   (target RSS <= 150 MB)")
    print(f"master: RSS {master[0]:.1f} MB, PSS {master[1]:.1f} MB")


if __name__ == "__main__":
    main()
