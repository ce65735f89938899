"""``homedeploy push`` end to end against the Heroku stand-in (real git, real HTTP, 127.0.0.1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import invoke
from heroku_standin import HerokuStandIn
from heroku_standin.fixtures import commit_change, git

APP = "my-flask-app"


def push(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    result = invoke("push", *args, cwd=cwd)
    return result.exit_code, result.stdout, result.stderr


def test_first_deploy_with_create(standin: HerokuStandIn, flask_project: Path) -> None:
    code, out, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 0, out + err
    app = standin.state.apps[APP]
    assert f"deployed {APP} v2: {app.web_url} answered HTTP 200" in out
    # Phases shown live, remote set to the (overridden) git host, buildpack set once.
    assert "Python app detected" in err and "Discovering process types" in err
    assert git(flask_project, "remote", "get-url", "heroku") == f"{standin.git_url}/{APP}.git"
    assert len(standin.requests_to("PUT", "/buildpack-installations$")) == 1
    assert app.buildpacks == [{"url": "urn:buildpack:heroku/python", "name": "heroku/python"}]
    # The release is the new one, and the web check went to the API's web_url via the proxy.
    assert app.releases[-1]["status"] == "succeeded" and app.releases[-1]["current"]
    assert standin.web.hits == [f"{app.web_host}/"]
    assert git(str(standin.repos / f"{APP}.git"), "rev-parse", "main") == git(
        flask_project, "rev-parse", "HEAD"
    )
    assert all(r.auth_scheme == "Bearer" and r.auth_ok for r in standin.state.requests)
    assert all(
        r.headers["Accept"] == "application/vnd.heroku+json; version=3"
        for r in standin.state.requests
    )
    assert all(r.headers["User-Agent"].startswith("homedeploy/") for r in standin.state.requests)


def test_second_deploy_uses_remote_and_keeps_buildpack(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    assert push(str(flask_project), "--create", "--app", APP)[0] == 0
    commit_change(flask_project)
    code, out, err = push(str(flask_project))  # the app comes from the heroku remote
    assert code == 0, out + err
    assert f"deployed {APP} v3" in out
    assert len(standin.requests_to("PUT", "/buildpack-installations$")) == 1
    assert len(standin.requests_to("POST", "^/apps$")) == 1
    assert "git remote heroku" not in err  # kept as it was


def test_json_report(standin: HerokuStandIn, flask_project: Path) -> None:
    code, out, err = push(str(flask_project), "--create", "--app", APP, "--json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["ok"] is True and report["app"] == APP and report["created"] is True
    assert report["web_url"] == standin.state.apps[APP].web_url
    assert report["release_version"] == 2 and report["release_status"] == "succeeded"
    assert report["build"]["status"] == "succeeded" and report["http_status"] == 200
    assert "Python app detected" in report["build"]["phases"]
    assert err == ""


def test_push_from_feature_branch_deploys_to_main(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    git(flask_project, "checkout", "-q", "-b", "feature/login")
    commit_change(flask_project)
    code, out, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 0, out + err
    bare = str(standin.repos / f"{APP}.git")
    assert git(bare, "for-each-ref", "--format=%(refname)") == "refs/heads/main"


def test_skipping_build_is_a_failure_even_though_git_succeeds(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    # What a plain `git push heroku feature` gets: accepted, nothing built, git exits 0.
    standin.add_app(APP)
    git(flask_project, "remote", "add", "heroku", f"{standin.git_url}/{APP}.git")
    env_git = _credential_env_for(standin)
    done = _git_push_plain(flask_project, "HEAD:refs/heads/feature", env_git)
    assert done.returncode == 0
    assert "skipping build" in done.stderr
    # homedeploy treats the same answer as a failure (stand-in forced to answer it on main).
    standin.state.apps[APP].next_build.append({"mode": "skip"})
    code, _out, err = push(str(flask_project), "--app", APP)
    assert code == 1
    assert "Pushed to branch other than [main, master], skipping build." in err
    assert "fix:" in err and "HEAD:main" in err
    assert len(standin.state.apps[APP].releases) == 1  # still only v1


def test_build_failure_shows_headline_cause_and_fix(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    standin.add_app(APP).next_build.append(
        {"mode": "no_matching_distribution", "requirement": "pywin32==306"}
    )
    code, _out, err = push(str(flask_project), "--app", APP)
    assert code == 1
    assert "push failed (build): Error: Unable to install dependencies using pip." in err
    assert "cause: No matching distribution found for pywin32==306" in err
    assert "homedeploy check-reqs requirements.txt" in err
    code, _out, _ = push(str(flask_project), "--app", APP, "--json")  # auto build now succeeds
    assert code == 0


def test_build_failure_json(standin: HerokuStandIn, flask_project: Path) -> None:
    standin.add_app(APP).next_build.append({"mode": "compile_failed"})
    code, out, _ = push(str(flask_project), "--app", APP, "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False and report["failed_step"] == "build"
    assert report["build"]["status"] == "failed"
    assert report["build"]["headline"] == "Error: Unable to install dependencies using pip."


def test_missing_requirements_is_explained(standin: HerokuStandIn, flask_project: Path) -> None:
    git(flask_project, "rm", "-q", "requirements.txt")
    git(flask_project, "commit", "-q", "-m", "oops")
    code, _, err = push(str(flask_project), "--create", "--app", APP, "--no-verify")
    assert code == 1
    assert "Your app is configured to use the Python buildpack, but we couldn't find" in err
    assert "create requirements.txt at the project root" in err


def test_release_phase_failure(standin: HerokuStandIn, flask_project: Path) -> None:
    standin.add_app(APP).next_build.append({"mode": "release_failed"})
    code, _, err = push(str(flask_project), "--app", APP)
    assert code == 1
    assert "release v2 failed" in err


def test_wrong_key_401(
    standin: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEROKU_API_KEY", "not-the-key-0123456789")
    code, out, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 2
    assert "Heroku refused the API key from the HEROKU_API_KEY environment variable" in err
    assert "dashboard.heroku.com/account" in err
    assert "not-the-key-0123456789" not in out + err
    assert not standin.state.git_requests and not standin.requests_to("POST", "^/apps$")


def test_no_key_at_all(
    standin: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEROKU_API_KEY")
    monkeypatch.setenv("HEROKU_API_TOKEN", "x")
    code, _, err = push(str(flask_project), "--app", APP)
    assert code == 2
    assert "no Heroku API key found" in err and "HEROKU_API_TOKEN is set" in err
    assert not standin.state.requests


def test_app_not_found(standin: HerokuStandIn, flask_project: Path) -> None:
    code, _, err = push(str(flask_project), "--app", "no-such-app")
    assert code == 2
    assert "Heroku has no app named 'no-such-app'" in err
    assert "homedeploy push --create --app no-such-app" in err


def test_name_taken_422(standin: HerokuStandIn, flask_project: Path) -> None:
    standin.state.taken_names.add("taken-name")
    code, _, err = push(str(flask_project), "--create", "--app", "taken-name")
    assert code == 2
    assert "already taken by another Heroku account" in err
    assert [r.status for r in standin.requests_to("POST", "^/apps$")] == [422]


def test_create_existing_own_app_reuses_it(standin: HerokuStandIn, flask_project: Path) -> None:
    standin.add_app(APP)
    code, _out, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 0, err
    assert "already exists in your account" in err


def test_invalid_name_rejected_before_any_request(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    code, _, err = push(str(flask_project), "--create", "--app", "My_Flask_App")
    assert code == 2
    assert "not a valid Heroku app name" in err and "'my-flask-app'" in err
    assert not standin.state.requests


def test_verification_required(standin: HerokuStandIn, flask_project: Path) -> None:
    standin.state.unverified = True
    code, _, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 2
    assert "verification_required" in err and "https://heroku.com/verify" in err


def test_rate_limited_then_success(standin: HerokuStandIn, flask_project: Path) -> None:
    standin.inject(
        "GET", "^/account$", 429, "rate_limit", "Your account reached the API rate limit", times=2
    )
    code, _out, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 0, err
    assert [r.status for r in standin.requests_to("GET", "^/account$")] == [429, 429, 200]
    assert "Heroku answered 429" in err


def test_rate_limit_that_does_not_end(standin: HerokuStandIn, flask_project: Path) -> None:
    standin.inject(
        "GET", "^/account$", 429, "rate_limit", "Your account reached the API rate limit", times=99
    )
    code, _, err = push(str(flask_project), "--app", APP)
    assert code == 3
    assert "rate limit" in err and "wait a few minutes" in err
    assert len(standin.requests_to("GET", "^/account$")) == 4  # bounded


def test_503_then_success(standin: HerokuStandIn, flask_project: Path) -> None:
    standin.inject("GET", "^/account$", 503, "unavailable", "Service Unavailable")
    code, _, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 0, err
    assert [r.status for r in standin.requests_to("GET", "^/account$")] == [503, 200]


def test_a_post_is_never_sent_twice(standin: HerokuStandIn, flask_project: Path) -> None:
    """A 503 to app create may still have created the app: the POST is not retried."""
    standin.inject("POST", "^/apps$", 503, "unavailable", "Service Unavailable")
    code, _, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 3, err
    assert "Service Unavailable" in err
    assert [r.status for r in standin.requests_to("POST", "^/apps$")] == [503]


def test_web_url_not_answering(
    standin: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_VERIFY_TIMEOUT", "1")
    standin.add_app(APP).web_status = 503
    code, _, err = push(str(flask_project), "--app", APP)
    assert code == 1
    assert "did not answer below 500 (HTTP 503)" in err
    assert f"homedeploy logs --app {APP}" in err and "homedeploy rollback" in err
    assert not standin.requests_to("POST", "/releases$")


def test_crashed_dyno_fails_fast_and_shows_the_logs(
    standin: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_VERIFY_TIMEOUT", "60")
    app = standin.add_app(APP)
    app.web_status, app.dyno_state = 503, "crashed"
    app.log("app[web.1]", "ModuleNotFoundError: No module named 'hello'")
    started = time.monotonic()
    code, _, err = push(str(flask_project), "--app", APP)
    assert code == 1 and time.monotonic() - started < 30
    assert "the web dyno crashed" in err
    assert "last log lines:" in err and "No module named 'hello'" in err
    assert standin.requests_to("GET", "/dynos$")


def test_web_url_not_answering_rolls_back(
    standin: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_VERIFY_TIMEOUT", "1")
    assert push(str(flask_project), "--create", "--app", APP)[0] == 0  # v2 works
    commit_change(flask_project)
    app = standin.state.apps[APP]
    app.web_status = 503
    code, out, _ = push(str(flask_project), "--rollback-on-fail", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["failed_step"] == "verify" and report["rolled_back_to"] == 2
    assert app.releases[-1]["description"] == "Rollback to v2" and app.releases[-1]["current"]
    assert [r.body for r in standin.requests_to("POST", "/releases$")] == [
        {"release": app.releases[1]["id"]}
    ]


def test_rollback_on_fail_without_earlier_deploy(
    standin: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_VERIFY_TIMEOUT", "1")
    standin.add_app(APP).web_status = 502
    code, _, err = push(str(flask_project), "--app", APP, "--rollback-on-fail")
    assert code == 1
    assert "no earlier deployed release to roll back to" in err


def test_same_commit_again_is_up_to_date(standin: HerokuStandIn, flask_project: Path) -> None:
    assert push(str(flask_project), "--create", "--app", APP)[0] == 0
    code, _out, err = push(str(flask_project))
    assert code == 0, err
    assert "already has this commit" in err
    assert len(standin.state.apps[APP].releases) == 2


def test_diverged_remote_needs_force(standin: HerokuStandIn, flask_project: Path) -> None:
    assert push(str(flask_project), "--create", "--app", APP)[0] == 0
    git(flask_project, "commit", "-q", "--amend", "-m", "rewritten")
    code, _, err = push(str(flask_project))
    assert code == 1
    assert "[rejected]" in err and "--force" in err
    code, _, err = push(str(flask_project), "--force")
    assert code == 0, err


def test_region_for_create(standin: HerokuStandIn, flask_project: Path) -> None:
    code, _, err = push(str(flask_project), "--create", "--app", APP, "--region", "eu")
    assert code == 0, err
    assert standin.requests_to("POST", "^/apps$")[0].body == {"name": APP, "region": "eu"}
    assert standin.state.apps[APP].region == "eu"


def test_create_without_name_lets_heroku_choose(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    code, out, err = push(str(flask_project), "--create", "--json")
    assert code == 0, err
    name = json.loads(out)["app"]
    assert standin.requests_to("POST", "^/apps$")[0].body == {}
    assert git(flask_project, "remote", "get-url", "heroku").endswith(f"/{name}.git")


def test_web_scaled_to_zero_is_scaled_to_one(standin: HerokuStandIn, flask_project: Path) -> None:
    assert push(str(flask_project), "--create", "--app", APP)[0] == 0
    standin.state.apps[APP].formation["web"]["quantity"] = 0
    commit_change(flask_project)
    code, _, err = push(str(flask_project))
    assert code == 0, err
    assert "scaled it to 1 dyno" in err
    assert standin.state.apps[APP].formation["web"]["quantity"] == 1


def test_no_web_process_type(standin: HerokuStandIn, flask_project: Path) -> None:
    (flask_project / "Procfile").write_text("worker: python hello.py\n")
    git(flask_project, "commit", "-q", "-am", "no web")
    code, _, err = push(str(flask_project), "--create", "--app", APP, "--no-verify")
    assert code == 1
    assert "the release has no web process type" in err and "web: gunicorn" in err


def test_stale_global_credential_helpers_are_bypassed(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    # A generic helper answering a wrong password, and the helper the Heroku CLI writes, which
    # fails when the CLI is not installed: neither may be asked.
    called = flask_project.parent / "helper-called"
    with open(os.environ["GIT_CONFIG_GLOBAL"], "a", encoding="utf-8") as config:
        config.write(
            f'[credential]\n\thelper = "!f() {{ echo called >> {called}; '
            'echo username=x; echo password=WRONG; }; f"\n'
            f'[credential "{standin.git_url}"]\n\thelper = "!heroku git:credentials"\n'
        )
    code, _, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 0, err
    assert not called.exists()


def test_subfolder_of_a_repository_is_refused(standin: HerokuStandIn, flask_project: Path) -> None:
    sub = flask_project / "sub"
    sub.mkdir()
    code, _, err = push(str(sub), "--app", APP)
    assert code == 2
    assert "not its root" in err and "Heroku builds the repository root" in err


def test_app_of_another_account(standin: HerokuStandIn, flask_project: Path) -> None:
    standin.state.taken_names.add("someone-elses")
    code, _, err = push(str(flask_project), "--app", "someone-elses")
    assert code == 2
    assert "You do not have access to the app someone-elses" in err and "collaborator" in err


def test_not_a_git_repository(standin: HerokuStandIn, tmp_path: Path) -> None:
    code, _, err = push(str(tmp_path), "--app", APP)
    assert code == 2
    assert "is not a git repository" in err and "git init" in err


def test_app_from_pyproject_and_heroku_app_env(
    standin: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homedeploy.heroku.app_choice import AppChoice, resolve_app

    (flask_project / "pyproject.toml").write_text('[tool.homedeploy]\napp = "from-pyproject"\n')
    assert resolve_app(flask_project, None) == AppChoice(
        "from-pyproject", "[tool.homedeploy] app in pyproject.toml"
    )
    monkeypatch.setenv("HEROKU_APP", "from-env")
    assert resolve_app(flask_project, None).name == "from-env"  # type: ignore[union-attr]
    assert resolve_app(flask_project, "from-option").name == "from-option"  # type: ignore[union-attr]
    (flask_project / "pyproject.toml").write_text("[tool.homedeploy\n")
    monkeypatch.delenv("HEROKU_APP")
    code, _, err = push(str(flask_project))
    assert code == 2 and "pyproject.toml:1" in err


def test_netrc_cannot_override_the_bearer_token(
    standin: HerokuStandIn, flask_project: Path
) -> None:
    netrc = Path(os.environ["HOME"]) / ".netrc"
    netrc.write_text("machine 127.0.0.1\n  login me@example.com\n  password WRONG-NETRC-PASSWORD\n")
    netrc.chmod(0o600)
    code, _, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 0, err
    assert {(r.auth_scheme, r.auth_ok) for r in standin.state.requests} == {("Bearer", True)}


# --------------------------------------------------------------------------- doctor


@dataclass
class _Finding:
    severity: str
    code: str
    message: str
    path: str | None = None
    line: int | None = None
    fix: str | None = None


@dataclass
class _DoctorReport:
    verdict: str
    findings: list[_Finding] = field(default_factory=list)


def _fake_doctor(
    monkeypatch: pytest.MonkeyPatch, report: _DoctorReport
) -> list[tuple[Path, bool, bool]]:
    calls: list[tuple[Path, bool, bool]] = []

    def run_doctor(path: Path, *, offline: bool = True, fix: bool = False) -> _DoctorReport:
        calls.append((path, offline, fix))
        return report

    def run_doctor_on_commit(export: Path, worktree: Path) -> _DoctorReport:
        assert (export / "Procfile").is_file()  # the commit's tree, unpacked
        return run_doctor(worktree)

    module = types.ModuleType("homedeploy.doctor.engine")
    module.run_doctor = run_doctor  # type: ignore[attr-defined]
    module.run_doctor_on_commit = run_doctor_on_commit  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "homedeploy.doctor.engine", module)
    return calls


def test_doctor_errors_stop_the_push(
    standin: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finding = _Finding(
        "error",
        "procfile-target",
        "hello:app does not exist",
        "Procfile",
        1,
        "use hello:application",
    )
    calls = _fake_doctor(monkeypatch, _DoctorReport("fail", [finding]))
    code, _, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 1
    assert calls == [(flask_project, True, False)]
    assert "Procfile:1: hello:app does not exist" in err and "--no-verify" in err
    assert not standin.state.requests  # nothing created on Heroku
    code, _, err = push(str(flask_project), "--create", "--app", APP, "--no-verify")
    assert code == 0, err


def test_doctor_warnings_do_not_stop(
    standin: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_doctor(
        monkeypatch, _DoctorReport("pass", [_Finding("warning", "w", "runtime.txt is deprecated")])
    )
    code, _, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 0, err
    assert "runtime.txt is deprecated" in err


# --------------------------------------------------------------------------- the key


def _credential_env_for(standin: HerokuStandIn) -> dict[str, str]:
    from homedeploy.heroku.git import credential_env

    return credential_env(standin.key, standin.git_url)


class _CommandLineWatcher:
    """Samples /proc/*/cmdline in a thread (Linux) while a command runs."""

    def __init__(self) -> None:
        import threading

        self.lines: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for entry in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    raw = entry.read_bytes()
                except OSError:
                    continue
                if raw:
                    self.lines.add(raw.replace(b"\0", b" ").decode(errors="replace"))
            self._stop.wait(0.002)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _watch_command_lines() -> _CommandLineWatcher:
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs /proc")
    return _CommandLineWatcher()


def _git_push_plain(
    project: Path, refspec: str, extra: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "heroku", refspec],
        cwd=project,
        env={**os.environ, **extra},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_key_never_in_argv_git_config_files_or_output(
    standin: HerokuStandIn, flask_project: Path, tmp_path: Path
) -> None:
    from conftest import run_homedeploy

    real_git = shutil.which("git")
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    argv_log = tmp_path / "git-argv.log"
    wrapper = wrappers / "git"
    # Logs the argv of every git homedeploy (GitPython) runs, then runs the real git.
    wrapper.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "git $*" >> "{argv_log}"\nexec "{real_git}" "$@"\n'
    )
    wrapper.chmod(0o755)
    env = {"PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}"}
    seen = _watch_command_lines()
    first = run_homedeploy(
        "push", str(flask_project), "--create", "--app", APP, env=env, timeout=120
    )
    seen.stop()
    # Every process running during the push (git, git-remote-http, the credential helper's
    # shell...) had argv without the key.
    assert any("remote-http" in line for line in seen.lines)
    assert not [line for line in seen.lines if standin.key in line]
    assert first.returncode == 0, first.stdout + first.stderr
    standin.state.apps[APP].next_build.append({"mode": "no_matching_distribution"})
    commit_change(flask_project)
    failed = run_homedeploy("push", str(flask_project), "--json", env=env, timeout=120)
    assert failed.returncode == 1
    key = standin.key
    logged = argv_log.read_text()
    assert "push" in logged and key not in logged
    for output in (first.stdout, first.stderr, failed.stdout, failed.stderr):
        assert key not in output
    for path in (flask_project / ".git").rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    remote = git(flask_project, "remote", "get-url", "heroku")
    assert key not in remote and "@" not in remote
    # git sent the key only as Basic auth, never in a URL.
    assert any(r.auth_ok for r in standin.state.git_requests)
    assert all(key not in r.path for r in standin.state.git_requests + standin.state.requests)


# --------------------------------------------------------------------------- real dynos


def _get_through_proxy(url: str) -> tuple[int, str]:
    import requests

    answer = requests.get(url, timeout=30)  # HTTP_PROXY points at the stand-in
    return answer.status_code, answer.text


@pytest.mark.slow
def test_real_dyno_serves_the_pushed_code(
    standin_with_dynos: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_VERIFY_TIMEOUT", "20")
    code, out, err = push(str(flask_project), "--create", "--app", APP)
    assert code == 0, out + err
    app = standin_with_dynos.state.apps[APP]
    assert app.dyno is not None and app.dyno.running()
    status, body = _get_through_proxy(app.web_url)
    assert status == 200 and "Hello from Flask" in body


@pytest.mark.slow
def test_crashing_release_is_rolled_back_to_working_code(
    standin_with_dynos: HerokuStandIn, flask_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEDEPLOY_VERIFY_TIMEOUT", "20")
    assert push(str(flask_project), "--create", "--app", APP)[0] == 0
    (flask_project / "Procfile").write_text("web: gunicorn no_such_module:app\n")
    git(flask_project, "commit", "-q", "-am", "break the Procfile")
    monkeypatch.setenv("HOMEDEPLOY_VERIFY_TIMEOUT", "4")
    code, out, _ = push(str(flask_project), "--no-verify", "--rollback-on-fail", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["failure"].startswith("the web dyno crashed;")
    assert any("No module named 'no_such_module'" in line for line in report["log_tail"])
    assert report["rolled_back_to"] == 2
    app = standin_with_dynos.state.apps[APP]
    assert any("code=H10" in line for line in app.logs)
    assert any("No module named 'no_such_module'" in line for line in app.logs)
    assert any("State changed from starting to crashed" in line for line in app.logs)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, body = _get_through_proxy(app.web_url)
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200 and "Hello from Flask" in body  # v2's code runs again


@pytest.mark.parametrize(
    ("line", "headline", "cause"),
    [
        ("pywin32==306", "Unable to install dependencies using pip.", "No matching distribution"),
        ("numpy=1.26.4=py311h64a7726_0", "Unable to install dependencies using pip.", "Invalid"),
    ],
)
def test_requirements_heroku_cannot_install(
    standin: HerokuStandIn, flask_project: Path, line: str, headline: str, cause: str
) -> None:
    with (flask_project / "requirements.txt").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    git(flask_project, "commit", "-q", "-am", "freeze from my laptop")
    code, out, _ = push(str(flask_project), "--create", "--app", APP, "--no-verify", "--json")
    assert code == 1
    build = json.loads(out)["build"]
    assert build["headline"] == f"Error: {headline}"
    assert build["cause"].startswith(cause) and line.split("=")[0] in build["cause"]
    assert "homedeploy check-reqs" in build["fix"]
