"""config set/unset/get, ps, restart, maintenance, run (rendezvous), addons, open, -r/--remote.

Everything runs against the stand-in, whose traffic is checked against Heroku's schema. ``run``
goes through the real rendezvous protocol: TLS to the stand-in's own certificate (trusted
through HOMEDEPLOY_RENDEZVOUS_CA), the secret, then stdin/stdout and the exit code, in a real
``python -m homedeploy`` subprocess so stdin is a real pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from heroku_standin import HerokuStandIn, StandInApp
from heroku_standin.fixtures import git

APP = "demo-app"


def run(*args: str, cwd: Path, input: str | None = None) -> Result:
    from homedeploy.cli import cli

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(old)


def subprocess_run(
    *args: str, cwd: Path, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "homedeploy", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )


@pytest.fixture
def deployed(standin: HerokuStandIn) -> StandInApp:
    app = standin.add_app(APP)
    app.set_process_types({"web": "gunicorn wsgi:app", "worker": "python worker.py"})
    app.add_release("Deploy 0123abcd", slug="6a1c9c8e-4f1e-4a55-9d1d-1f7d2b3c4d5e")
    app.config.update({"SECRET_KEY": "s3cr3t-value", "DATABASE_URL": "postgres://x"})
    return app


# ---- config set / unset / get


def test_config_set_is_one_patch_and_one_release(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    result = run("config", "set", "DEBUG=0", "TOKEN=a=b", "-a", APP, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "Setting DEBUG, TOKEN and restarting demo-app... done, v3" in result.stdout
    assert "a=b" not in result.stdout and "(3 chars)" in result.stdout
    assert [r.body for r in standin.requests_to("PATCH", "/config-vars$")] == [
        {"DEBUG": "0", "TOKEN": "a=b"}
    ]
    assert len(deployed.releases) == 3 and deployed.config["TOKEN"] == "a=b"
    revealed = run("config", "-a", APP, "set", "DEBUG=1", "--reveal", cwd=tmp_path)
    assert "DEBUG: 1" in revealed.stdout


def test_config_unset_and_get(standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path) -> None:
    masked = run("config", "get", "SECRET_KEY", "-a", APP, cwd=tmp_path)
    assert masked.exit_code == 0 and "s3cr3t" not in masked.stdout
    assert "(12 chars)" in masked.stdout
    revealed = run("config", "get", "SECRET_KEY", "-a", APP, "--reveal", cwd=tmp_path)
    assert revealed.stdout == "s3cr3t-value\n"
    result = run("config", "unset", "SECRET_KEY", "NOPE", "-a", APP, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "Unsetting SECRET_KEY and restarting demo-app... done, v3" in result.stdout
    assert "not set on demo-app: NOPE" in result.stderr
    assert [r.body for r in standin.requests_to("PATCH", "/config-vars$")] == [{"SECRET_KEY": None}]
    assert deployed.releases[-1]["description"] == "Remove SECRET_KEY config vars"
    gone = run("config", "get", "SECRET_KEY", "-a", APP, cwd=tmp_path)
    assert gone.exit_code == 1 and "SECRET_KEY is not set on demo-app" in gone.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("config", "set", "NOVALUE"), "'NOVALUE' is not KEY=VALUE"),
        (("config", "set", "BAD-KEY=1"), "'BAD-KEY=1' is not KEY=VALUE"),
        (("config", "set", "PORT=5000"), "Heroku sets PORT"),
        (("config", "set"), "no KEY=VALUE given"),
        (("config", "unset"), "no KEY given"),
        (("restart", "web..1"), "neither a process type"),
    ],
)
def test_config_and_restart_usage_errors(
    standin: HerokuStandIn,
    deployed: StandInApp,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    result = run(*args, "-a", APP, cwd=tmp_path)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output
    assert not standin.requests_to("PATCH", "/config-vars$")


# ---- ps, restart, maintenance, open


def test_ps_lists_dynos(standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path) -> None:
    deployed.formation["worker"]["quantity"] = 1
    result = run("ps", "-a", APP, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    web = next(line for line in lines if line.lstrip().startswith("web.1"))
    assert "Basic" in web and "up" in web and "gunicorn wsgi:app" in web and "ago" in web
    assert any(line.lstrip().startswith("worker.1") for line in lines)
    data = json.loads(run("ps", "-a", APP, "--json", cwd=tmp_path).stdout)
    assert [d["name"] for d in data["dynos"]] == ["web.1", "worker.1"]
    assert data["dynos"][0]["command"] == "gunicorn wsgi:app"


def test_restart_all_type_and_one(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    assert (
        "Restarting all dynos of demo-app... done" in run("restart", "-a", APP, cwd=tmp_path).stdout
    )
    assert "web dynos" in run("restart", "web", "-a", APP, cwd=tmp_path).stdout
    assert "web.1 of" in run("restart", "web.1", "-a", APP, cwd=tmp_path).stdout
    assert deployed.restarts == ["all", "web", "web.1"]
    assert [r.path for r in standin.state.requests if r.method == "DELETE"] == [
        f"/apps/{APP}/dynos",
        f"/apps/{APP}/formations/web",
        f"/apps/{APP}/dynos/web.1",
    ]
    missing = run("restart", "web.7", "-a", APP, cwd=tmp_path)
    assert missing.exit_code == 2 and "no dyno or process type 'web.7'" in missing.stderr
    assert "running: web.1" in missing.stderr


def test_maintenance_on_off(standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path) -> None:
    import requests

    assert "maintenance mode is off" in run("maintenance", "-a", APP, cwd=tmp_path).stdout
    on = run("maintenance", "on", "-a", APP, cwd=tmp_path)
    assert on.exit_code == 0 and "Turning maintenance mode on for demo-app... done" in on.stdout
    assert deployed.maintenance is True
    assert requests.get(deployed.web_url, timeout=5).status_code == 503
    assert "code=H80" in deployed.logs[-1]
    assert "already on" in run("maintenance", "on", "-a", APP, cwd=tmp_path).stdout
    assert "mode off" in run("maintenance", "off", "-a", APP, cwd=tmp_path).stdout
    assert [r.body for r in standin.requests_to("PATCH", f"^/apps/{APP}$")] == [
        {"maintenance": True},
        {"maintenance": False},
    ]
    bad = run("maintenance", "maybe", "-a", APP, cwd=tmp_path)
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_open_prints_the_web_url_without_a_browser(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", lambda url: False)
    result = run("open", "/health", "-a", APP, cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout.strip() == deployed.web_url + "health"
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    assert "Opening " + deployed.web_url in run("open", "-a", APP, cwd=tmp_path).stdout
    assert opened == [deployed.web_url]


# ---- -r/--remote


def test_remote_names_the_app(standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path) -> None:
    standin.add_app("demo-staging")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "remote", "add", "staging", "https://git.heroku.com/demo-staging.git")
    git(repo, "remote", "add", "origin", "https://user:tok3n@example.com/me/app.git")
    result = run("releases", "-r", "staging", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "demo-staging releases" in result.stdout
    assert standin.requests_to("GET", "^/apps/demo-staging/releases$")
    missing = run("ps", "--remote", "production", cwd=repo)
    assert missing.exit_code == 2
    assert "no such git remote (remotes: origin, staging)" in missing.stderr
    other = run("ps", "-r", "origin", cwd=repo)
    assert other.exit_code == 2 and "not a Heroku app's git URL" in other.stderr
    assert "tok3n" not in other.stderr
    both = run("ps", "-r", "staging", "-a", APP, cwd=repo)
    assert both.exit_code == 2 and "give one" in both.stderr


# ---- addons


def test_addons_create_waits_for_provisioning(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    standin.state.addon_provision_polls = 3
    result = run("addons", "create", "heroku-postgresql:essential-0", "-a", APP, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "Creating heroku-postgresql:essential-0 on demo-app... done" in result.stdout
    assert "config vars set: DATABASE_URL" in result.stdout
    reads = standin.requests_to("GET", f"^/apps/{APP}/addons/[^/]+$")
    assert len(reads) == 3  # it asked until the add-on was provisioned
    assert standin.requests_to("POST", "/addons$")[0].body == {
        "plan": "heroku-postgresql:essential-0",
        "confirm": APP,
    }
    assert deployed.config["DATABASE_URL"].startswith("postgres://")
    assert deployed.releases[-1]["description"].startswith("Attach DATABASE")
    listed = run("addons", "-a", APP, cwd=tmp_path)
    assert "heroku-postgresql:essential-0" in listed.stdout and "provisioned" in listed.stdout
    data = json.loads(run("addons", "-a", APP, "--json", cwd=tmp_path).stdout)
    assert data["addons"][0]["config_vars"] == ["DATABASE_URL"]


def test_addons_create_as_name_and_destroy(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    standin.state.addon_provision_polls = 0
    result = run("addons", "create", "heroku-redis", "--as", "CACHE", "-a", APP, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "config vars set: CACHE_URL" in result.stdout
    name = deployed.addons[0]["name"]
    refused = run("addons", "destroy", name, "-a", APP, "--confirm", "other-app", cwd=tmp_path)
    assert refused.exit_code == 2 and f"pass --confirm {APP}" in refused.stderr
    unconfirmed = run("addons", "destroy", name, "-a", APP, cwd=tmp_path)
    assert unconfirmed.exit_code == 2 and "--confirm APP" in unconfirmed.output
    assert deployed.addons
    done = run("addons", "destroy", name, "-a", APP, "--confirm", APP, cwd=tmp_path)
    assert done.exit_code == 0, done.output
    assert f"Destroying {name} on demo-app... done (removed CACHE_URL)" in done.stdout
    assert not deployed.addons and "CACHE_URL" not in deployed.config
    unknown = run("addons", "destroy", "nope", "-a", APP, "--confirm", APP, cwd=tmp_path)
    assert unknown.exit_code == 2 and "has no add-on 'nope'" in unknown.stderr


def test_addons_bad_plan(standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path) -> None:
    unknown = run("addons", "create", "no-such-service", "-a", APP, cwd=tmp_path)
    assert unknown.exit_code == 2 and "Heroku refused no-such-service" in unknown.stderr
    malformed = run("addons", "create", "Bad Plan", "-a", APP, cwd=tmp_path)
    assert malformed.exit_code == 2 and "is not an add-on plan" in malformed.stderr
    empty = run("addons", "-a", APP, cwd=tmp_path)
    assert "has no add-ons" in empty.stdout


# ---- run: one-off dynos over rendezvous


def test_run_streams_stdin_stdout_and_exit_code(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    script = 'read line; echo "got:$line"; echo "key=$SECRET_KEY extra=$EXTRA"; exit 3'
    result = subprocess_run(
        "run", "-a", APP, "-e", "EXTRA=1", "bash", "-c", script, cwd=tmp_path, input="hello\n"
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == "got:hello\nkey=s3cr3t-value extra=1\n"
    assert "Running bash -c" in result.stderr and "on demo-app... up, run.1" in result.stderr
    body = standin.requests_to("POST", "/dynos$")[0].body
    assert body["attach"] is True and body["env"] == {"EXTRA": "1"}
    assert (
        body["command"].startswith("(bash -c ") and "heroku-command-exit-status" in body["command"]
    )
    session = next(iter(standin.rendezvous.sessions.values()))
    assert session.stdin_seen == b"hello\n" and session.exit_code == 0  # the wrapper's echo


def test_run_exit_in_the_command_still_reports_its_code(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    result = subprocess_run("run", "-a", APP, "echo before; exit 4  # a comment", cwd=tmp_path)
    assert result.returncode == 4, result.stderr
    assert result.stdout == "before\n"


def test_run_exit_zero_with_stdin_closed(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    result = subprocess_run("run", "-a", APP, "cat; echo done", cwd=tmp_path, input="")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert (
        standin.requests_to("POST", "/dynos$")[0].body["command"].startswith("(cat; echo done\n);")
    )


def test_run_has_the_deployed_code(standin: HerokuStandIn, flask_project: Path) -> None:
    pushed = subprocess_run(
        "push", str(flask_project), "--create", "-a", APP, cwd=flask_project, timeout=240
    )
    assert pushed.returncode == 0, pushed.stderr
    result = subprocess_run("run", "cat", "Procfile", cwd=flask_project)  # app from the remote
    assert result.returncode == 0, result.stderr
    assert result.stdout == (flask_project / "Procfile").read_text()


def test_run_refuses_an_untrusted_certificate(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.rendezvous  # noqa: B018 - start it, so its CA exists
    monkeypatch.delenv("HOMEDEPLOY_RENDEZVOUS_CA")  # the system store does not know the stand-in
    result = subprocess_run("run", "-a", APP, "echo hi", cwd=tmp_path, input="")
    assert result.returncode == 3
    assert "certificate this machine does not trust" in result.stderr
    assert "Traceback" not in result.stderr and "hi" not in result.stdout


def test_run_detach_sends_output_to_the_logs(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    import time

    result = run("run", "--detach", "-a", APP, "echo", "from the worker", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "up, run.1" in result.stderr and "homedeploy logs --dyno run.1" in result.stderr
    body = standin.requests_to("POST", "/dynos$")[0].body
    assert body == {"command": "echo 'from the worker'", "attach": False}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any("exited" in line for line in deployed.logs):
        time.sleep(0.05)
    assert any(line.endswith("app[run.1]: from the worker") for line in deployed.logs)


def test_run_without_a_release(standin: HerokuStandIn, tmp_path: Path) -> None:
    standin.add_app(APP)
    result = run("run", "-a", APP, "bash", cwd=tmp_path)
    assert result.exit_code == 2 and "deploy the app first" in result.stderr


# ---- shell completion


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str, tmp_path: Path) -> None:
    result = run("completion", shell, cwd=tmp_path)
    assert result.exit_code == 0
    assert "_HOMEDEPLOY_COMPLETE" in result.stdout
    assert {"bash": "complete -o", "zsh": "compdef", "fish": "complete --no-files"}[shell] in (
        result.stdout
    )


def test_completion_of_app_names_is_cached(
    standin: HerokuStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("demo-app", "demo-staging", "other-app"):
        standin.add_app(name)
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))

    def complete(words: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "homedeploy"],
            env={
                **os.environ,
                "_HOMEDEPLOY_COMPLETE": "bash_complete",
                "COMP_WORDS": words,
                "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
            },
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return [line.split(",", 1)[1] for line in done.stdout.splitlines()]

    assert complete("homedeploy logs -a demo") == ["demo-app", "demo-staging"]
    assert complete("homedeploy ps --app o") == ["other-app"]
    assert len(standin.requests_to("GET", "^/users/~/apps$")) == 1  # the second came from cache
    cache = next((tmp_path / "cache" / "completion").iterdir()).read_text()
    assert standin.key not in cache


def test_run_from_a_terminal_gets_a_terminal_on_the_dyno(
    standin: HerokuStandIn, deployed: StandInApp, tmp_path: Path
) -> None:
    """Keys go raw (Enter is \\r, the dyno's pty turns it into a line); output keeps its lines."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    script = 'read answer; echo "got:$answer"; tty; exit 5'
    process = subprocess.Popen(
        [sys.executable, "-m", "homedeploy", "run", "-a", APP, "bash", "-c", script],
        cwd=tmp_path,
        stdin=child,
        stdout=child,
        stderr=child,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    os.close(child)
    output, sent = b"", False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if not sent and b"up, run.1" in output:
            time.sleep(0.3)
            os.write(main, b"yes\r")
            sent = True
        if process.poll() is not None and not ready:
            break
    process.wait(timeout=10)
    os.close(main)
    text = output.decode(errors="replace")
    assert process.returncode == 5, text
    assert "got:yes\r\n" in text and "/dev/pts/" in text
    body = standin.requests_to("POST", "/dynos$")[0].body
    assert "force_no_tty" not in body and body["env"]["COLUMNS"] == "80"
