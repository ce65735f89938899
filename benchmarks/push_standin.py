"""Benchmark: ``homedeploy push`` and the Heroku commands against the local Heroku stand-in.

What homedeploy itself adds around a deploy: the same push done with plain ``git push`` (the
stand-in's build and hook cost the same on both sides) versus ``homedeploy push`` (key lookup,
API checks, buildpack, remote, push, release and HTTP verification, doctor included). Also the
cost of listing 1,000 apps over 200-item pages, and ``homedeploy --help``. Run by hand:

    .venv/bin/python benchmarks/push_standin.py [--runs 5]

Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from heroku_standin import HerokuStandIn  # noqa: E402

BIN = Path(sys.executable).parent


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def commit(project: Path, env: dict[str, str], number: int) -> None:
    (project / "CHANGES.txt").write_text(f"change {number}\n")
    subprocess.run(["git", "add", "CHANGES.txt"], cwd=project, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", f"c{number}"], cwd=project, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, HerokuStandIn() as standin:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / ".gitconfig").write_text(
            "[user]\n\tname = bench\n\temail = bench@example.invalid\n"
            "[init]\n\tdefaultBranch = main\n"
        )
        env = {**os.environ, **standin.env(), "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
        env.pop("GIT_CONFIG_GLOBAL", None)
        project = Path(tmp) / "hello"
        subprocess.run(
            [str(BIN / "homedeploy"), "init", str(project)],
            env=env,
            check=True,
            capture_output=True,
        )
        first = timed(
            [str(BIN / "homedeploy"), "push", "--create", "--app", "bench-app"], project, env
        )
        from homedeploy.heroku.git import credential_env

        git_env = {**env, **credential_env(standin.key, standin.git_url)}
        plain, ours = [], []
        for run in range(args.runs):
            commit(project, env, 2 * run)
            plain.append(
                timed(["git", "push", "-q", "heroku", "HEAD:refs/heads/main"], project, git_env)
            )
            commit(project, env, 2 * run + 1)
            ours.append(timed([str(BIN / "homedeploy"), "push"], project, env))
        with standin.state.lock:
            from heroku_standin.state import StandInApp

            for number in range(1000):
                name = f"bench-{number:04d}"
                standin.state.apps[name] = StandInApp(name=name)
        standin.state.page_size = 200
        apps = [
            timed([str(BIN / "homedeploy"), "apps", "--json"], project, env)
            for _ in range(args.runs)
        ]
        helps = [timed([str(BIN / "homedeploy"), "--help"], project, env) for _ in range(args.runs)]
        pages = len(standin.requests_to("GET", "^/users/~/apps$")) // args.runs
    med = statistics.median
    print(f"first push --create (doctor, create, build, verify): {first:.2f} s")
    print(f"redeploy, plain git push:      median {med(plain):.2f} s  ({args.runs} runs)")
    print(
        f"redeploy, homedeploy push:     median {med(ours):.2f} s  "
        f"(+{med(ours) - med(plain):.2f} s for doctor, API checks and HTTP verification)"
    )
    print(f"homedeploy apps, 1001 apps:    median {med(apps):.2f} s  ({pages} pages each)")
    print(f"homedeploy --help:             median {med(helps) * 1000:.0f} ms (target < 300 ms)")


if __name__ == "__main__":
    main()
