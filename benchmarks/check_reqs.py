"""Benchmark: check-reqs on homedataflask's 234-line Anaconda freeze, beside pip-compile alone.

One run measures, each as a fresh process (what a user waits for):

- ``check-reqs`` (report only) with a cold cache (empty homedeploy and pip caches), then warm;
- ``check-reqs --write`` cold, then warm;
- ``pip-compile`` alone on the requirements.in check-reqs wrote, cold (empty pip cache), then
  warm: the part of the job pip-tools can do by itself, for the local interpreter only.

Targets: cold <= 10 s, warm <= 2 s, the whole check (--write, cold) within 1.5x of pip-compile
cold. Uses the package indexes pip is configured with. Run by hand:

    .venv/bin/python benchmarks/check_reqs.py [--runs 3] [--freeze PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FREEZE = ROOT.parent / "shared" / "realworld" / "homedataflask-anaconda-freeze.txt"
HELLO = "from flask import Flask\n\napplication = Flask(__name__)\n"


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def one_round(freeze: Path, work: Path) -> dict[str, float]:
    app = work / "app"
    if app.exists():
        shutil.rmtree(app)
    app.mkdir(parents=True)
    (app / "hello.py").write_text(HELLO)
    (app / "Procfile").write_text("web: gunicorn hello:application\n")
    base = dict(os.environ)
    results: dict[str, float] = {}

    def fresh_env(name: str) -> dict[str, str]:
        cache = work / f"cache-{name}"
        shutil.rmtree(cache, ignore_errors=True)
        env = dict(base)
        env["HOMEDEPLOY_CACHE_DIR"] = str(cache / "homedeploy")
        env["PIP_CACHE_DIR"] = str(cache / "pip")
        return env

    check = [sys.executable, "-m", "homedeploy", "check-reqs", str(freeze), "--app", str(app)]
    env = fresh_env("check")
    results["check-reqs cold"] = timed(check, env, work)
    results["check-reqs warm"] = timed(check, env, work)
    env = fresh_env("write")
    results["check-reqs --write cold"] = timed([*check, "--write"], env, work)
    results["check-reqs --write warm"] = timed([*check, "--write"], env, work)
    compile_dir = work / "compile"
    shutil.rmtree(compile_dir, ignore_errors=True)
    compile_dir.mkdir()
    shutil.copy(app / "requirements.in", compile_dir / "requirements.in")
    pip_compile = [
        sys.executable,
        "-m",
        "piptools",
        "compile",
        "--quiet",
        "--no-header",
        "--output-file",
        "requirements.txt",
        "requirements.in",
    ]
    env = fresh_env("compile")
    results["pip-compile cold"] = timed(pip_compile, env, compile_dir)
    (compile_dir / "requirements.txt").unlink()
    results["pip-compile warm"] = timed(pip_compile, env, compile_dir)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--freeze", type=Path, default=FREEZE)
    args = parser.parse_args()
    if not args.freeze.is_file():
        sys.exit(f"no freeze at {args.freeze} (pass --freeze)")
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-check-reqs-") as tmp:
        for _ in range(args.runs):
            rounds.append(one_round(args.freeze, Path(tmp)))
    medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    print(f"{'what (median of ' + str(args.runs) + ')':<32} {'seconds':>8}  target")
    targets = {
        "check-reqs cold": "<= 10",
        "check-reqs warm": "<= 2",
        "check-reqs --write cold": "<= 10",
        "check-reqs --write warm": "<= 2",
    }
    for key, value in medians.items():
        print(f"{key:<32} {value:>8.2f}  {targets.get(key, '')}")
    ratio = medians["check-reqs --write cold"] / medians["pip-compile cold"]
    warm_ratio = medians["check-reqs --write warm"] / medians["pip-compile warm"]
    print(f"{'whole check / pip-compile, cold':<32} {ratio:>8.2f}x <= 1.5x")
    print(f"{'whole check / pip-compile, warm':<32} {warm_ratio:>8.2f}x")


if __name__ == "__main__":
    main()
