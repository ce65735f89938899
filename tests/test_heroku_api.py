"""The Platform API client: headers, auth, error mapping, retries, pagination, time-outs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from conftest import free_port
from heroku_standin import HerokuStandIn

from homedeploy.heroku.api import (
    BuildpackInstallation,
    Forbidden,
    HerokuApiError,
    HerokuClient,
    HerokuUnavailable,
    InvalidParams,
    NotFound,
    RateLimited,
    RetryPolicy,
    Unauthorized,
    VerificationRequired,
    error_from_response,
    sse_payload,
)
from homedeploy.heroku.credentials import Credential


def fake_response(
    status: int, body: object, headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(
    ("status", "body", "cls", "fix_part"),
    [
        (
            401,
            {"id": "unauthorized", "message": "Invalid credentials provided."},
            Unauthorized,
            "HEROKU_API_KEY",
        ),
        (
            401,
            {"id": "unauthorized", "error": "Invalid credentials provided."},
            Unauthorized,
            "key",
        ),
        (
            403,
            {"id": "forbidden", "message": "You do not have access to the app x."},
            Forbidden,
            "collaborator",
        ),
        (
            404,
            {"id": "not_found", "message": "Couldn't find that app."},
            NotFound,
            "homedeploy apps",
        ),
        (422, {"id": "invalid_params", "message": "Name is already taken"}, InvalidParams, "retry"),
        (
            422,
            {"id": "verification_required", "message": "verify"},
            VerificationRequired,
            "heroku.com/verify",
        ),
        (
            422,
            {"id": "verification_needed", "message": "billing"},
            VerificationRequired,
            "heroku.com/verify",
        ),
        (
            429,
            {"id": "rate_limit", "message": "Your account reached the API rate limit"},
            RateLimited,
            "wait",
        ),
        (503, {"id": "unavailable", "message": "down"}, HerokuUnavailable, "status.heroku.com"),
    ],
)
def test_error_mapping(status: int, body: dict[str, str], cls: type, fix_part: str) -> None:
    error = error_from_response(fake_response(status, body, {"Request-Id": "r-1"}))
    assert type(error) is cls
    assert (body.get("message") or body.get("error", "")) in error.message
    assert fix_part in (error.fix or "")
    assert error.status == status and error.error_id == body["id"] and error.request_id == "r-1"


def test_error_without_json_body() -> None:
    response = requests.Response()
    response.status_code = 500
    response._content = b"<html>oops</html>"
    response.reason = "Internal Server Error"
    error = error_from_response(response)
    assert isinstance(error, HerokuUnavailable) and "Internal Server Error" in error.message


def test_exit_codes() -> None:
    assert Unauthorized("x").exit_code == 2
    assert RateLimited("x").exit_code == 3 and HerokuUnavailable("x").exit_code == 3


def test_client_repr_hides_key() -> None:
    client = HerokuClient(Credential(key="HIDDEN-KEY-1", source="t"), base_url="http://127.0.0.1:9")
    assert "HIDDEN-KEY-1" not in repr(client) and "HIDDEN-KEY-1" not in repr(client.session.auth)


def test_unreachable_api_is_a_network_error() -> None:
    client = HerokuClient(
        Credential(key="k", source="t"),
        base_url=f"http://127.0.0.1:{free_port()}",
        retry=RetryPolicy(attempts=2, backoff=0.0),
    )
    with pytest.raises(HerokuUnavailable) as caught:
        client.account()
    assert "cannot reach the Heroku API" in caught.value.message and caught.value.exit_code == 3


def test_5xx_retries_are_bounded(standin: HerokuStandIn) -> None:
    standin.inject("GET", "^/account$", 503, "unavailable", "down", times=10)
    messages: list[str] = []
    client = HerokuClient(
        Credential(key=standin.key, source="t"),
        base_url=standin.api_url,
        retry=RetryPolicy(attempts=3, backoff=0.0),
        on_retry=messages.append,
    )
    with pytest.raises(HerokuUnavailable):
        client.account()
    assert len(standin.requests_to("GET", "^/account$")) == 3
    assert len(messages) == 2 and "503" in messages[0]


def test_accept_header_is_required_by_the_standin(standin: HerokuStandIn) -> None:
    answer = requests.get(
        standin.api_url + "/account", headers={"Authorization": f"Bearer {standin.key}"}, timeout=5
    )
    assert answer.status_code == 406 and answer.json()["id"] == "not_acceptable"


def test_releases_pagination_newest_first(standin: HerokuStandIn) -> None:
    app = standin.add_app("paged-app")
    for number in range(6):
        app.add_release(f"Set config {number}")
    standin.state.page_size = 4
    client = HerokuClient(Credential(key=standin.key, source="t"), base_url=standin.api_url)
    releases = client.releases("paged-app", limit=7)
    assert [r.version for r in releases] == [7, 6, 5, 4, 3, 2, 1]
    ranges = [r.headers.get("Range") for r in standin.requests_to("GET", "/releases$")]
    assert ranges == ["version ..; max=7, order=desc", "version ]4..; max=4, order=desc"]


def test_buildpack_spellings() -> None:
    def bp(name: str | None, url: str | None) -> BuildpackInstallation:
        return BuildpackInstallation(0, name, url)

    assert bp("heroku/python", "urn:buildpack:heroku/python").is_python()
    assert bp(None, "https://github.com/heroku/heroku-buildpack-python.git").is_python()
    assert not bp("heroku/nodejs", "urn:buildpack:heroku/nodejs").is_python()


def test_sse_payload() -> None:
    assert (
        sse_payload("data: 2024-10-17T22:23:22 app[web.1]: hi")
        == "2024-10-17T22:23:22 app[web.1]: hi"
    )
    assert sse_payload("data:x") == "x"
    assert (
        sse_payload("id: 1002") is None
        and sse_payload("") is None
        and sse_payload(": ping") is None
    )
    assert sse_payload("2024-10-17 plain text line") == "2024-10-17 plain text line"


def test_api_error_is_a_homedeploy_error() -> None:
    from homedeploy.errors import HomedeployError

    assert issubclass(HerokuApiError, HomedeployError)


def test_standin_rejects_what_the_schema_rejects(standin: HerokuStandIn, shared_dir: Path) -> None:
    """The stand-in's schema check is real: bodies real Heroku would refuse are caught."""
    assert standin.validator is not None
    app = standin.add_app("schema-app")
    app.set_process_types({"web": "gunicorn wsgi:app"})
    headers = {
        "Authorization": f"Bearer {standin.key}",
        "Accept": "application/vnd.heroku+json; version=3",
    }
    base = f"{standin.api_url}/apps/schema-app"
    bad_scale = requests.patch(
        f"{base}/formation",
        json={"updates": [{"type": "web", "quantity": 1, "size": "basic"}]},
        headers=headers,
        timeout=5,
    )
    old_log_param = requests.post(
        f"{base}/log-sessions", json={"dyno": "web.1"}, headers=headers, timeout=5
    )
    bad_config = requests.patch(
        f"{base}/config-vars", json={"A-B": "x"}, headers=headers, timeout=5
    )
    assert [r.status_code for r in (bad_scale, old_log_param, bad_config)] == [422, 422, 422]
    errors = "\n".join(standin.state.schema_errors)
    assert "size" in errors and "dyno" in errors and "A-B" in errors
    standin.state.schema_errors.clear()  # expected here; the fixture fails on any other


def test_standin_skips_validation_without_the_schema(tmp_path: Path) -> None:
    from heroku_standin.schema import load_validator

    assert load_validator(tmp_path / "absent.json") is None
