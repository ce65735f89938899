"""Benchmark: ``homedeploy push --local`` side by side with a hand-made uv + gunicorn + curl run.

Targets: a warm rehearsal of the scaffold (a minimal Flask + gunicorn app) within 1.5x of the
hand-made peer, and a warm rehearsal of the bundled example app within 12 s.

The peer is what a developer would type to check the same thing by hand, with the same Python:

    uv venv VENV && uv pip install --python VENV -r requirements.txt
    PORT=... VENV/bin/gunicorn app:app &  then curl / until it answers, then SIGTERM

The rehearsal does more (git archive of HEAD, doctor's build checks, the url_map read, every
route, memory, R12 stop) and is still pip. Runs alternate (rehearsal, peer, rehearsal, ...), the
first of each fills the caches (cold: the rehearsal with ``--fresh-build`` and its add-on database
started empty, ``--fresh-addons``), the others are warm (a re-deploy of the same commit: the build
cache and the add-on database are kept, as on Heroku). Each run prints its phases (``phases`` of
``push --local --json``). The scaffold uses only the file:// indexes of pip's configuration (no
traffic off the machine) unless ``--network``; the example app needs what those lack, so it uses
pip's configuration as it is. Run by hand (the peer needs uv: ``pip install uv``):

    .venv/bin/python benchmarks/rehearsal.py [--runs 3] [--network] [--no-example]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.doctor import committed_copy  # noqa: E402


def minimal_app(folder: Path) -> Path:
    """The scaffold's shape: app.py, requirements.txt, Procfile, .python-version."""
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(
        'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route("/")\n'
        'def index():\n    return "hello"\n'
    )
    (folder / "requirements.txt").write_text("Flask\ngunicorn\n")
    (folder / "Procfile").write_text("web: gunicorn app:app\n")
    (folder / ".python-version").write_text("3.11\n")
    return folder


def local_index_urls() -> list[str]:
    """The file:// indexes in pip's own configuration (asked as homedeploy asks pip)."""
    from homedeploy.requirements.index import pip_index_sources

    return [url for url in pip_index_sources().index_urls if url.startswith("file:")]


PIP_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")
ORIGINAL = {name: os.environ.get(name) for name in PIP_VARIABLES}


def restore_indexes() -> None:
    """pip's configuration as it was before :func:`use_local_indexes`."""
    for name, value in ORIGINAL.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def use_local_indexes(urls: list[str]) -> None:
    """Point pip at the file:// indexes of its own configuration (no traffic off the machine)."""
    if urls:
        os.environ["PIP_INDEX_URL"] = urls[0]
        os.environ["PIP_EXTRA_INDEX_URL"] = " ".join(urls[1:])
        print(f"pip and uv indexes: {' '.join(urls)} (local only)")


