"""Benchmark: check-reqs on homedataflask's 234-line Anaconda freeze beside pip-compile, one run.

One run measures, each as a fresh process (what a user waits for), with its peak memory:

- ``check-reqs --write`` with a cold cache (empty homedeploy and pip caches), then warm;
- ``pip-compile`` alone on the requirements.in check-reqs wrote, cold (empty pip cache), then
  warm: the part of the job pip-tools can do by itself, for the local interpreter only;
- ``check-reqs`` (report only) on a bigger freeze of 500 distinct names, cold: the seed's freeze,
  this venv's ``pip freeze``, the freezes given with ``--more``, then the most downloaded
  projects at their newest version from a ranking file read at run time (``--ranked``: a TSV
  with columns name, version and rank among the most downloaded, such as the machine's package
  list; the data stays outside the repository). Fewer than 500 names is said, never hidden.

Memory is the peak of the whole process tree's resident memory: check-reqs and the pip or
pip-compile it starts, summed, sampled every 10 ms from /proc (shared pages counted once per
process, so it over-counts rather than under-counts). The largest single process's peak (the
kernel's ru_maxrss over the tree) is printed beside it.

Targets (issue 10): cold <= 1.5x pip-compile cold, warm <= 1.0x pip-compile warm, the big freeze
cold <= 4 s, peak memory <= 100 MB. Uses the package indexes pip is configured with. Run by hand:

    .venv/bin/python benchmarks/check_reqs.py [--runs 3] [--freeze PATH] [--more FILE ...]
        [--ranked TSV]
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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FREEZE = ROOT.parent / "shared" / "realworld" / "homedataflask-anaconda-freeze.txt"
HELLO = "from flask import Flask\n\napplication = Flask(__name__)\n"
BIG = 500
RANKED = Path("/work/.library/env/packages/pypi.tsv")
"""A ranking of the most downloaded projects on this machine (outside the repository)."""
PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.01

Measure = tuple[float, float, float]
"""Seconds, peak MB of the whole process tree, peak MB of its largest process."""


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, now (0 once it has exited)."""
    total = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", "rb") as handle:
                    stack += [int(child) for child in handle.read().split()]
        except (OSError, ValueError):
            continue
    return total


def timed(command: list[str], env: dict[str, str], cwd: Path) -> Measure:
    """Seconds, peak tree memory and peak single-process memory (MB) of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = process.stderr.read().decode() if process.stderr else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({code}):\n{stderr}")
    largest = usage.ru_maxrss / 1024
    return elapsed, max(peak[0] / 2**20, largest), largest


def ranked_lines(path: Path) -> list[str]:
    """``name==version`` for the most downloaded projects in ``path``, most downloaded first."""
    ranked: list[tuple[int, str]] = []
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError:
        return []
    with handle:
        header = handle.readline().rstrip("\n").split("\t")
        try:
            name_at, version_at = header.index("name"), header.index("version")
            rank_at = next(i for i, column in enumerate(header) if column.startswith("rank"))
        except (ValueError, StopIteration):
            return []
        for row in handle:
            fields = row.rstrip("\n").split("\t")
            if len(fields) <= max(name_at, version_at, rank_at):
                continue
            rank, version = fields[rank_at].strip(), fields[version_at].strip()
            if rank.isdigit() and version:
                ranked.append((int(rank), f"{fields[name_at].strip()}=={version}"))
    return [line for _, line in sorted(ranked)]


def big_freeze(freeze: Path, more: list[Path], ranked: Path, target: Path) -> int:
    """A freeze of up to BIG distinct names: the seed's, this venv's, ``more``, then the most
    downloaded projects of ``ranked``."""
    lines: dict[str, str] = {}
    sources = [freeze.read_text(encoding="utf-8", errors="replace")]
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True
    )
    sources.append(frozen.stdout)
    sources += [path.read_text(encoding="utf-8", errors="replace") for path in more]
    sources.append("\n".join(ranked_lines(ranked)))
    for text in sources:
        for raw in text.splitlines():
            line = raw.split("#")[0].strip()
            match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==", line)
            if match and len(lines) < BIG:
                lines.setdefault(re.sub(r"[-_.]+", "-", match.group(1)).lower(), line)
    target.write_text("".join(f"{line}\n" for line in lines.values()), encoding="utf-8")
    return len(lines)


def one_round(freeze: Path, big: Path, work: Path) -> dict[str, Measure]:
    app = work / "app"
    if app.exists():
        shutil.rmtree(app)
    app.mkdir(parents=True)
    (app / "hello.py").write_text(HELLO)
    (app / "Procfile").write_text("web: gunicorn hello:application\n")
    base = dict(os.environ)
    results: dict[str, Measure] = {}

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
    parser.add_argument("--ranked", type=Path, default=RANKED)
    args = parser.parse_args()
    if not args.freeze.is_file():
        sys.exit(f"no freeze at {args.freeze} (pass --freeze)")
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-check-reqs-") as tmp:
        big = Path(tmp) / "big-freeze.txt"
        count = big_freeze(args.freeze, args.more, args.ranked, big)
        for _ in range(args.runs):
            rounds.append(one_round(args.freeze, big, Path(tmp)))
    medians = {key: statistics.median(r[key][0] for r in rounds) for key in rounds[0]}
    tree = {key: max(r[key][1] for r in rounds) for key in rounds[0]}
    largest = {key: max(r[key][2] for r in rounds) for key in rounds[0]}
    big_key = "big freeze check-reqs cold"
    print(
        f"{'what (median of ' + str(args.runs) + ')':<34} {'seconds':>8} {'tree MB':>8} "
        f"{'1 proc MB':>9}"
    )
    for key, value in medians.items():
        print(f"{key:<34} {value:>8.2f} {tree[key]:>8.1f} {largest[key]:>9.1f}")
    ratio = medians["check-reqs --write cold"] / medians["pip-compile cold"]
    warm_ratio = medians["check-reqs --write warm"] / medians["pip-compile warm"]

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    print()
    print(f"{'target':<42} {'measured':>10}  {'target':>9}")
    print(
        f"{'cold: check-reqs / pip-compile':<42} {ratio:>9.2f}x  {'<= 1.5x':>9}  "
        f"{verdict(ratio <= 1.5)}"
    )
    print(
        f"{'warm: check-reqs / pip-compile':<42} {warm_ratio:>9.2f}x  {'<= 1.0x':>9}  "
        f"{verdict(warm_ratio <= 1.0)}"
    )
    label = f"big freeze ({count} names) cold"
    print(
        f"{label:<42} {medians[big_key]:>8.2f} s  {'<= 4 s':>9}  "
        f"{verdict(medians[big_key] <= 4 and count >= BIG)}"
        + ("" if count >= BIG else f" (only {count} names, not {BIG})")
    )
    for key, what in (("check-reqs --write cold", "seed freeze"), (big_key, "big freeze")):
        print(
            f"{'peak memory, whole tree, ' + what + ' cold':<42} {tree[key]:>7.1f} MB  "
            f"{'<= 100 MB':>9}  {verdict(tree[key] <= 100)}"
        )


if __name__ == "__main__":
    main()
