"""Hostile servers: wrong shapes, drip-feeds, stalls and redirects end in one clear error, fast.

Every server here is :class:`tests.fault_server.FaultServer` on 127.0.0.1; redirect targets run
on 127.0.0.2 (another host to the client). Deadlines are set to a second or two so a hang shows
up as a slow test, and each case asserts the time taken.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homedeploy.errors import HomedeployError
from homedeploy.heroku.api import HerokuClient, HerokuUnavailable, RetryPolicy
from homedeploy.heroku.credentials import Credential
from tests.conftest import invoke
from tests.fault_server import FaultServer, second_loopback_available

pytestmark = pytest.mark.timeout(60)

KEY = "0f1e2d3c-HOSTILE-KEY-4b5a69788796"
ACCOUNT = b'{"id": "u1", "email": "dev@example.com"}'
APP_JSON = json.dumps(
    {"id": "01234567-89ab-cdef-0123-456789abcdef", "name": "demo", "web_url": None}
).encode()


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault:
        yield fault


@pytest.fixture
def second() -> Iterator[FaultServer]:
    if not second_loopback_available():
        pytest.skip("127.0.0.2 is not usable here")
    with FaultServer("127.0.0.2") as fault:
        yield fault


def client(server: FaultServer, deadline: float = 2.0, attempts: int = 3) -> HerokuClient:
    return HerokuClient(
        Credential(key=KEY, source="test"),
        base_url=server.url,
        retry=RetryPolicy(attempts=attempts, backoff=0.0),
        deadline=deadline,
    )


CALLS: dict[str, tuple[str, str, Any]] = {
    "account": ("GET", "/account", lambda c: c.account()),
    "app": ("GET", "/apps/demo$", lambda c: c.app("demo")),
    "apps": ("GET", "/users/~/apps", lambda c: c.apps()),
    "releases": ("GET", "/releases", lambda c: c.releases("demo")),
    "formation": ("GET", "/formation", lambda c: c.formation("demo")),
    "dynos": ("GET", "/dynos", lambda c: c.dynos("demo")),
    "config_vars": ("GET", "/config-vars", lambda c: c.config_vars("demo")),
    "update_config_vars": ("PATCH", "/config-vars", lambda c: c.update_config_vars("demo", {})),
    "create_app": ("POST", "/apps$", lambda c: c.create_app("demo")),
    "rollback": ("POST", "/releases", lambda c: c.rollback("demo", "x")),
    "log_session": ("POST", "/log-sessions", lambda c: c.create_log_session("demo")),
    "buildpacks": ("GET", "/buildpack-installations", lambda c: c.buildpacks("demo")),
    "addons": ("GET", "/addons", lambda c: c.addons("demo")),
}
BODIES: dict[str, tuple[bytes, str]] = {
    "html": (b"<html><body>Welcome to the captive portal</body></html>", "text/html"),
    "invalid-json": (b'{"id": "x", "name": ', "application/json"),
    "null": (b"null", "application/json"),
    "list": (b"[1, 2, 3]", "application/json"),
    "string": (b'"hello"', "application/json"),
    "empty-object": (b"{}", "application/json"),
    "object-of-lists": (
        b'{"id": [], "name": {}, "version": "v", "type": null}',
        "application/json",
    ),
    "empty": (b"", "application/json"),
    "log-url-not-http": (b'{"id": "s", "logplex_url": "file:///etc/passwd"}', "application/json"),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("body", sorted(BODIES))
def test_wrong_shapes_become_one_clear_error(server: FaultServer, call: str, body: str) -> None:
    method, path, run = CALLS[call]
    raw, ctype = BODIES[body]
    server.rule(method, path, "raw", body=raw, content_type=ctype)
    try:
        run(client(server))
    except HomedeployError as error:
        assert "unexpected answer" in error.message or "Heroku API" in error.message
        assert KEY not in str(error)


def test_huge_answer_is_capped(server: FaultServer) -> None:
    server.rule("GET", "/users/~/apps", "huge")
    started = time.monotonic()
    with pytest.raises(HerokuUnavailable, match="MB"):
        client(server, deadline=20).apps()
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("kind", ["drip", "drip_close", "drip_headers", "stall"])
def test_slow_servers_meet_the_total_deadline(server: FaultServer, kind: str) -> None:
    server.rule("GET", "/account", kind, interval=0.3)
    started = time.monotonic()
    with pytest.raises(HerokuUnavailable, match=r"within 1\.5 s"):
        client(server, deadline=1.5).account()
    assert time.monotonic() - started < 5


def test_retries_are_for_idempotent_requests_only(server: FaultServer) -> None:
    server.rule("*", "/", "raw", status=503, body=b'{"id": "unavailable", "message": "down"}')
    with pytest.raises(HerokuUnavailable):
        client(server, attempts=3).create_app("demo")
    with pytest.raises(HerokuUnavailable):
        client(server, attempts=3).rollback("demo", "r")
    with pytest.raises(HerokuUnavailable):
        client(server, attempts=3).update_config_vars("demo", {"A": "1"})
    assert [s.method for s in server.seen] == ["POST", "POST", "PATCH"]
    with pytest.raises(HerokuUnavailable):
        client(server, attempts=3).account()
    assert [s.method for s in server.seen].count("GET") == 3


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_redirects_are_never_followed(
    server: FaultServer, second: FaultServer, status: int, method: str
) -> None:
    second.rule("*", "/", "raw", body=b"{}")
    server.rule("*", "/", "redirect", status=status, location=f"{second.url}/steal")
    with pytest.raises(HomedeployError, match="redirected") as caught:
        if method == "GET":
            client(server).config_vars("demo")
        else:
            client(server).update_config_vars("demo", {"SECRET": "value"})
    assert "127.0.0.2" in caught.value.message
    assert second.seen == []


def test_error_body_echoing_the_key_is_scrubbed(server: FaultServer) -> None:
    server.rule(
        "GET",
        "/account",
        "raw",
        status=400,
        body=json.dumps({"id": "bad_request", "message": f"bad token {KEY}"}).encode(),
    )
    with pytest.raises(HomedeployError) as caught:
        client(server).account()
    assert KEY not in str(caught.value) and "<hidden>" in caught.value.message


def _env(server: FaultServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "HEROKU_API_KEY": KEY,
        "HOMEDEPLOY_HEROKU_API_URL": server.url,
        "HOMEDEPLOY_HEROKU_DEADLINE": "1.5",
        "HOMEDEPLOY_HEROKU_BACKOFF": "0",
        "HOMEDEPLOY_NO_KEYCHAIN": "1",
        "HOME": str(tmp_path),
        **extra,
    }


@pytest.mark.parametrize(
    "argv",
    [["apps"], ["releases", "-a", "demo"], ["logs", "-a", "demo"], ["config", "-a", "demo"]],
)
@pytest.mark.parametrize("kind", ["drip", "stall", "html", "null", "key-echo"])
def test_heroku_commands_end_cleanly(
    server: FaultServer, tmp_path: Path, argv: list[str], kind: str
) -> None:
    if kind == "html":
        server.rule("*", "/", "raw", body=b"<html>hi</html>", content_type="text/html")
    elif kind == "null":
        server.rule("*", "/", "raw", body=b"null")
    elif kind == "key-echo":
        body = json.dumps({"id": "internal", "message": f"oops {KEY}"}).encode()
        server.rule("*", "/", "raw", status=500, body=body)
    else:
        server.rule("*", "/", kind, interval=0.3)
    server.rule("GET", "/apps/demo$", "raw", body=APP_JSON)
    started = time.monotonic()
    result = invoke(*argv, "--json", cwd=tmp_path, env=_env(server, tmp_path))
    assert time.monotonic() - started < 15
    assert result.exit_code in (2, 3), result.output
    assert KEY not in result.output
    assert "Traceback" not in result.output


def test_log_stream_that_drips_ends(server: FaultServer, tmp_path: Path) -> None:
    server.rule("GET", "/account", "raw", body=ACCOUNT)
    server.rule("GET", "/apps/demo$", "raw", body=APP_JSON)
    stream = f"{server.url}/stream"
    session = json.dumps({"id": "s", "logplex_url": stream}).encode()
    server.rule("POST", "/log-sessions", "raw", status=201, body=session)
    server.rule("GET", "/stream", "drip", interval=0.3, content_type="text/plain")
    started = time.monotonic()
    result = invoke("logs", "-a", "demo", cwd=tmp_path, env=_env(server, tmp_path))
    assert time.monotonic() - started < 15
    assert result.exit_code == 3, (result.output, [(s.method, s.path) for s in server.seen])


def test_config_push_redirect_sends_nothing_elsewhere(
    server: FaultServer, second: FaultServer, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("SECRET_TOKEN=s3cr3t-value\n")
    server.rule("GET", "/account", "raw", body=ACCOUNT)
    server.rule("GET", "/apps/demo$", "raw", body=APP_JSON)
    server.rule("GET", "/config-vars", "raw", body=b"{}")
    server.rule("PATCH", "/config-vars", "redirect", status=307, location=f"{second.url}/x")
    result = invoke("config", "push", "-a", "demo", "--yes", str(tmp_path), cwd=tmp_path,
                    env=_env(server, tmp_path))  # fmt: skip
    if "no such option" in result.output:
        result = invoke("config", "push", "-a", "demo", str(tmp_path), cwd=tmp_path,
                        env=_env(server, tmp_path))  # fmt: skip
    assert result.exit_code != 0, result.output
    assert "done" not in result.output.lower().split("error")[0] or "redirected" in result.output
    assert second.seen == []


# ---------------------------------------------------------------- package index


@pytest.mark.parametrize("kind", ["drip", "drip_close", "stall", "drip_headers"])
def test_index_lookups_meet_their_deadline(
    server: FaultServer, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.rule("GET", "/", kind, interval=0.3)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("flask==3.0.0\n")
    monkeypatch.setenv("PIP_INDEX_URL", f"{server.url}/simple/")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("HOMEDEPLOY_INDEX_DEADLINE", "1.5")
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    started = time.monotonic()
    result = invoke("check-reqs", str(requirements), "--json")
    assert time.monotonic() - started < 30
    assert "Traceback" not in result.output
    assert result.exit_code in (1, 2, 3), result.output


# ---------------------------------------------------------------- git


def _repo(tmp_path: Path, url: str) -> Any:
    from git import Repo

    project = tmp_path / "proj"
    project.mkdir()
    (project / "a.txt").write_text("a\n")
    subprocess.run(["git", "init", "-q", "-b", "main", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "add", "a.txt"], check=True)
    subprocess.run(["git", "-C", str(project), "commit", "-qm", "a"], check=True)
    repo = Repo(project)
    repo.create_remote("heroku", url)
    return repo


def test_stalled_git_push_meets_its_deadline(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homedeploy.heroku.git import push_head

    monkeypatch.setenv("HOMEDEPLOY_HEROKU_GIT_URL", server.url)
    server.rule("*", "/", "stall")
    repo = _repo(tmp_path, f"{server.url}/demo.git")
    started = time.monotonic()
    outcome = push_head(repo, KEY, timeout=2)
    assert time.monotonic() - started < 15
    assert outcome.error is not None and "did not finish within 2 s" in outcome.error
    assert KEY not in outcome.error


def test_git_key_goes_only_to_the_configured_host(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homedeploy.errors import ProjectError
    from homedeploy.heroku.git import push_head, remote_url_for

    monkeypatch.delenv("HOMEDEPLOY_HEROKU_GIT_URL", raising=False)
    assert remote_url_for("demo", f"{server.url}/demo.git") == "https://git.heroku.com/demo.git"
    assert remote_url_for("demo", "https://git.heroku.com/demo.git").startswith("https://git.")
    repo = _repo(tmp_path, f"{server.url}/demo.git")
    with pytest.raises(ProjectError, match="only to the configured git host"):
        push_head(repo, KEY, timeout=5)
    assert server.seen == []


def test_git_does_not_follow_a_redirect_with_the_key(
    server: FaultServer, second: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homedeploy.heroku.git import push_head

    monkeypatch.setenv("HOMEDEPLOY_HEROKU_GIT_URL", server.url)
    second.rule("*", "/", "raw", status=401, body=b"")
    server.rule("*", "/", "redirect", status=302, location=f"{second.url}/demo.git/info/refs")
    repo = _repo(tmp_path, f"{server.url}/demo.git")
    outcome = push_head(repo, KEY, timeout=10)
    assert outcome.error is not None
    assert second.seen == []
