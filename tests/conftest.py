"""Shared fixtures: the ../shared folder (skipped when absent), free ports, CLI runner."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

# Property tests judge correctness, not speed: on a loaded 2-core CI machine Hypothesis' own
# "data generation is too slow" health check and per-example deadline would fail them by timing.
settings.register_profile("homedeploy", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("homedeploy")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# The Heroku stand-in's fixtures (`standin`, `flask_project`): tests/heroku_standin/fixtures.py
pytest_plugins = ["heroku_standin.fixtures"]


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip cleanly when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(autouse=True)
def _isolated_git_identity(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Give git an identity and a private global config so tests never touch the user's."""
    home = tmp_path_factory.mktemp("gitglobal")
    cfg = home / ".gitconfig"
    cfg.write_text(
        "[user]\n\tname = homedeploy tests\n\temail = tests@homedeploy.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # serve would build .venv from requirements.txt (pip, the index) in every test that serves;
    # the tests of that behaviour unset it.
    monkeypatch.setenv("HOMEDEPLOY_NO_SYNC", "1")
    monkeypatch.delenv("HEROKU_API_KEY", raising=False)
    monkeypatch.delenv("HEROKU_APP", raising=False)


@pytest.fixture
def cli_runner() -> CliRunner:
    return CliRunner()


def invoke(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """Run ``homedeploy ARGS`` in-process with Click's runner (stdout and stderr kept apart)."""
    from homedeploy.cli import cli

    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


def run_homedeploy(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m homedeploy ARGS`` as a real subprocess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "homedeploy", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def tmp_project(tmp_path: Path) -> Iterator[Path]:
    """An empty folder for a project, outside any git repository."""
    project = tmp_path / "project"
    project.mkdir()
    yield project
