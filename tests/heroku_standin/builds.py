"""The stand-in's "build": what Heroku's git server prints for a push, and the release it makes.

Called by the pre-receive hook of each bare repository (through the API server), with the
pushed refs. It looks at the pushed commit like the platform would (branch name, package manager
file, Procfile, .python-version) and answers the lines to print and the hook's exit code.
Without a plan, a requirement with no Linux build (pywin32, ...) or a conda-style
``name=ver=build`` line fails the way pip on Heroku fails. A test can queue a plan on the app
(``app.next_build``) to force an outcome:

- ``{"mode": "no_matching_distribution", "requirement": "pywin32==306"}``
- ``{"mode": "compile_failed"}`` (generic: Unable to install dependencies, Push rejected)
- ``{"mode": "release_failed"}`` (build fine, release phase fails: release status "failed")
- ``{"mode": "skip"}`` (answer as if the branch were not main/master: "skipping build", exit 0)
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

from .dynos import restart_web
from .state import StandInApp, State

ZERO = "0" * 40
# Packages with no Linux distribution: pip on Heroku cannot install them.
WINDOWS_ONLY = re.compile(r"^(pywin32|pywinpty|pypiwin32|wmi|comtypes)\b", re.IGNORECASE)
MANAGER_FILES = ("requirements.txt", "Pipfile.lock", "poetry.lock", "uv.lock")


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str | None:
    # In pre-receive the pushed objects are still in quarantine: use the hook's object dirs.
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run(
        ["git", "--git-dir", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        env=full_env,
    )
    return done.stdout if done.returncode == 0 else None


def _procfile_types(text: str | None) -> dict[str, str]:
    types: dict[str, str] = {}
    for line in (text or "").splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            if name.strip().replace("_", "").replace("-", "").isalnum():
                types.setdefault(name.strip(), command.strip())
    return types


def _rejected(app: StandInApp, lines: list[str]) -> dict[str, Any]:
    tail = ["", " !     Push rejected, failed to compile Python app.", "", " !     Push failed"]
    tail += ["Verifying deploy...", "", f"!\tPush rejected to {app.name}.", ""]
    app.log("app[api]", "Build failed")
    return {"lines": lines + tail, "exit": 1}


def receive(
    state: State, repo: Path, updates: list[list[str]], env: dict[str, str]
) -> dict[str, Any]:
    """Lines for the hook to print and its exit code, for one push to ``repo``."""
    name = repo.name.removesuffix(".git")
    with state.lock:
        app = state.apps.get(name)
        if app is None:
            return {"lines": [" !     No such app as " + name + "."], "exit": 1}
        for _old, new, ref in updates:
            forced_skip = bool(app.next_build) and app.next_build[0].get("mode") == "skip"
            if forced_skip:
                app.next_build.pop(0)
            if forced_skip or ref not in ("refs/heads/main", "refs/heads/master"):
                return {
                    "lines": ["Pushed to branch other than [main, master], skipping build."],
                    "exit": 0,
                }
            if new == ZERO:
                return {"lines": ["!\tPush rejected, cannot delete master branch"], "exit": 1}
            return _build(state, app, repo, new, env)
    return {"lines": [], "exit": 0}


def _build(
    state: State, app: StandInApp, repo: Path, sha: str, env: dict[str, str]
) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        return _git(repo, *args, env=env)

    plan = app.next_build.pop(0) if app.next_build else {"mode": "auto"}
    mode = plan.get("mode", "auto")
    files = set((git("ls-tree", "--name-only", sha) or "").split())
    lines = [
        "Compressing source files... done.",
        "Building source:",
        "",
        "-----> Building on the Heroku-24 stack",
        "-----> Using buildpack: heroku/python",
    ]
    if not any(f in files for f in MANAGER_FILES):
        lines += [
            "-----> App not compatible with buildpack: https://buildpack-registry.s3.amazonaws.com/"
            "buildpacks/heroku/python.tgz",
            "",
            " !     Error: Your app is configured to use the Python buildpack,",
            " !     but we couldn't find any supported Python project files.",
            "",
            "       More info: https://devcenter.heroku.com/articles/buildpacks#buildpack-auto-detection",
        ]
        return _rejected(app, lines)
    lines.append("-----> Python app detected")
    version_text = (git("show", f"{sha}:.python-version") or "").strip()
    if version_text:
        lines.append(f"-----> Using Python {version_text} specified in .python-version")
    else:
        lines += [
            "-----> No Python version was specified. Using the buildpack default: Python 3.14",
            "",
            " !     Warning: No Python version was specified.",
            "",
        ]
    major = version_text or "3.14"
    lines += [
        f"-----> Installing Python {major}.0",
        "-----> Installing pip 26.2.1",
        "-----> Installing dependencies using 'pip install -r requirements.txt'",
    ]
    requirements = (git("show", f"{sha}:requirements.txt") or "").splitlines()
    for requirement in requirements:
        requirement = requirement.split("#")[0].strip()
        if not requirement or requirement.startswith("-"):
            continue
        if mode == "auto" and re.match(r"^[A-Za-z0-9_.-]+=[^=]", requirement):
            # a conda `name=version=build` line, as pip on Heroku reports it
            lines += [
                f"       ERROR: Invalid requirement: '{requirement}': Expected end or semicolon",
                "",
                " !     Error: Unable to install dependencies using pip.",
                " !",
                " !     See the log output above for more information.",
            ]
            return _rejected(app, lines)
        lines.append(f"       Collecting {requirement}")
        if mode == "auto" and WINDOWS_ONLY.match(requirement):
            plan = {"requirement": requirement}
            mode = "no_matching_distribution"
            break
    if mode == "no_matching_distribution":
        requirement = plan.get("requirement", "pywin32==306")
        lines += [
            f"       ERROR: Could not find a version that satisfies the requirement {requirement} "
            "(from versions: none)",
            f"       ERROR: No matching distribution found for {requirement}",
            "",
            " !     Error: Unable to install dependencies using pip.",
            " !",
            " !     See the log output above for more information.",
        ]
        return _rejected(app, lines)
    if mode == "compile_failed":
        lines += ["", " !     Error: Unable to install dependencies using pip.", " !"]
        return _rejected(app, lines)
    types = _procfile_types(git("show", f"{sha}:Procfile"))
    lines += ["       Successfully installed the requirements", "-----> Saving cache"]
    lines += ["-----> Discovering process types"]
    if types:
        lines.append(f"       Procfile declares types -> {', '.join(types)}")
    else:
        lines.append("       Procfile declares types -> (none)")
    app.set_process_types(types)
    release = app.add_release(
        f"Deploy {sha[:8]}",
        status="failed" if mode == "release_failed" else "succeeded",
        slug=str(uuid.uuid4()),
    )
    lines += [
        "",
        "-----> Compressing...",
        "       Done: 23.1M",
        "-----> Launching...",
        f"       Released v{release['version']}",
        f"       {app.web_url} deployed to Heroku",
        "",
        "Verifying deploy... done.",
    ]
    app.slug_commits[release["slug"]["id"]] = sha
    app.slug_types[release["slug"]["id"]] = types
    if state.run_dynos and release["status"] == "succeeded":
        restart_web(state.repos, app, sha, env)
    if "web" in types and release["status"] == "succeeded" and not state.run_dynos:
        app.log("heroku[web.1]", f"Starting process with command `{types['web']}`")
        app.log("app[web.1]", "[INFO] Listening at: http://0.0.0.0:31337")
        app.log("heroku[web.1]", "State changed from starting to up")
    return {"lines": lines, "exit": 0}
