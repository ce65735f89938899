"""The real case: homedataflask's 234-line Anaconda freeze in, a deployable requirements.txt out.

Uses the real package index pip is configured with (the only outside host tests may reach), so
these tests are slow and skip when ../shared is absent.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import free_port, run_homedeploy

from homedeploy.requirements.platform import TargetPlatform

HELLO = """\
from flask import Flask

application = Flask(__name__)


@application.route("/")
def hello():
    return "Hello from homedataflask"
"""
CONDA_OR_OS_ONLY = re.compile(
    r"^(conda|conda-build|anaconda-.*|navigator-updater|mkl-fft|mkl-random|clyent|blaze|odo|"
    r"datashape|pywin32|pywinpty|appscript|appnope|pyobjc.*|xlwings|gmpy2|pyodbc)$"
)


@pytest.fixture
def written_app(shared_dir: Path, tmp_path: Path) -> tuple[Path, dict]:
    app = tmp_path / "homedataflask"
    app.mkdir()
    (app / "hello.py").write_text(HELLO)
    procfile = (shared_dir / "realworld" / "homedataflask-Procfile").read_text()
    (app / "Procfile").write_text(procfile)
    freeze = shared_dir / "realworld" / "homedataflask-anaconda-freeze.txt"
    done = run_homedeploy(
        "check-reqs",
        str(freeze),
        "--app",
        str(app),
        "--write",
        "--json",
        env={"HOMEDEPLOY_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return app, json.loads(done.stdout)


def pins(app: Path) -> dict[str, str]:
    result = {}
    for line in (app / "requirements.txt").read_text().splitlines():
        if line and not line.startswith(("#", " ")):
            name, _, version = line.partition("==")
            result[name] = version
    return result


@pytest.mark.slow
def test_freeze_becomes_flask_and_gunicorn_with_wheels_for_heroku(
    written_app: tuple[Path, dict], tmp_path: Path
) -> None:
    app, report = written_app
    assert len([line for line in report["lines"] if line["line"] is not None]) == 234
    assert report["target"]["python"] == "3.14"
    pinned = pins(app)
    # The same 8 pins as before the needs model: Flask, gunicorn and what they require.
    assert set(pinned) == {
        "blinker",
        "click",
        "flask",
        "gunicorn",
        "itsdangerous",
        "jinja2",
        "markupsafe",
        "werkzeug",
    }
    assert report["mode"] == "freeze"
    assert not [name for name in pinned if CONDA_OR_OS_ONLY.match(name)]
    verdicts = {line["name"].lower(): line for line in report["lines"]}
    assert verdicts["conda"]["verdict"] == "drop"
    assert "not on the package index" in verdicts["conda"]["reason"]
    assert (
        "Windows or macOS" in verdicts["pywin32" if "pywin32" in verdicts else "appnope"]["reason"]
    )
    assert verdicts["flask"]["verdict"] == "repin"
    assert report["written"][1]["how"] == "resolved by pip for CPython 3.14 manylinux_2_39_x86_64"
    assert (app / "requirements.in").read_text().count("\n") >= 4

    # Every pin has a wheel for CPython 3.14 on Heroku: pip itself must find one for each.
    platforms = [arg for p in TargetPlatform("3.14").platforms() for arg in ("--platform", p)]
    download = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            "--python-version",
            "3.14",
            "--implementation",
            "cp",
            "--abi",
            "cp314",
            *platforms,
            "--no-deps",
            "-d",
            str(tmp_path / "wheels"),
            "-r",
            str(app / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert download.returncode == 0, download.stderr
    assert len(list((tmp_path / "wheels").glob("*.whl"))) == len(pinned)


@pytest.mark.slow
def test_written_requirements_install_and_the_app_serves(written_app: tuple[Path, dict]) -> None:
    app, _ = written_app
    venv.create(app / ".venv", with_pip=True)
    python = app / ".venv" / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(app / "requirements.txt")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    served = run_homedeploy("serve", str(app), "--check", "--port", str(free_port()), timeout=180)
    assert served.returncode == 0, served.stdout + served.stderr
