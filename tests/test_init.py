"""``homedeploy init``: scaffold, adopt, example, force/backups, git and every bad input."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import invoke, run_homedeploy

FLASK_APP = "from flask import Flask\n{name} = Flask(__name__)\n"


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def test_scaffold_empty_folder(tmp_project: Path) -> None:
    result = invoke("init", str(tmp_project))
    assert result.exit_code == 0, result.output
    for name in (
        "hello.py",
        "wsgi.py",
        "Procfile",
        ".python-version",
        "requirements.in",
        "requirements.txt",
        ".gitignore",
    ):
        assert (tmp_project / name).is_file(), name
    assert (tmp_project / "Procfile").read_text() == "web: gunicorn wsgi:app\n"
    assert (tmp_project / ".python-version").read_text() == "3.14\n"
    requirements = (tmp_project / "requirements.txt").read_text().lower()
    assert "flask==" in requirements and "gunicorn==" in requirements
    ignored = (tmp_project / ".gitignore").read_text()
    assert ".venv/" in ignored and ".env" in ignored and "__pycache__/" in ignored
    assert git(tmp_project, "branch", "--show-current").strip() == "main"
    tracked = git(tmp_project, "ls-files").split()
    assert "Procfile" in tracked and "hello.py" in tracked
    assert git(tmp_project, "status", "--porcelain") == ""
    assert "Scaffolded" in result.output and "serve" in result.output


def test_new_folder_is_created_and_python_option(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "new"
    result = invoke("init", str(target), "--python", "3.12", "--no-git")
    assert result.exit_code == 0, result.output
    assert (target / ".python-version").read_text() == "3.12\n"
    assert not (target / ".git").exists()


@pytest.mark.parametrize(
    ("value", "fragment"), [("3.9", "does not build"), ("python-3.12", "not a version")]
)
def test_bad_python_option(tmp_project: Path, value: str, fragment: str) -> None:
    result = invoke("init", str(tmp_project), "--python", value)
    assert result.exit_code == 2
    assert fragment in result.output
    assert list(tmp_project.iterdir()) == []


def test_adopt_seed_renamed_object_generates_wsgi_and_procfile(tmp_project: Path) -> None:
    (tmp_project / "hello.py").write_text(FLASK_APP.format(name="application"))
    result = invoke("init", str(tmp_project))
    assert result.exit_code == 0, result.output
    assert (tmp_project / "Procfile").read_text() == "web: gunicorn wsgi:application\n"
    wsgi = (tmp_project / "wsgi.py").read_text()
    assert "from hello import application" in wsgi
    # The user's file is untouched and the variable is never renamed.
    assert (tmp_project / "hello.py").read_text() == FLASK_APP.format(name="application")


def test_adopt_factory_in_src_layout(tmp_project: Path) -> None:
    package = tmp_project / "src" / "shop"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from flask import Flask\n\ndef create_app():\n    return Flask('shop')\n"
    )
    result = invoke("init", str(tmp_project), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["app_target"] == "shop:create_app()"
    assert (tmp_project / "Procfile").read_text() == "web: gunicorn --pythonpath src wsgi:app\n"
    assert "app = create_app()" in (tmp_project / "wsgi.py").read_text()


def test_adopt_existing_wsgi_reexport_is_used(tmp_project: Path) -> None:
    (tmp_project / "hello.py").write_text(FLASK_APP.format(name="thisapp"))
    (tmp_project / "wsgi.py").write_text("from hello import thisapp\n")
    result = invoke("init", str(tmp_project), "--no-git")
    assert result.exit_code == 0, result.output
    assert (tmp_project / "Procfile").read_text() == "web: gunicorn wsgi:thisapp\n"
    assert (tmp_project / "wsgi.py").read_text() == "from hello import thisapp\n"


def test_existing_files_are_kept_without_force(tmp_project: Path) -> None:
    (tmp_project / "hello.py").write_text(FLASK_APP.format(name="app"))
    (tmp_project / "Procfile").write_text("web: gunicorn hello:app --workers 3\n")
    (tmp_project / "requirements.txt").write_text("Flask\ngunicorn\nnumpy\n")
    result = invoke("init", str(tmp_project), "--no-git")
    assert result.exit_code == 0, result.output
    assert (tmp_project / "Procfile").read_text() == "web: gunicorn hello:app --workers 3\n"
    assert (tmp_project / "requirements.txt").read_text() == "Flask\ngunicorn\nnumpy\n"
    assert "kept" in result.output
    assert "web: gunicorn hello:app --workers 3" in result.output  # what will really run


def test_force_replaces_with_backup(tmp_project: Path) -> None:
    (tmp_project / "hello.py").write_text(FLASK_APP.format(name="application"))
    (tmp_project / "Procfile").write_text("web: gunicorn hello:app\n")
    result = invoke("init", str(tmp_project), "--force", "--no-git")
    assert result.exit_code == 0, result.output
    assert (tmp_project / "Procfile").read_text() == "web: gunicorn wsgi:application\n"
    assert (tmp_project / "Procfile.bak").read_text() == "web: gunicorn hello:app\n"
    again = invoke("init", str(tmp_project), "--force", "--no-git")
    assert again.exit_code == 0
    assert (tmp_project / "Procfile.bak.1").exists()


def test_several_candidates_ask_for_app(tmp_project: Path) -> None:
    (tmp_project / "one.py").write_text(FLASK_APP.format(name="app"))
    (tmp_project / "two.py").write_text(FLASK_APP.format(name="admin"))
    result = invoke("init", str(tmp_project), "--no-git")
    assert result.exit_code == 2
    assert (
        "one:app" in result.output and "two:admin" in result.output and "--target" in result.output
    )
    assert not (tmp_project / "Procfile").exists()
    chosen = invoke("init", str(tmp_project), "--no-git", "--target", "two:admin")
    assert chosen.exit_code == 0, chosen.output
    assert (tmp_project / "Procfile").read_text() == "web: gunicorn wsgi:admin\n"


def test_unknown_app_option(tmp_project: Path) -> None:
    (tmp_project / "one.py").write_text(FLASK_APP.format(name="app"))
    result = invoke("init", str(tmp_project), "--no-git", "--target", "nope:app")
    assert result.exit_code == 2
    assert "one:app" in result.output


def test_syntax_error_is_reported_and_scan_continues(tmp_project: Path) -> None:
    (tmp_project / "broken.py").write_text("def f(:\n")
    (tmp_project / "hello.py").write_text(FLASK_APP.format(name="app"))
    result = invoke("init", str(tmp_project), "--no-git")
    assert result.exit_code == 0, result.output
    assert "broken.py:1" in result.output


def test_no_flask_app_found(tmp_project: Path) -> None:
    (tmp_project / "broken.py").write_text("def f(:\n")
    (tmp_project / "main.py").write_text("print('hello')\n")
    result = invoke("init", str(tmp_project), "--no-git")
    assert result.exit_code == 2
    assert "no Flask app found" in result.output and "broken.py:1" in result.output
    assert "Traceback" not in result.output


def test_path_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = invoke("init", str(target))
    assert result.exit_code == 2 and "is a file" in result.output


def test_folder_inside_another_repository(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    inner = tmp_path / "sub"
    inner.mkdir()
    result = invoke("init", str(inner))
    assert result.exit_code == 2
    assert "inside another git repository" in result.output
    assert list(inner.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_unreadable_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        result = invoke("init", str(locked))
        assert result.exit_code == 2 and "not readable" in result.output
    finally:
        locked.chmod(0o755)


def test_missing_git_identity_says_how(tmp_project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("[user]\n\tuseConfigOnly = true\n")  # no guess from the host name
    env = {"GIT_CONFIG_GLOBAL": str(empty), "HOME": str(tmp_path), "EMAIL": ""}
    completed = run_homedeploy("init", str(tmp_project), env=env)
    assert completed.returncode == 2, completed.stderr
    assert "git config --global user.name" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert list(tmp_project.iterdir()) == []


@pytest.mark.parametrize(
    "identity",
    [
        {
            "GIT_AUTHOR_NAME": "CI",
            "GIT_AUTHOR_EMAIL": "ci@example.invalid",
            "GIT_COMMITTER_NAME": "CI",
            "GIT_COMMITTER_EMAIL": "ci@example.invalid",
        },
        {"EMAIL": "someone@example.invalid"},
    ],
)
def test_git_identity_from_the_environment(
    tmp_project: Path, tmp_path: Path, identity: dict[str, str]
) -> None:
    """An identity only the environment gives (as CI systems do) is one git accepts."""
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    env = {"GIT_CONFIG_GLOBAL": str(empty), "HOME": str(tmp_path), **identity}
    completed = run_homedeploy("init", str(tmp_project), env=env)
    assert completed.returncode == 0, completed.stderr
    log = subprocess.run(
        ["git", "log", "-1", "--format=%ae %ce"],
        cwd=tmp_project,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    email = identity.get("GIT_AUTHOR_EMAIL") or identity["EMAIL"]
    assert log.stdout.split() == [email, email]


def test_existing_repository_is_not_committed(tmp_project: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_project)], check=True)
    (tmp_project / "hello.py").write_text(FLASK_APP.format(name="app"))
    result = invoke("init", str(tmp_project))
    assert result.exit_code == 0, result.output
    assert "git add" in result.output
    assert (
        subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=tmp_project, capture_output=True
        ).returncode
        != 0
    )


def test_example_copies_the_bundled_app(tmp_project: Path) -> None:
    result = invoke("init", str(tmp_project), "--example", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["mode"] == "example"
    assert (tmp_project / "Procfile").is_file()
    assert (tmp_project / "wsgi.py").is_file()
    assert git(tmp_project, "status", "--porcelain") == ""


def test_python_m_homedeploy_and_help() -> None:
    completed = run_homedeploy("--help")
    assert completed.returncode == 0
    for command in ("init", "serve"):
        assert command in completed.stdout
    assert "--force" in run_homedeploy("init", "--help").stdout
