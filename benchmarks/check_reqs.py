"""Benchmark: check-reqs on homedataflask's 234-line Anaconda freeze beside pip-compile, one run.

One run measures, each as a fresh process (what a user waits for), with its peak memory:

- ``check-reqs --write`` with a cold cache (empty homedeploy and pip caches), then warm;
- ``pip-compile`` alone on the requirements.in check-reqs wrote, cold (empty pip cache), then
  warm: the part of the job pip-tools can do by itself, for the local interpreter only;
- ``check-reqs`` (report only) on a bigger freeze (``--big``, default: the seed's freeze plus
  this venv's ``pip freeze`` and the freezes given with ``--more``, up to 500 distinct names),
  cold.

Targets (issue 10): cold <= 1.5x pip-compile cold, warm <= 1.0x pip-compile warm, the big freeze
cold <= 4 s, peak memory <= 100 MB. Uses the package indexes pip is configured with. Run by hand:

    .venv/bin/python benchmarks/check_reqs.py [--runs 3] [--freeze PATH] [--more FILE ...]
"""

from __future__ import annotations

import argparse
import os
import re
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
BIG = 500


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Seconds and peak resident memory (MB) of one run of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        stderr = process.stderr.read().decode() if process.stderr else ""
        sys.exit(f"{' '.join(command)} failed ({code}):\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024


def big_freeze(freeze: Path, more: list[Path], target: Path) -> int:
    """A freeze of up to BIG distinct names: the seed's, this venv's, and ``more``."""
    lines: dict[str, str] = {}
    sources = [freeze.read_text(encoding="utf-8", errors="replace")]
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True
    )
    sources.append(frozen.stdout)
    sources += [path.read_text(encoding="utf-8", errors="replace") for path in more]
    for text in sources:
        for raw in text.splitlines():
            line = raw.split("#")[0].strip()
            match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==", line)
            if match and len(lines) < BIG:
                lines.setdefault(re.sub(r"[-_.]+", "-", match.group(1)).lower(), line)
    target.write_text("".join(f"{line}\n" for line in lines.values()), encoding="utf-8")
    return len(lines)


def one_round(freeze: Path, big: Path, work: Path) -> dict[str, tuple[float, float]]:
    app = work / "app"
    if app.exists():
        shutil.rmtree(app)
    app.mkdir(parents=True)
    (app / "hello.py").write_text(HELLO)
    (app / "Procfile").write_text("web: gunicorn hello:application\n")
    base = dict(os.environ)
    results: dict[str, tuple[float, float]] = {}

    def fresh_env(name: str) -> dict[str, str]:
        cache = work / f"cache-{name}"
        shutil.rmtree(cache, ignore_errors=True)
        env = dict(base)
        env["HOMEDEPLOY_CACHE_DIR"] = str(cache / "homedeploy")
        env["PIP_CACHE_DIR"] = str(cache / "pip")
        return env

    check = [sys.executable, "-m", "homedeploy", "check-reqs", str(freeze), "--app", str(app)]
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
    env = fresh_env("big")
    big_check = [sys.executable, "-m", "homedeploy", "check-reqs", str(big), "--app", str(app)]
    results["big freeze check-reqs cold"] = timed(big_check, env, work)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--freeze", type=Path, default=FREEZE)
    parser.add_argument("--more", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    if not args.freeze.is_file():
        sys.exit(f"no freeze at {args.freeze} (pass --freeze)")
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-check-reqs-") as tmp:
        big = Path(tmp) / "big-freeze.txt"
        count = big_freeze(args.freeze, args.more, big)
        for _ in range(args.runs):
            rounds.append(one_round(args.freeze, big, Path(tmp)))
    medians = {key: statistics.median(r[key][0] for r in rounds) for key in rounds[0]}
    memory = {key: max(r[key][1] for r in rounds) for key in rounds[0]}
    print(f"{'what (median of ' + str(args.runs) + ')':<34} {'seconds':>8} {'peak MB':>8}  target")
    targets = {"big freeze check-reqs cold": "<= 4 s"}
    for key, value in medians.items():
        print(f"{key:<34} {value:>8.2f} {memory[key]:>8.1f}  {targets.get(key, '')}")
    ratio = medians["check-reqs --write cold"] / medians["pip-compile cold"]
    warm_ratio = medians["check-reqs --write warm"] / medians["pip-compile warm"]
    print(f"{'check-reqs / pip-compile, cold':<34} {ratio:>8.2f}x{'':>8}  <= 1.5x")
    print(f"{'check-reqs / pip-compile, warm':<34} {warm_ratio:>8.2f}x{'':>8}  <= 1.0x")
    homedeploy_peak = max(v for k, v in memory.items() if "check-reqs" in k)
    print(f"{'check-reqs peak memory':<34} {homedeploy_peak:>8.1f} MB{'':>5}  <= 100 MB")
    print(f"big freeze: {count} distinct names")


if __name__ == "__main__":
    main()
