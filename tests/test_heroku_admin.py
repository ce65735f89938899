"""apps, logs, config, scale, releases, rollback against the Heroku stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from heroku_standin import HerokuStandIn, StandInApp

APP = "demo-app"


def run(*args: str, cwd: Path, input: str | None = None) -> Result:
    import os

    from homedeploy.cli import cli

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def deployed(standin: HerokuStandIn) -> StandInApp:
    """An app with a deploy release (v2) and a web dyno, without running a push."""
    app = standin.add_app(APP)
    app.set_process_types({"web": "gunicorn wsgi:app"})
    app.add_release("Deploy 0123abcd", slug="6a1c9c8e-4f1e-4a55-9d1d-1f7d2b3c4d5e")
    app.config.update({"SECRET_KEY": "s3cr3t-value", "DATABASE_URL": "postgres://x"})
    return app


def test_apps_lists_every_page(standin: HerokuStandIn, tmp_path: Path) -> None:
    for name in ("zeta-app", "alpha-app", "mid-app", "beta-app", "omega-app"):
        standin.add_app(name)
    standin.state.page_size = 2
    result = run("apps", "--json", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["account"] == "dev@example.com"
    assert [a["name"] for a in data["apps"]] == sorted(
        ["zeta-app", "alpha-app", "mid-app", "beta-app", "omega-app"]
    )
    pages = standin.requests_to("GET", "^/users/~/apps$")
    assert [r.status for r in pages] == [206, 206, 200]
    assert pages[1].headers["Range"].startswith("name ]")
    table = run("apps", cwd=tmp_path)
    assert "alpha-app" in table.stdout and "omega-app" in table.stdout


def test_apps_empty_and_unauthorized(
    standin: HerokuStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "has no apps yet" in run("apps", cwd=tmp_path).stdout
    monkeypatch.setenv("HEROKU_API_KEY", "wrong")
    result = run("apps", cwd=tmp_path)
    assert result.exit_code == 2 and "Heroku refused the API key" in result.stderr


def test_releases(standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path) -> None:
    result = run("releases", "--app", APP, "--json", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    releases = json.loads(result.stdout)["releases"]
    assert [r["version"] for r in releases] == [2, 1]
    assert releases[0]["current"] is True
    assert standin.requests_to("GET", "/releases$")[0].headers["Range"] == (
        "version ..; max=15, order=desc"
    )
    table = run("releases", "--app", APP, "-n", "1", cwd=tmp_path).stdout
    assert "v2" in table and "v1" not in table


def test_app_from_heroku_app_env(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEROKU_APP", APP)
    assert run("releases", cwd=tmp_path).exit_code == 0
    monkeypatch.delenv("HEROKU_APP")
    result = run("releases", cwd=tmp_path)
    assert result.exit_code == 2 and "no Heroku app given" in result.stderr


def test_config_masks_unless_reveal(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    shown = run("config", "--app", APP, cwd=tmp_path)
    assert shown.exit_code == 0
    assert "SECRET_KEY" in shown.stdout and "s3cr3t-value" not in shown.stdout
    assert "(12 chars)" in shown.stdout
    as_json = json.loads(run("config", "--app", APP, "--json", cwd=tmp_path).stdout)
    assert "s3cr3t-value" not in json.dumps(as_json)
    revealed = run("config", "--app", APP, "--reveal", cwd=tmp_path)
    assert "SECRET_KEY: s3cr3t-value" in revealed.stdout


def test_config_push_shows_diff_and_asks(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "# local settings\nSECRET_KEY=new-secret-value\nFLASK_ENV=production\n"
        "PORT=5000\nDATABASE_URL=postgres://x\nEMPTY\n"
    )
    declined = run("config", "push", "--app", APP, cwd=tmp_path, input="n\n")
    assert declined.exit_code == 1
    assert "~ SECRET_KEY" in declined.stdout and "line 2" in declined.stdout
    assert "+ FLASK_ENV" in declined.stdout and "unchanged: DATABASE_URL" in declined.stdout
    assert "new-secret-value" not in declined.stdout and "s3cr3t-value" not in declined.stdout
    assert "skipped PORT" in declined.stdout and "EMPTY" in declined.stdout
    assert not standin.requests_to("PATCH", "/config-vars$")
    accepted = run("config", "push", "--app", APP, "--yes", cwd=tmp_path)
    assert accepted.exit_code == 0, accepted.output
    assert "Setting SECRET_KEY, FLASK_ENV and restarting demo-app... done, v3" in accepted.stdout
    assert deployed.config == {
        "SECRET_KEY": "new-secret-value",
        "DATABASE_URL": "postgres://x",
        "FLASK_ENV": "production",
    }
    assert [r.body for r in standin.requests_to("PATCH", "/config-vars$")] == [
        {"SECRET_KEY": "new-secret-value", "FLASK_ENV": "production"}
    ]
    again = run("config", "push", "--app", APP, cwd=tmp_path)
    assert again.exit_code == 0 and "already has every value" in again.stdout


def test_config_push_bad_env_file(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    missing = run("config", "push", "--app", APP, cwd=tmp_path)
    assert missing.exit_code == 2 and ".env does not exist" in missing.stderr
    (tmp_path / "prod.env").write_text("GOOD=1\nBAD-NAME=2\n")
    bad = run("config", "push", "prod.env", "--app", APP, cwd=tmp_path)
    assert bad.exit_code == 2
    assert "prod.env:2" in bad.stderr and "'BAD-NAME' is not a valid config var name" in bad.stderr


def test_scale(standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path) -> None:
    assert run("scale", "--app", APP, cwd=tmp_path).stdout.strip() == "web=1:Basic"
    result = run("scale", "web=2:standard-1x", "--app", APP, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "now running web=2:Standard-1x" in result.stdout
    assert standin.requests_to("PATCH", "/formation$")[0].body == {
        "updates": [{"type": "web", "quantity": 2, "dyno_size": {"name": "standard-1x"}}]
    }
    unknown = run("scale", "worker=1", "--app", APP, cwd=tmp_path)
    assert unknown.exit_code == 2
    assert "Couldn't find that process type (worker)" in unknown.stderr
    assert "Procfile" in unknown.stderr
    bad = run("scale", "web:2", "--app", APP, cwd=tmp_path)
    assert bad.exit_code == 2 and "is not TYPE=COUNT[:SIZE]" in bad.stderr


def test_scale_without_process_types(standin: HerokuStandIn, tmp_path: Path) -> None:
    standin.add_app(APP)
    assert "No process types on demo-app" in run("scale", "--app", APP, cwd=tmp_path).stdout


@pytest.mark.parametrize("log_format", ["sse", "plain"])
def test_logs(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path, log_format: str
) -> None:
    standin.state.log_format = log_format
    result = run("logs", "--app", APP, "-n", "2", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines == deployed.logs[-2:]
    assert not any(line.startswith(("data:", "id:")) for line in lines)
    assert standin.requests_to("POST", "/log-sessions$")[0].body == {"tail": False, "lines": 2}


def test_logs_tail_follows_new_lines(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    import threading
    import time

    standin.state.tail_seconds = 1.0

    def later() -> None:
        time.sleep(0.3)
        with standin.state.lock:
            deployed.log("app[web.1]", "a line written while tailing")

    threading.Thread(target=later).start()
    result = run("logs", "--app", APP, "--tail", "--dyno", "web.1", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith("app[web.1]: a line written while tailing")
    body = standin.requests_to("POST", "/log-sessions$")[0].body
    assert body == {"tail": True, "lines": 100, "dyno_name": "web.1"}


def test_rollback_default_and_version(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    deployed.add_release("Deploy 89abcdef", slug="7b2d0d9f-5a2f-4b66-8e2e-2a8e3c4d5e6f")  # v3
    result = run("rollback", "--app", APP, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "Rolling back demo-app to v2... done, v4" in result.stdout
    assert "To undo, run: homedeploy rollback v3 --app demo-app" in result.stdout
    assert "add-ons" in result.stdout
    assert deployed.releases[-1]["description"] == "Rollback to v2"
    explicit = run("rollback", "v3", "--app", APP, "--json", cwd=tmp_path)
    assert json.loads(explicit.stdout) == {
        "app": APP,
        "target": 3,
        "new_version": 5,
        "undo": "homedeploy rollback v4 --app demo-app",
        "warning": "Rollback affects code and config vars; it doesn't add or remove add-ons.",
    }


def test_rollback_errors(standin: HerokuStandIn, tmp_path: Path) -> None:
    standin.add_app(APP)
    nothing = run("rollback", "--app", APP, cwd=tmp_path)
    assert nothing.exit_code == 2 and "no earlier release" in nothing.stderr
    missing = run("rollback", "v42", "--app", APP, cwd=tmp_path)
    assert missing.exit_code == 2 and "has no release v42" in missing.stderr
    bad = run("rollback", "latest", "--app", APP, cwd=tmp_path)
    assert bad.exit_code == 2 and "not a release version" in bad.stderr


def test_unknown_app(standin: HerokuStandIn, tmp_path: Path) -> None:
    for command in (["releases"], ["config"], ["scale"], ["logs"], ["rollback"]):
        result = run(*command, "--app", "nope-app", cwd=tmp_path)
        assert result.exit_code == 2, command
        assert "Heroku has no app named 'nope-app'" in result.stderr
        assert "Traceback" not in result.output


def test_logs_tail_reconnects_when_the_stream_goes_quiet(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_LOGS_READ_TIMEOUT", "0.5")
    standin.state.tail_seconds_queue = [3.0]  # the first stream stays open and silent
    standin.state.tail_seconds = 0.1  # the next one ends normally
    result = run("logs", "--app", APP, "--tail", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    bodies = [r.body for r in standin.requests_to("POST", "/log-sessions$")]
    assert bodies == [{"tail": True, "lines": 100}, {"tail": True, "lines": 0}]
