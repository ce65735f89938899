"""The build cache's key: what a pip build depends on (no venv is built here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from homedeploy.project.venv import find_interpreter
from homedeploy.runtime.build_cache import pip_build_inputs


def _inputs(folder: Path, requirements: str, tree: str = "tree-1") -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.txt").write_text(requirements)
    return pip_build_inputs(folder, find_interpreter(None), tree, "pip install").inputs


@pytest.mark.parametrize(
    "line",
    [
        "-e .",
        "./libs/mine",
        "mine @ file:///srv/mine",
        "--find-links ./wheels",
        "-f wheels",
        "--index-url=file:///srv/index",
        "libs/mine",
        "vendor/mine-1.0-py3-none-any.whl",
        "mine-1.0.tar.gz",
    ],
)
def test_installs_from_local_files_key_on_the_tree(tmp_path: Path, line: str) -> None:
    assert _inputs(tmp_path, f"flask\n{line}\n")["tree"] == "tree-1"


@pytest.mark.parametrize(
    "line",
    [
        "flask==3.1.3",
        "--extra-index-url https://example.test/simple",
        "mine @ https://example.test/mine-1.0-py3-none-any.whl",
        "git+https://example.test/mine.git@v1#egg=mine",
        'flask>=3; python_version >= "3.9"',
    ],
)
def test_requirements_alone_do_not_key_on_the_tree(tmp_path: Path, line: str) -> None:
    assert "tree" not in _inputs(tmp_path, f"{line}\n")


def test_included_files_are_inputs_too(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("flask\n")
    before = _inputs(tmp_path, "-r base.txt\ngunicorn\n")
    (tmp_path / "base.txt").write_text("Flask\n")
    after = _inputs(tmp_path, "-r base.txt\ngunicorn\n")
    assert before["file requirements.txt"] == after["file requirements.txt"]
    assert before["file base.txt:base.txt"] != after["file base.txt:base.txt"]


def test_the_python_heroku_builds_with_is_an_input(tmp_path: Path) -> None:
    """With another minor here, the rehearsal resolves requirements.in again when the pins do
    not install: a build approximated for .python-version 3.X must not be reused once
    .python-version names this interpreter's minor (there requirements.txt must install, as on
    Heroku), nor after requirements.in changed."""
    interpreter = find_interpreter(None)
    other = f"3.{int(interpreter.major.split('.')[1]) + 1}.0"
    same = f"{interpreter.major}.99"
    (tmp_path / "requirements.txt").write_text("flask==3.1.3\n")
    (tmp_path / "requirements.in").write_text("flask\n")

    def key(heroku: str) -> str:
        return pip_build_inputs(tmp_path, interpreter, "t", "pip install", heroku).key

    approximate, exact = key(other), key(same)
    assert approximate != exact
    (tmp_path / "requirements.in").write_text("flask<3\n")
    assert key(other) != approximate  # the fallback's source changed
    assert key(same) == exact  # requirements.in is not read when the minor is the same
