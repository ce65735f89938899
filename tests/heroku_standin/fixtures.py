"""pytest fixtures: a running stand-in wired into the environment, and a deployable project."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import HerokuStandIn


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HerokuStandIn]:
    """A fresh stand-in; homedeploy (in-process and subprocesses) talks only to it.

    HOME points at an empty folder so the user's ~/.netrc is never read. A request or answer
    that breaks Heroku's schema fails the test at teardown.
    """
    yield from _running_standin(monkeypatch, tmp_path, run_dynos=False)


@pytest.fixture
def standin_with_dynos(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HerokuStandIn]:
    """Like ``standin``, but each release really runs its web command (see dynos.py)."""
    yield from _running_standin(monkeypatch, tmp_path, run_dynos=True)


def _running_standin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, run_dynos: bool
) -> Iterator[HerokuStandIn]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NETRC", raising=False)
    server = HerokuStandIn(root=tmp_path / "standin", run_dynos=run_dynos).start()
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HOMEDEPLOY_VERIFY_TIMEOUT", "3")
    try:
        yield server
    finally:
        server.stop()
    assert not server.state.schema_errors, "\n".join(server.state.schema_errors)


def git(project: Path | str, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def flask_project(tmp_path: Path) -> Path:
    """A committed Flask project as `homedeploy init` makes it (Procfile, requirements...)."""
    from conftest import invoke

    project = tmp_path / "hello"
    result = invoke("init", str(project))
    assert result.exit_code == 0, result.output
    if not (project / ".git").is_dir():
        git(project, "init", "-q")
    git(project, "add", "-A")
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True).returncode:
        git(project, "commit", "-q", "-m", "first")
    return project


def commit_change(project: Path, text: str = "# change\n") -> str:
    """Append to hello.py (or README) and commit; returns the new sha."""
    target = project / "CHANGES.txt"
    with target.open("a", encoding="utf-8") as handle:
        handle.write(text)
    git(project, "add", "CHANGES.txt")
    git(project, "commit", "-q", "-m", "change")
    return git(project, "rev-parse", "HEAD")
