"""CLI conventions: -a/--app is the Heroku app, --target the Flask object, wrong option values
exit 2 with a line (never a traceback), init --ci github."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke

FLASK_APP = (
    'from flask import Flask\napp = Flask(__name__)\n\n@app.get("/")\ndef index():\n'
    '    return "hi"\n'
)


def homedeploy(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homedeploy", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80", **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "hello.py").write_text(FLASK_APP)
    (folder / "requirements.txt").write_text("flask\ngunicorn\n")
    return folder


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("serve", ".", "--app", "myapp"), "--target MODULE:VAR"),
        (("init", ".", "--no-git", "--app", "hello:app"), "--target MODULE:VAR"),
        (("serve", ".", "--check", "--target", "myapp"), "there is no module myapp"),
        (("serve", ".", "--check", "--target", "not a target"), "is not MODULE:VAR"),
        (("serve", ".", "--port", "99999"), "99999"),
        (("serve", ".", "--boot-timeout", "soon"), "soon"),
        (("serve", ".", "--json"), "--json goes with --check"),
        (("init", ".", "--ci", "travis"), "travis"),
        (("init", ".", "--python", "2.7"), "2.7"),
        (("check-reqs", "--python", "banana", "--offline"), "banana"),
        (("doctor", "--bogus"), "No such option"),
        (("logs", "-a", "demo-app", "-n", "0"), "0"),
        (("logs", "-a", "Not_An_App"), "not a valid Heroku app name"),
        (("push", "--region", "mars"), "mars"),
        (("push", ".", "--keep"), "--keep goes with --local"),
        (("maintenance", "maybe", "-a", "demo-app"), "maybe"),
        (("completion", "tcsh"), "tcsh"),
        (("addons", "destroy", "x", "-a", "demo-app"), "--confirm APP"),
        (("run", "-a", "demo-app", "-e", "oops", "bash"), "'oops' is not KEY=VALUE"),
        (("config", "set", "NOVALUE", "-a", "demo-app"), "is not KEY=VALUE"),
        (("ps", "-a", "demo-app", "-r", "staging"), "give one"),
    ],
)
def test_wrong_option_values_exit_2_without_traceback(
    project: Path, args: tuple[str, ...], says: str
) -> None:
    env = {"HEROKU_API_KEY": "", "HOMEDEPLOY_NO_KEYCHAIN": "1", "HOME": str(project)}
    done = homedeploy(*args, cwd=project, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 5  # a line (and a fix, or Click's usage)


def test_init_ci_github_writes_the_deploy_workflow(tmp_path: Path) -> None:
    project = tmp_path / "app"
    result = invoke("init", str(project), "--ci", "github")
    assert result.exit_code == 0, result.output
    workflow = (project / ".github" / "workflows" / "deploy.yml").read_text()
    assert "branches: [main]" in workflow
    assert "run: homedeploy doctor" in workflow and "run: homedeploy push" in workflow
    assert "HEROKU_API_KEY: ${{ secrets.HEROKU_API_KEY }}" in workflow
    assert "fetch-depth: 0" in workflow and "python-version-file: .python-version" in workflow
    committed = subprocess.run(
        ["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.split()
    assert ".github/workflows/deploy.yml" in committed
    again = invoke("init", str(project), "--ci", "github")
    assert again.exit_code == 0
    assert ".github/workflows/deploy.yml" in again.output and "kept" in again.output


def test_serve_target_picks_the_flask_object(project: Path) -> None:
    (project / "admin.py").write_text(
        FLASK_APP.replace("app = ", "admin = ").replace("@app", "@admin")
    )
    done = homedeploy("serve", ".", "--check", "--target", "admin:admin", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert '"ok": true' in done.stdout


def test_an_old_pip_beside_homedeploy_is_named_not_the_pins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata

    from homedeploy.errors import CheckFailed
    from homedeploy.requirements import resolution

    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: "21.3" if name == "pip" else real(name)
    )
    with pytest.raises(CheckFailed) as caught:
        resolution._own_pip_checked()
    assert "homedeploy's own pip is 21.3" in caught.value.message
    assert f"pip >= {resolution.PIP_MINIMUM}" in caught.value.message
    monkeypatch.setattr(importlib.metadata, "version", real)
    resolution._own_pip_checked()  # the pip installed with homedeploy is new enough


def test_init_next_step_is_a_command_that_works_from_the_shell(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "homedeploy"), "init", str(tmp_path / "x"), "--no-git"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": "/usr/bin:/bin"},  # homedeploy is not on PATH
        check=True,
    )
    line = done.stdout.strip().splitlines()[-1]
    assert (
        line == f"Next: {Path(sys.executable).parent / 'homedeploy'} serve {tmp_path / 'x'} --check"
    )
