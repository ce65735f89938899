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


@pytest.fixture
def local_package_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The test package index (tests/local_index.py) on 127.0.0.1, with pip and homedeploy
    pointed at it only (and a private cache)."""
    from local_index import PROJECTS, LocalIndex, pip_env

    with LocalIndex(PROJECTS) as served:
        for key, value in pip_env(served.url, tmp_path / "cache").items():
            monkeypatch.setenv(key, value)
        yield served


def pip_file_indexes() -> list[str]:
    """The file:// indexes in pip's own configuration (the machine's local mirror), if any."""
    from homedeploy.requirements.index import pip_index_sources

    return [url for url in pip_index_sources().index_urls if url.startswith("file:")]


@pytest.fixture
def local_pip_indexes(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip (as the rehearsal runs it) uses only the file:// indexes of its configuration,
    never a remote index; skips when there are none."""
    urls = pip_file_indexes()
    if not urls:
        pytest.skip("pip has no local (file://) index configured")
    monkeypatch.setenv("PIP_INDEX_URL", urls[0])
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", " ".join(urls[1:]))
