"""Small Flask project folders for doctor and rehearsal tests, built from a dict of files."""

from __future__ import annotations

import subprocess
from pathlib import Path

GOOD_APP = {
    "app.py": (
        "from flask import Flask\n\n"
        "app = Flask(__name__)\n\n\n"
        '@app.route("/")\n'
        "def index():\n"
        '    return "hello"\n'
    ),
    "requirements.txt": "Flask\ngunicorn\n",
    "Procfile": "web: gunicorn app:app\n",
    ".python-version": "3.12\n",
    ".gitignore": ".venv/\n__pycache__/\n",
}


def git(project: Path, *args: str) -> str:
    """Run git in ``project`` (the test's isolated identity comes from conftest)."""
    return subprocess.run(
        ["git", *args], cwd=project, check=True, capture_output=True, text=True
    ).stdout


def write_files(project: Path, files: dict[str, str | bytes | None]) -> None:
    """Create (or with None delete) files; folders are made as needed."""
    for name, content in files.items():
        path = project / name
        if content is None:
            if path.exists():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_app(
    project: Path,
    changes: dict[str, str | bytes | None] | None = None,
    *,
    base: dict[str, str | bytes | None] | None = None,
    commit: bool = True,
    git_init: bool = True,
) -> Path:
    """The good app with ``changes`` applied, committed on main unless told otherwise."""
    project.mkdir(parents=True, exist_ok=True)
    files: dict[str, str | bytes | None] = dict(GOOD_APP if base is None else base)
    files.update(changes or {})
    write_files(project, files)
    if git_init:
        git(project, "init", "-q", "-b", "main")
        if commit:
            git(project, "add", "--all")
            git(project, "commit", "-q", "-m", "app")
    return project


def fake_venv(folder: Path, *, python: bool = True) -> Path:
    """A folder that looks like a virtual environment (pyvenv.cfg, bin/, lib/)."""
    (folder / "bin").mkdir(parents=True, exist_ok=True)
    (folder / "lib" / "python3.12" / "site-packages").mkdir(parents=True, exist_ok=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n")
    (folder / "bin" / "activate").write_text("# activate\n")
    if python:
        (folder / "bin" / "python").write_text("#!/bin/sh\n")
    return folder
