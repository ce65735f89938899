"""push checks what it pushes (doctor on the commit's tree, uncommitted changes listed as not
deployed) and creates the add-ons app.json declares, against the stand-in (real git, real HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import invoke
from heroku_standin import HerokuStandIn
from heroku_standin.fixtures import git

APP = "my-flask-app"


def test_doctor_reads_the_commit_not_the_working_tree(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    """A broken Procfile committed and fixed without committing: push refuses, and says why."""
    procfile = flask_project / "Procfile"
    good = procfile.read_text()
    procfile.write_text("web: gunicorn wsgi.py\n")
    git(flask_project, "commit", "-qam", "broken Procfile")
    procfile.write_text(good)  # fixed here, not committed
    result = invoke("push", str(flask_project), "--create", "--app", APP)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "procfile-target-file" in result.stderr or "wsgi.py" in result.stderr
    assert "not deployed" in result.stderr and "Procfile (changed)" in result.stderr
    assert not standin.requests_to("POST", "^/apps$")  # stopped before touching Heroku
    # The working tree alone passes doctor: the commit is what failed.
    assert invoke("doctor", "--offline", str(flask_project)).exit_code == 0


def test_uncommitted_files_are_listed_as_not_deployed(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    (flask_project / "notes.txt").write_text("todo\n")
    result = invoke("push", str(flask_project), "--create", "--app", APP, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["not_deployed"] == ["notes.txt (untracked)"]
    assert report["doctor"]["verdict"] == "pass"


def _declare(project: Path, addons: list[object]) -> None:
    (project / "app.json").write_text(json.dumps({"name": "x", "addons": addons}))
    git(project, "add", "app.json")
    git(project, "commit", "-qm", "app.json")


def test_creates_declared_addons_and_waits(standin: HerokuStandIn, flask_project: Path) -> None:
    _declare(flask_project, ["heroku-postgresql", {"plan": "heroku-redis:mini"}])
    result = invoke("push", str(flask_project), "--create", "--app", APP, "--create-addons")
    assert result.exit_code == 0, result.stdout + result.stderr
    app = standin.state.apps[APP]
    plans = sorted(f"{addon['service']}:{addon['plan']}" for addon in app.addons)
    assert plans == ["heroku-postgresql:essential-0", "heroku-redis:mini"]
    assert all(addon["state"] == "provisioned" for addon in app.addons)
    assert {"DATABASE_URL", "REDIS_URL"} <= set(app.config)
    assert "provisioned (DATABASE_URL set)" in result.stderr
    assert len(standin.requests_to("POST", "/addons$")) == 2
    # Pushing again creates nothing: the app has them now.
    git(flask_project, "commit", "-q", "--allow-empty", "-m", "again")
    again = invoke("push", str(flask_project), "--create-addons")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert len(standin.requests_to("POST", "/addons$")) == 2


def test_without_consent_nothing_is_created(standin: HerokuStandIn, flask_project: Path) -> None:
    _declare(flask_project, ["heroku-postgresql:essential-0"])
    result = invoke("push", str(flask_project), "--create", "--app", APP, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["addons_missing"] == ["heroku-postgresql:essential-0"]
    assert not standin.requests_to("POST", "/addons$")
