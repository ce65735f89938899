"""Benchmark: ``homedeploy push --local`` on the bundled example app, warm (target: under 30 s).

The example app is copied to a temporary folder and committed. The first rehearsal fills pip's
cache (cold); the following ones are "warm", as on a developer's machine. Each builds a clean venv
from requirements.txt, boots gunicorn like a dyno, probes /, measures memory and stops it.
Run by hand:

    .venv/bin/python benchmarks/rehearsal.py [--runs 2] [--app PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.doctor import committed_copy  # noqa: E402


def minimal_app(folder: Path) -> Path:
    """The smallest deployable Flask app: app.py, requirements.txt, Procfile, .python-version."""
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(
        'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route("/")\n'
        'def index():\n    return "hello"\n'
    )
    (folder / "requirements.txt").write_text("Flask\ngunicorn\n")
    (folder / "Procfile").write_text("web: gunicorn app:app\n")
    (folder / ".python-version").write_text("3.11\n")
    return folder


def use_local_indexes() -> None:
    """Point pip at the file:// indexes of its own configuration (no traffic off the machine)."""
    import os
    import subprocess

    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    urls: list[str] = []
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(("index-url", "extra-index-url")):
            urls += [u for u in value.strip("'\"").split() if u.startswith("file:")]
    if urls:
        os.environ["PIP_INDEX_URL"] = urls[0]
        os.environ["PIP_EXTRA_INDEX_URL"] = " ".join(urls[1:])
        print(f"pip indexes: {' '.join(urls)} (local only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2, help="warm runs after the cold one")
    parser.add_argument(
        "--app",
        type=Path,
        help="app folder to copy (default: a minimal Flask + gunicorn app; the bundled "
        "example_app pins versions the local indexes may not hold, so pair it with --network)",
    )
    parser.add_argument(
        "--network", action="store_true", help="let pip use every index it is configured with"
    )
    args = parser.parse_args()
    if not args.network:
        use_local_indexes()
    from homedeploy.commands.rehearse import run_rehearsal

    with tempfile.TemporaryDirectory() as tmp:
        source = args.app or minimal_app(Path(tmp) / "source")
        project = committed_copy(source, Path(tmp) / "app")
        print(f"app: {args.app or 'minimal Flask + gunicorn app (unpinned), Python 3.11'}")
        for run in range(args.runs + 1):
            started = time.perf_counter()
            report = run_rehearsal(project)
            total = time.perf_counter() - started
            label = "cold" if run == 0 else "warm"
            if not report.ok:
                print(f"{label}: FAILED [{report.reason}] {report.message}")
                print("\n".join(report.log_tail[-10:]))
                sys.exit(1)
            rss = (report.rss_bytes or 0) / 1024 / 1024
            print(
                f"{label}: total {total:5.1f} s | build {report.build_seconds:5.1f} s | "
                f"boot {report.boot_seconds:.2f} s | GET / {report.probes[0].seconds:.3f} s | "
                f"RSS {rss:.0f} MB of 512 | stop {report.stop_seconds:.2f} s | "
                f"Python {report.python} (Heroku: {report.python_requested})"
            )
    print("target: warm under 30 s")


if __name__ == "__main__":
    main()
