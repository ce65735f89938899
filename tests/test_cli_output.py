"""Output that fits: COLUMNS=80 and piped output for check-reqs, doctor, apps and releases; no
box characters in a pipe or with NO_COLOR; -v/-q on every command."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from heroku_standin import HerokuStandIn
from local_index import PROJECTS, LocalIndex, pip_env

BOX = re.compile("[\u2500-\u257f]")  # box drawing characters
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG_APP = "a-very-long-application-name-x"  # 30 characters, Heroku's maximum


def homedeploy(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homedeploy", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "80", **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def in_terminal(*args: str, cwd: Path, env: dict[str, str]) -> str:
    """Run homedeploy on a pseudo-terminal of 80 columns; its whole output."""
    main, child = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "homedeploy", *args],
        cwd=cwd,
        stdin=child,
        stdout=child,
        stderr=child,
        env={**os.environ, **env},
    )
    os.close(child)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    os.close(main)
    return output.decode(errors="replace")


def assert_fits(text: str, width: int = 80) -> None:
    for line in text.splitlines():
        assert len(line) <= width, f"{len(line)} columns: {line!r}"
    assert not BOX.search(text), "box characters in plain output"


# ---- check-reqs


@pytest.fixture
def index_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    with LocalIndex(PROJECTS) as served:
        values = pip_env(served.url, tmp_path / "cache")
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        yield values


CONDA_NAMES = ["anaconda-client", "conda-build", "navigator-updater", "clyent", "datashape"]
UNKNOWN = [f"in-house-tool-number-{n}" for n in range(1, 8)]


def freeze_project(folder: Path) -> Path:
    folder.mkdir()
    (folder / "hello.py").write_text("from flask import Flask\napplication = Flask(__name__)\n")
    (folder / "Procfile").write_text("web: gunicorn hello:application\n")
    lines = ["Flask==1.0.2", "gunicorn==19.9.0", "six==1.17.0", "appnope==0.1.4"]
    lines += [f"{name}==1.0.0" for name in CONDA_NAMES + UNKNOWN]
    (folder / "requirements.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.usefixtures("index_env")
def test_check_reqs_groups_alike_lines_and_fits_80_columns(tmp_path: Path) -> None:
    project = freeze_project(tmp_path / "app")
    grouped = homedeploy("check-reqs", "requirements.txt", cwd=project)
    assert grouped.returncode == 1, grouped.stderr
    assert_fits(grouped.stdout.split("\n", 1)[1])  # the first line is a sentence, not a table
    assert "12 lines: not on the package" in grouped.stdout
    for name in ("in-house-tool-number-1", "conda-build", "navigator-updater"):
        assert name in grouped.stdout  # listed in the group's row, never cut
    assert grouped.stdout.count("in-house-tool-number") == len(UNKNOWN)
    every = homedeploy("check-reqs", "requirements.txt", "--all", cwd=project)
    assert_fits(every.stdout.split("\n", 1)[1])
    assert "12 lines:" not in every.stdout
    for number in range(5, 17):
        assert re.search(rf"^\s*{number}\s", every.stdout, re.M), number
    assert len(every.stdout.splitlines()) > len(grouped.stdout.splitlines())


# ---- doctor


def test_doctor_collapses_one_rule_into_one_finding(tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "hello.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (project / "Procfile").write_text("web: gunicorn hello:app\n")
    (project / ".python-version").write_text("3.12\n")
    names = ["anaconda-client", "conda", "conda-build", "clyent", "pywin32"]
    (project / "requirements.txt").write_text(
        "flask\ngunicorn\n" + "".join(f"{n}==1.0\n" for n in names)
    )
    done = homedeploy("doctor", ".", "--offline", cwd=project)
    assert done.returncode == 1
    assert not BOX.search(done.stdout)
    assert done.stdout.count("(requirement-never-installs)") == 1
    assert "requirements.txt 5 lines (requirement-never-installs)" in done.stdout
    for number, name in enumerate(names, start=3):
        assert re.search(rf"^\s+{number} '{name}==1.0' ", done.stdout, re.M), name
    assert "requirements.txt:3" not in done.stdout  # the location is not repeated per line
    assert done.stdout.count("fix: delete the line") == 1


# ---- apps and releases


@pytest.fixture
def long_names(standin: HerokuStandIn) -> HerokuStandIn:
    app = standin.add_app(LONG_APP)
    for number in range(3):
        app.add_release(
            f"Deploy {number:07x} with a long description of what changed in it",
            slug=f"6a1c9c8e-4f1e-4a55-9d1d-1f7d2b3c4d{number:02d}",
        )
    standin.add_app("short")
    return standin


def test_apps_and_releases_fit_80_columns_in_a_pipe(
    long_names: HerokuStandIn, tmp_path: Path
) -> None:
    apps = homedeploy("apps", cwd=tmp_path)
    assert apps.returncode == 0, apps.stderr
    assert_fits(apps.stdout)
    url = long_names.state.apps[LONG_APP].web_url
    assert url in apps.stdout  # whole, on one line
    releases = homedeploy("releases", "-a", LONG_APP, cwd=tmp_path)
    assert releases.returncode == 0, releases.stderr
    assert_fits(releases.stdout)
    assert "dev@example.com" in releases.stdout and "v4" in releases.stdout
    assert (
        "succeeded (current)" in releases.stdout.replace("\n", " ") or "current" in releases.stdout
    )


def test_terminal_gets_a_table_and_no_color_gets_plain_text(
    long_names: HerokuStandIn, tmp_path: Path
) -> None:
    args = ("releases", "-a", LONG_APP)
    coloured = in_terminal(*args, cwd=tmp_path, env={"TERM": "xterm-256color"})
    assert ANSI.search(coloured) and BOX.search(coloured)
    plain = in_terminal(*args, cwd=tmp_path, env={"TERM": "xterm-256color", "NO_COLOR": "1"})
    assert not BOX.search(plain) and not re.search(r"\x1b\[[0-9;]*3\dm", plain)
    assert "v4" in plain and "dev@example.com" in plain
    for text in (coloured, plain):
        for line in ANSI.sub("", text).splitlines():
            assert len(line.rstrip("\r")) <= 80, line
    # a table that cannot fit 80 columns without breaking a URL becomes one block per row
    apps = ANSI.sub("", in_terminal("apps", cwd=tmp_path, env={"TERM": "xterm-256color"}))
    assert f"web URL: {long_names.state.apps[LONG_APP].web_url}" in apps


# ---- -v / -q


def test_verbose_shows_api_calls_without_the_key(long_names: HerokuStandIn, tmp_path: Path) -> None:
    done = homedeploy("releases", "-a", LONG_APP, "-v", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "GET /account -> 200" in done.stderr
    assert f"GET /apps/{LONG_APP}/releases -> 200" in done.stderr
    assert long_names.key not in done.stderr + done.stdout
    quiet = homedeploy("-q", "releases", "-a", LONG_APP, cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "" and "v4" in quiet.stdout


def test_every_command_takes_verbose_and_quiet() -> None:
    import click

    from homedeploy.cli import cli

    def walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
        yield path, command
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, f"{path} {name}")

    for path, command in walk(cli, "homedeploy"):
        flags = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert {"-v", "--verbose", "-q", "--quiet"} <= flags, path