def rehearse(project: Path, *, cold: bool) -> tuple[float, str]:
    from homedeploy.commands.rehearse import RehearsalOptions, run_rehearsal

    options = RehearsalOptions(fresh_build=cold, fresh_addons=cold)
    started = time.perf_counter()
    report = run_rehearsal(project, options=options)
    total = time.perf_counter() - started
    if not report.ok:
        print(f"rehearsal FAILED [{report.reason}] {report.message}")
        print("\n".join(report.log_tail[-10:]))
        sys.exit(1)
    rss = (report.rss_bytes or 0) / 1024 / 1024
    probe = report.probes[0].seconds if report.probes else 0.0
    built = "reused" if report.build_reused else "built"
    phases = " ".join(f"{name} {seconds:.2f}" for name, seconds in report.phases.items())
    detail = (
        f"build {report.build_seconds:5.1f} s ({built}) | boot {report.boot_seconds:.2f} s | "
        f"GET / {probe:.3f} s | {len(report.routes)} more route(s) | RSS {rss:.0f} MB | stop "
        f"{report.stop_seconds:.2f} s | Python {report.python} (Heroku {report.python_heroku})"
        f"\n      phases (s): {phases}"
    )
    return total, detail


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peer(project: Path, python: str, uv: str, urls: list[str]) -> tuple[float, str]:
    """uv venv && uv pip install -r && gunicorn + curl, timed as a whole."""
    index = ["--index-url", urls[0]] if urls else []
    for url in urls[1:]:
        index += ["--extra-index-url", url]
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        started = time.perf_counter()
        subprocess.run([uv, "venv", "-q", "--python", python, str(venv)], check=True)
        install = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
        subprocess.run([*install, *index, "-r", "requirements.txt"], cwd=project, check=True)
        built = time.perf_counter() - started
        port = _free_port()
        server = subprocess.Popen(
            [str(venv / "bin" / "gunicorn"), "app:app"],
            cwd=project,
            env={**os.environ, "PORT": str(port), "PATH": f"{venv / 'bin'}:/usr/bin:/bin"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        status = ""
        deadline = time.monotonic() + 60
        while status != "200" and time.monotonic() < deadline:
            curl = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
            status = subprocess.run(
                [*curl, f"http://127.0.0.1:{port}/"],
                capture_output=True,
                text=True,
            ).stdout
            if status != "200":
                time.sleep(0.05)
        answered = time.perf_counter() - started
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        total = time.perf_counter() - started
    return total, f"build {built:5.1f} s | answered at {answered:.2f} s | GET / {status}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="warm runs after the cold one")
    parser.add_argument(
        "--network", action="store_true", help="let pip use every index it is configured with"
    )
    parser.add_argument(
        "--no-example", action="store_true", help="skip the example app (it needs --network)"
    )
    args = parser.parse_args()
    urls = [] if args.network else local_index_urls()
    use_local_indexes(urls)
    from homedeploy.project.python_version import requested_python
    from homedeploy.runtime.build import heroku_python, uv_binary

    uv = uv_binary()
    with tempfile.TemporaryDirectory() as tmp:
        project = committed_copy(minimal_app(Path(tmp) / "source"), Path(tmp) / "app")
        python = heroku_python(requested_python(project), try_uv=False).interpreter
        print(f"scaffold: minimal Flask + gunicorn app (unpinned), Python {python.version}")
        ours: list[float] = []
        theirs: list[float] = []
        for run in range(args.runs + 1):
            label = "cold" if run == 0 else "warm"
            total, detail = rehearse(project, cold=not run)
            print(f"  {label} homedeploy push --local {total:5.1f} s | {detail}")
            if run:
                ours.append(total)
            if uv is None:
                continue
            total, detail = peer(project, python.path, uv, urls)
            print(f"  {label} uv + gunicorn + curl     {total:5.1f} s | {detail}")
            if run:
                theirs.append(total)
        summary = "scaffold: uv is not installed (pip install uv): the peer was not run"
        if ours and theirs:
            ratio = statistics.median(ours) / statistics.median(theirs)
            verdict = "met" if ratio <= 1.5 else "NOT met"
            summary = (
                f"scaffold warm medians: rehearsal {statistics.median(ours):.2f} s, peer "
                f"{statistics.median(theirs):.2f} s: {ratio:.2f}x (target <= 1.5x: {verdict})"
            )
    if args.no_example:
        print(summary)
        return
    restore_indexes()
    with tempfile.TemporaryDirectory() as tmp:
        project = committed_copy(ROOT / "example_app", Path(tmp) / "example")
        print("example app: example_app/ (pip's own index configuration)")
        times = []
        for run in range(args.runs + 1):
            total, detail = rehearse(project, cold=not run)
            label = "cold" if run == 0 else "warm"
            print(f"  example app {label} {total:5.1f} s | {detail}")
            if run:
                times.append(total)
        median = statistics.median(times)
        verdict = "met" if median <= 12 else "NOT met"
        print(summary)
        print(f"example app warm median {median:.2f} s (target <= 12 s: {verdict})")
    shutil.rmtree(Path(tmp), ignore_errors=True)


if __name__ == "__main__":
    main()
