"""Benchmark: ``homedeploy doctor --offline`` on the bundled example app (target: under 1 s).

The example app is copied to a temporary folder and committed on main (as ``init --example``
leaves it), then doctor runs N times as a fresh process (what a user waits for) and in-process
(the rule work alone). Run by hand:

    .venv/bin/python benchmarks/doctor.py [--runs 7] [--app PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def committed_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    for args in (["init", "-q", "-b", "main"], ["add", "--all"], ["commit", "-q", "-m", "app"]):
        subprocess.run(["git", *args], cwd=target, check=True, capture_output=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--app", type=Path, default=ROOT / "example_app")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = committed_copy(args.app, Path(tmp) / "app")
        command = [sys.executable, "-m", "homedeploy", "doctor", "--offline", str(project)]
        cli_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            completed = subprocess.run(command, capture_output=True, text=True)
            cli_times.append(time.perf_counter() - started)
        sys.path.insert(0, str(ROOT))
        from homedeploy.doctor.engine import run_doctor

        run_doctor(project)  # warm imports
        inner = []
        for _ in range(args.runs):
            started = time.perf_counter()
            report = run_doctor(project)
            inner.append(time.perf_counter() - started)
    print(f"app: {args.app} ({report.verdict}, {len(report.findings)} findings)")
    print(
        f"doctor --offline, fresh process: median {statistics.median(cli_times):.3f} s, "
        f"max {max(cli_times):.3f} s over {args.runs} runs (exit {completed.returncode})"
    )
    print(f"run_doctor in-process:           median {statistics.median(inner):.3f} s")
    print("target: under 1 s")


if __name__ == "__main__":
    main()
