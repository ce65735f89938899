"""An installed homedeploy (a built wheel, not this checkout) finds its template and example app."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_template_and_example_app(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("homedeploy-*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    assert "homedeploy/_bundled/Procfile.template" in names
    assert "homedeploy/_bundled/example_app/wsgi.py" in names
    assert "homedeploy/_bundled/example_app/Procfile" in names
    assert "homedeploy/_bundled/example_app/.python-version" in names
    assert not any("__pycache__" in name for name in names)
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import homedeploy.resources as r;"
            "print(r.procfile_template()); print(r.example_app_dir())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,  # not the checkout, whose homedeploy/ would shadow the wheel's
    )
    template, example = probe.stdout.split()
    assert template.startswith(str(unpacked)) and example.startswith(str(unpacked))
    project = tmp_path / "demo"
    completed = subprocess.run(
        [sys.executable, "-m", "homedeploy", "init", "--example", "--no-git", str(project)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    assert (project / "Procfile").is_file() and (project / "wsgi.py").is_file()
