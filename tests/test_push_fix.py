"""push --fix: doctor's and check-reqs' fixes as one commit, shown and asked once, rehearsed
before the user's branch moves, then the real push (to the stand-in) and the HTTP proof."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke
from heroku_standin import HerokuStandIn
from heroku_standin.fixtures import git

pytestmark = pytest.mark.slow
APP = "fix-me-app"


@pytest.fixture(autouse=True)
def local_indexes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip (the rehearsal's build, check-reqs) reads only pip's own file:// indexes."""
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    urls: list[str] = []
    for line in listing.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(("index-url", "extra-index-url")):
            urls += [u for u in value.strip("'\"").split() if u.startswith("file:")]
    if not urls:
        pytest.skip("pip has no local (file://) index configured")
    monkeypatch.setenv("PIP_INDEX_URL", urls[0])
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", " ".join(urls[1:]))


def broken_project(folder: Path, *, crash: bool = False) -> Path:
    """Committed; the Procfile names `app` but the object is `application` (H10 on Heroku)."""
    folder.mkdir()
    code = "from flask import Flask\n"
    if crash:
        code += "import module_nobody_installed\n"
    code += 'application = Flask(__name__)\n\n\n@application.get("/")\ndef index():\n'
    code += '    return "fixed"\n'
    (folder / "hello.py").write_text(code)
    (folder / "Procfile").write_text("web: gunicorn hello:app\n")
    (folder / "requirements.txt").write_text("flask\ngunicorn\n")
    (folder / ".python-version").write_text(".".join(map(str, sys.version_info[:2])) + "\n")
    (folder / ".gitignore").write_text(".venv/\n")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "first")
    return folder


def test_push_fix_commits_rehearses_and_deploys(standin: HerokuStandIn, tmp_path: Path) -> None:
    project = broken_project(tmp_path / "app")
    before = git(project, "rev-parse", "HEAD")
    result = invoke("push", str(project), "--fix", "--yes", "--create", "-a", APP)
    assert result.exit_code == 0, result.output
    assert "push --fix would commit these changes to main" in result.stdout
    assert "Procfile" in result.stdout and "+web: gunicorn hello:application" in result.stdout
    assert "-web: gunicorn hello:app" in result.stdout
    assert "pass" in result.stdout and "committed" in result.stdout
    assert f"deployed {APP}" in result.stdout
    log = git(project, "log", "--format=%s", f"{before}..HEAD").splitlines()
    assert log == ["Fix the deploy (homedeploy push --fix)"]
    body = git(project, "log", "-1", "--format=%b")
    assert "Procfile:" in body
    assert (project / "Procfile").read_text() == "web: gunicorn hello:application\n"
    assert git(project, "status", "--porcelain") == ""
    pushed = standin.state.apps[APP].slug_commits.values()
    assert git(project, "rev-parse", "HEAD") in pushed


def test_push_fix_without_a_terminal_asks_for_yes(standin: HerokuStandIn, tmp_path: Path) -> None:
    project = broken_project(tmp_path / "app")
    before = git(project, "rev-parse", "HEAD")
    result = invoke("push", str(project), "--fix", "--create", "-a", APP)
    assert result.exit_code == 2 and "pass --yes" in result.output
    assert "+web: gunicorn hello:application" in result.stdout  # the diff was shown
    assert git(project, "rev-parse", "HEAD") == before
    assert (project / "Procfile").read_text() == "web: gunicorn hello:app\n"
    assert git(project, "status", "--porcelain") == ""
    assert not standin.requests_to("POST", "^/apps$")


def test_failed_rehearsal_commits_and_pushes_nothing(
    standin: HerokuStandIn, tmp_path: Path
) -> None:
    project = broken_project(tmp_path / "app", crash=True)
    before = git(project, "rev-parse", "HEAD")
    result = invoke("push", str(project), "--fix", "--yes", "--create", "-a", APP)
    assert result.exit_code == 1, result.output
    assert "module_nobody_installed" in result.output
    assert "nothing committed, nothing pushed; main is as it was" in result.output
    assert git(project, "rev-parse", "HEAD") == before
    assert git(project, "status", "--porcelain") == ""
    assert not standin.requests_to("POST", "^/apps$") and not standin.state.git_requests


def test_fixes_that_gitignore_hides_are_committed_and_unfixable_errors_stop(
    standin: HerokuStandIn, tmp_path: Path
) -> None:
    """GitHub's Python .gitignore ignores .python-version; an end-of-life Python has no safe fix."""
    project = tmp_path / "old"
    project.mkdir()
    (project / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (project / "Procfile").write_text("web: gunicorn app:app\n")
    (project / "requirements.txt").write_text("flask\ngunicorn\n")
    (project / "runtime.txt").write_text("python-3.5.1\n")
    (project / ".gitignore").write_text(".python-version\n")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first")
    before = git(project, "rev-parse", "HEAD")
    result = invoke("push", str(project), "--fix", "--yes", "--create", "-a", APP)
    assert result.exit_code == 1, result.output
    assert "+++ b/.python-version" in result.stdout and "committed anyway" in result.stdout
    assert "cannot mend these by itself (nothing committed)" in result.output
    assert "end-of-life" in result.output
    assert git(project, "rev-parse", "HEAD") == before
    assert (project / "runtime.txt").exists() and not (project / ".python-version").exists()
    assert not standin.requests_to("POST", "^/apps$")
