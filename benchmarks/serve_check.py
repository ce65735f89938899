"""Benchmark: ``homedeploy serve --check`` versus bare gunicorn booted and probed by curl.

Both sides do the same work on the same scaffolded app: start gunicorn with PORT set, wait until
``/`` answers, GET it, stop with SIGTERM and wait for exit. Run by hand:

    .venv/bin/python benchmarks/serve_check.py [--runs 7]

Targets (issue 2): serve --check within 1.3x of bare gunicorn; ``homedeploy --help`` < 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bare_gunicorn(project: Path) -> float:
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "wsgi:app"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        probe = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/"],
            capture_output=True,
            text=True,
        )
        if probe.stdout == "200":
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    process.wait()
    return time.perf_counter() - started


def homedeploy_check(project: Path) -> float:
    port = free_port()
    started = time.perf_counter()
    completed = subprocess.run(
        [str(BIN / "homedeploy"), "serve", str(project), "--check", "--port", str(port)],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"serve --check failed:\n{completed.stdout}\n{completed.stderr}")
    return elapsed


def help_time() -> float:
    started = time.perf_counter()
    subprocess.run([str(BIN / "homedeploy"), "--help"], capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "app"
        subprocess.run(
            [str(BIN / "homedeploy"), "init", str(project), "--no-git"],
            check=True,
            capture_output=True,
        )
        bare_gunicorn(project)  # warm the file cache for both sides
        bare, ours = [], []
        for _ in range(args.runs):  # interleave so drift hits both sides alike
            bare.append(bare_gunicorn(project))
            ours.append(homedeploy_check(project))
        helps = [help_time() for _ in range(args.runs)]
    bare_median, ours_median = statistics.median(bare), statistics.median(ours)
    print(f"runs: {args.runs} each, interleaved, on {os.cpu_count()} cores")
    print(f"bare gunicorn + curl        median {bare_median:.3f} s  (min {min(bare):.3f})")
    print(f"homedeploy serve --check    median {ours_median:.3f} s  (min {min(ours):.3f})")
    ratio = ours_median / bare_median
    print(f"ratio                       {ratio:.2f}x  (target <= 1.30x)")
    print(f"homedeploy --help           median {statistics.median(helps):.3f} s  (target < 0.3 s)")


if __name__ == "__main__":
    main()
