"""A small client for the Heroku Platform API v3: typed results, errors with fixes, retries.

Why not plain ``requests.get(..., headers={"Authorization": ...})``: when ``~/.netrc`` has a
``machine api.heroku.com`` entry, requests silently replaces a header-set token with the netrc
login (psf/requests#2066), so the token goes through ``auth=`` (:class:`BearerAuth`), which
requests applies after netrc. Every call has a time-out; 429 and 5xx answers are retried with a
bounded exponential backoff (``HOMEDEPLOY_HEROKU_BACKOFF`` seconds, default 1, sets its base so
tests can make it fast); list endpoints follow ``206 Partial Content`` + ``Next-Range`` pages.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests

from homedeploy import __version__, netio, redact, settings
from homedeploy.errors import HomedeployError
from homedeploy.heroku.credentials import Credential

ACCEPT = "application/vnd.heroku+json; version=3"
log = logging.getLogger("homedeploy.heroku")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


# --------------------------------------------------------------------------- errors


class HerokuApiError(HomedeployError):
    """Heroku answered with an error body ``{id, message, url}``."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        status: int | None = None,
        error_id: str | None = None,
        url: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, fix=fix)
        self.status = status
        self.error_id = error_id
        self.url = url
        self.request_id = request_id


class Unauthorized(HerokuApiError):
    """401: the key is missing, wrong or expired."""


class Forbidden(HerokuApiError):
    """403: the account may not do this (another owner's app, suspended account, 2FA)."""


class NotFound(HerokuApiError):
    """404: no such app, release or process type (or not visible to this account)."""


class InvalidParams(HerokuApiError):
    """422 invalid_params: e.g. a taken app name or an impossible scale."""


class VerificationRequired(HerokuApiError):
    """422 verification_required / verification_needed: the account needs billing details."""


class RateLimited(HerokuApiError):
    """429 rate_limit after all retries."""

    exit_code = 3


class HerokuUnavailable(HerokuApiError):
    """Heroku could not be reached, or kept answering 5xx."""

    exit_code = 3


_FIXES: dict[str, str] = {
    "unauthorized": "check the key: `echo $HEROKU_API_KEY`, or create a new one on "
    "https://dashboard.heroku.com/account and export HEROKU_API_KEY=<key>.",
    "forbidden": "make sure this account owns the app or is a collaborator on it "
    "(`homedeploy apps` lists the apps you can use).",
    "suspended": "the account or app is suspended; see https://help.heroku.com.",
    "two_factor": "this action needs a second factor; do it once in the Heroku Dashboard.",
    "delinquent": "the account has unpaid invoices; settle them in the Heroku Dashboard.",
    "not_found": "check the name with `homedeploy apps`.",
    "invalid_params": "change the value Heroku rejected (see the message) and retry.",
    "verification_required": "add payment information at https://heroku.com/verify, then retry.",
    "rate_limit": "wait a few minutes before retrying (Heroku allows about 75 calls a minute).",
    "not_acceptable": "this is a homedeploy bug (wrong Accept header); please report it.",
}


def error_from_response(response: requests.Response) -> HerokuApiError:
    """Map an error response to the matching exception class, with a fix."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    error_id = str(body.get("id") or "")
    message = str(body.get("message") or body.get("error") or response.reason or "error")
    status = response.status_code
    kwargs: dict[str, Any] = {
        "status": status,
        "error_id": error_id or None,
        "url": redact.scrub(str(body["url"])) if isinstance(body.get("url"), str) else None,
        "request_id": response.headers.get("Request-Id"),
    }
    text = redact.scrub(f"Heroku API: {message.strip()} ({status} {error_id})".replace(" )", ")"))
    error_id = redact.scrub(error_id)
    if error_id in ("verification_required", "verification_needed"):
        return VerificationRequired(text, fix=_FIXES["verification_required"], **kwargs)
    if status == 401 or error_id == "unauthorized":
        return Unauthorized(text, fix=_FIXES["unauthorized"], **kwargs)
    if status == 403:
        return Forbidden(text, fix=_FIXES.get(error_id, _FIXES["forbidden"]), **kwargs)
    if status == 404:
        return NotFound(text, fix=_FIXES["not_found"], **kwargs)
    if status == 429 or error_id == "rate_limit":
        return RateLimited(text, fix=_FIXES["rate_limit"], **kwargs)
    if status == 422 or error_id == "invalid_params":
        return InvalidParams(text, fix=_FIXES["invalid_params"], **kwargs)
    if status >= 500:
        return HerokuUnavailable(
            text,
            fix="Heroku is having trouble; check https://status.heroku.com and retry.",
            **kwargs,
        )
    return HerokuApiError(text, fix=_FIXES.get(error_id), **kwargs)


# --------------------------------------------------------------------------- typed results


def _name(value: Any) -> str | None:
    return value.get("name") if isinstance(value, dict) else None


@dataclass(frozen=True)
class Account:
    id: str
    email: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Account:
        if not isinstance(data.get("id"), str) or not isinstance(data.get("email"), str):
            raise KeyError("account without id and email")
        return cls(id=data["id"], email=data["email"])


@dataclass(frozen=True)
class App:
    """An app as the API reports it. ``web_url`` is the only URL to use (names get a suffix)."""

    id: str
    name: str
    web_url: str | None
    git_url: str
    region: str | None = None
    stack: str | None = None
    owner: str | None = None
    created_at: str | None = None
    released_at: str | None = None
    maintenance: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> App:
        owner = data.get("owner")
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            web_url=data.get("web_url"),
            git_url=str(data.get("git_url") or f"https://git.heroku.com/{data['name']}.git"),
            region=_name(data.get("region")),
            stack=_name(data.get("stack")),
            owner=owner.get("email") if isinstance(owner, dict) else None,
            created_at=data.get("created_at"),
            released_at=data.get("released_at"),
            maintenance=bool(data.get("maintenance", False)),
        )


@dataclass(frozen=True)
class Release:
    id: str
    version: int
    status: str
    description: str
    current: bool
    eligible_for_rollback: bool
    created_at: str | None = None
    user: str | None = None
    slug_id: str | None = None
    output_stream_url: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        user = data.get("user")
        slug = data.get("slug")
        return cls(
            id=str(data["id"]),
            version=int(data["version"]),
            status=str(data.get("status") or "succeeded"),
            description=str(data.get("description") or ""),
            current=bool(data.get("current", False)),
            eligible_for_rollback=bool(data.get("eligible_for_rollback", False)),
            created_at=data.get("created_at"),
            user=user.get("email") if isinstance(user, dict) else None,
            slug_id=slug.get("id") if isinstance(slug, dict) else None,
            output_stream_url=data.get("output_stream_url"),
        )


@dataclass(frozen=True)
class Formation:
    type: str
    quantity: int
    size: str | None
    command: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Formation:
        size = _name(data.get("dyno_size")) or data.get("size")
        return cls(
            type=str(data["type"]),
            quantity=int(data.get("quantity") or 0),
            size=size,
            command=data.get("command"),
        )


@dataclass(frozen=True)
class Dyno:
    """A running (or crashed) process: ``state`` is crashed, down, idle, starting or up."""

    name: str
    type: str
    state: str
    release_version: int | None = None
    size: str | None = None
    command: str | None = None
    updated_at: str | None = None
    attach_url: str | None = field(default=None, repr=False)  # carries the session's secret

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dyno:
        release = data.get("release")
        version = release.get("version") if isinstance(release, dict) else None
        return cls(
            name=str(data.get("name") or ""),
            type=str(data.get("type") or ""),
            state=str(data.get("state") or ""),
            release_version=int(version) if version is not None else None,
            size=data.get("size"),
            command=data.get("command"),
            updated_at=data.get("updated_at") or data.get("created_at"),
            attach_url=data.get("attach_url"),
        )


@dataclass(frozen=True)
class Addon:
    """An add-on of an app: ``state`` is provisioning, provisioned or deprovisioned."""

    id: str
    name: str
    service: str | None
    plan: str | None
    state: str
    config_vars: tuple[str, ...] = ()
    web_url: str | None = None
    provision_message: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Addon:
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("name") or ""),
            service=_name(data.get("addon_service")),
            plan=_name(data.get("plan")),
            state=str(data.get("state") or ""),
            config_vars=tuple(str(v) for v in data.get("config_vars") or ()),
            web_url=data.get("web_url"),
            provision_message=data.get("provision_message"),
        )


@dataclass(frozen=True)
class BuildpackInstallation:
    ordinal: int
    name: str | None
    url: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildpackInstallation:
        pack = data.get("buildpack") or {}
        return cls(
            ordinal=int(data.get("ordinal") or 0), name=pack.get("name"), url=pack.get("url")
        )

    def is_python(self) -> bool:
        """True for Heroku's Python buildpack however it is spelled (name, urn or GitHub URL)."""
        values = {self.name or "", (self.url or "").removeprefix("urn:buildpack:")}
        return "heroku/python" in values or any(
            v.rstrip("/").removesuffix(".git").endswith("heroku/heroku-buildpack-python")
            for v in values
        )


@dataclass(frozen=True)
class LogSession:
    id: str
    logplex_url: str


# --------------------------------------------------------------------------- client


class BearerAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer <key>``; applied after netrc, so netrc cannot override it."""

    def __init__(self, credential: Credential) -> None:
        self._credential = credential

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._credential.key}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<hidden>)"


@dataclass
class RetryPolicy:
    """How often and how patiently to retry 429/5xx answers and dropped connections.

    Only idempotent requests (GET, PUT, DELETE, ...) are retried on an answer; a POST or PATCH
    is sent once (a connection that never opened is retried for any method, as nothing was sent).
    """

    attempts: int = 4
    backoff: float = 1.0
    max_sleep: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetryPolicy:
        return cls(backoff=settings.api_backoff(env))


class UnexpectedResponse(HerokuUnavailable):
    """A 2xx answer that is not the JSON the Platform API schema describes."""


def _describe_body(response: requests.Response) -> str:
    kind = response.headers.get("Content-Type", "no content type").split(";")[0]
    size = len(response.content or b"")
    return f"{kind}, {size} bytes"


def _unexpected(what: str, detail: str) -> UnexpectedResponse:
    return UnexpectedResponse(
        redact.scrub(f"Heroku API: unexpected answer to {what} ({detail})"),
        fix="this is not what api.heroku.com sends: check HOMEDEPLOY_HEROKU_API_URL and any "
        "proxy in between, or retry later (https://status.heroku.com).",
    )


_F = TypeVar("_F", bound=Callable[..., Any])


def _shaped(method: _F) -> _F:
    """Turn a response that does not fit the expected shape into one clear error."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            detail = (
                "not JSON"
                if isinstance(error, ValueError) and "JSON" in type(error).__name__ + str(error)
                else f"wrong shape: {type(error).__name__} {error}"[:200]
            )
            raise _unexpected(method.__name__.lstrip("_").replace("_", " "), detail) from None

    return wrapper  # type: ignore[return-value]


@dataclass
class HerokuClient:
    """Platform API calls homedeploy needs. Raises :class:`HerokuApiError` subclasses.

    Every call has a total deadline (``HOMEDEPLOY_HEROKU_DEADLINE``, retries included), bodies
    are capped, redirects are never followed (the key would go with them), and every answer is
    checked against the shape the endpoint returns.
    """

    credential: Credential
    base_url: str = field(default_factory=settings.api_base_url)
    timeout: tuple[float, float] = (10.0, 30.0)
    retry: RetryPolicy = field(default_factory=RetryPolicy.from_env)
    on_retry: Callable[[str], None] | None = None
    warnings: list[str] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)
    deadline: float = field(default_factory=settings.api_deadline)

    def __post_init__(self) -> None:
        self.session.auth = BearerAuth(self.credential)
        self.session.headers.update({"Accept": ACCEPT, "User-Agent": f"homedeploy/{__version__}"})
        netio.mount_guarded(
            self.session,
            netio.RetrySettings(
                attempts=self.retry.attempts,
                backoff=self.retry.backoff,
                max_sleep=self.retry.max_sleep,
                statuses=RETRY_STATUSES,
                on_retry=self._report_retry,
                retry_after_scale=min(self.retry.backoff, 1.0),
            ),
        )

    def _report_retry(self, text: str) -> None:
        if self.on_retry is not None:
            self.on_retry(f"Heroku {text}".replace(self.base_url, ""))

    def __repr__(self) -> str:
        return f"HerokuClient(base_url={self.base_url!r}, credential={self.credential!r})"

    # ---- transport

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One API call (retried if idempotent); returns a 2xx response or raises a mapped error.

        The body is read in full (capped) before returning, within the call's deadline.
        """
        url = self.base_url + path
        deadline = netio.Deadline(self.deadline, f"{method} {path}")
        try:
            with deadline:
                response = self.session.request(
                    method,
                    url,
                    json=body,
                    headers=dict(headers or {}),
                    timeout=deadline.timeout(*self.timeout),
                    stream=True,
                    allow_redirects=False,
                )
                try:
                    netio.read_body(response, deadline)
                finally:
                    response.close()
        except netio.BodyTooLarge as error:
            raise _unexpected(f"{method} {path}", f"a body of {error}") from None
        except (netio.DeadlineExceeded, requests.RequestException) as error:
            if deadline.expired:
                raise HerokuUnavailable(
                    f"the Heroku API did not finish {method} {path} within {self.deadline:g} s",
                    fix="retry later (https://status.heroku.com); a slow link can allow more "
                    f"time with {settings.HEROKU_DEADLINE}=<seconds>.",
                ) from None
            raise HerokuUnavailable(
                f"cannot reach the Heroku API at {self.base_url} ({type(error).__name__})",
                fix="check your internet connection (and HOMEDEPLOY_HEROKU_API_URL if "
                "set), or https://status.heroku.com.",
            ) from None
        log.debug(
            "%s %s -> %s (%.2f s)",
            method,
            path,
            response.status_code,
            response.elapsed.total_seconds(),
        )
        for header in ("X-Heroku-Warning", "Warning-Message"):
            if response.headers.get(header):
                self.warnings.append(redact.scrub(response.headers[header]))
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "")
            host = urlsplit(urljoin(url, location)).netloc or "?"
            write = "" if method in netio.IDEMPOTENT else " a write, so nothing was changed"
            raise HerokuApiError(
                redact.scrub(
                    f"Heroku API: {method} {path} was redirected ({response.status_code}) to "
                    f"{host}; homedeploy does not follow API redirects (the key and any body "
                    f"would go with them){write and ':'}{write}"
                ),
                status=response.status_code,
                fix="check HOMEDEPLOY_HEROKU_API_URL and any proxy in between; the Platform "
                "API answers directly.",
            )
        if response.status_code < 300:
            return response
        raise error_from_response(response)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("GET", path, headers=headers).json()

    def get_object(self, path: str) -> dict[str, Any]:
        found: dict[str, Any] = _expect(self.get(path), dict, f"GET {path}")
        return found

    def get_list(self, path: str) -> list[dict[str, Any]]:
        return _expect_list(self.get(path), f"GET {path}")

    def list_all(
        self, path: str, range_header: str | None = None, limit: int | None = None
    ) -> list[Any]:
        """All items of a list endpoint, following ``206`` + ``Next-Range`` (up to ``limit``)."""
        items: list[Any] = []
        next_range = range_header
        while True:
            headers = {"Range": next_range} if next_range else None
            response = self.request("GET", path, headers=headers)
            items.extend(_expect_list(response.json(), f"GET {path}"))
            if limit is not None and len(items) >= limit:
                return items[:limit]
            next_range = response.headers.get("Next-Range")
            if response.status_code != 206 or not next_range:
                return items

    # ---- endpoints

    def account(self) -> Account:
        return Account.from_json(self.get("/account"))

    def app(self, name: str) -> App:
        return App.from_json(self.get(f"/apps/{name}"))

    def apps(self) -> list[App]:
        """Apps this account owns or collaborates on (what ``heroku apps`` shows)."""
        return [App.from_json(a) for a in self.list_all("/users/~/apps", "name ..; max=1000")]

    def create_app(self, name: str | None, region: str | None = None) -> App:
        body: dict[str, Any] = {}
        if name:
            body["name"] = name
        if region:
            body["region"] = region
        return App.from_json(self.request("POST", "/apps", body=body).json())

    def buildpacks(self, app: str) -> list[BuildpackInstallation]:
        data = self.get(f"/apps/{app}/buildpack-installations")
        return [BuildpackInstallation.from_json(b) for b in data]

    def set_buildpacks(self, app: str, buildpacks: list[str]) -> list[BuildpackInstallation]:
        body = {"updates": [{"buildpack": b} for b in buildpacks]}
        data = self.request("PUT", f"/apps/{app}/buildpack-installations", body=body).json()
        return [BuildpackInstallation.from_json(b) for b in data]

    def releases(self, app: str, limit: int = 15) -> list[Release]:
        """The newest ``limit`` releases, newest first."""
        data = self.list_all(
            f"/apps/{app}/releases", f"version ..; max={limit}, order=desc", limit=limit
        )
        return sorted((Release.from_json(r) for r in data), key=lambda r: -r.version)

    def release(self, app: str, version: int | str) -> Release:
        return Release.from_json(self.get(f"/apps/{app}/releases/{version}"))

    def rollback(self, app: str, release_id: str) -> Release:
        data = self.request("POST", f"/apps/{app}/releases", body={"release": release_id}).json()
        return Release.from_json(data)

    def formation(self, app: str) -> list[Formation]:
        return [Formation.from_json(f) for f in self.get(f"/apps/{app}/formation")]

    def scale(
        self, app: str, updates: Sequence[tuple[str, int | None, str | None]]
    ) -> list[Formation]:
        """Set quantity and/or size per process type in one batch call."""
        body_updates: list[dict[str, Any]] = []
        for process_type, quantity, size in updates:
            item: dict[str, Any] = {"type": process_type}
            if quantity is not None:
                item["quantity"] = quantity
            if size:
                item["dyno_size"] = {"name": size}
            body_updates.append(item)
        data = self.request(
            "PATCH", f"/apps/{app}/formation", body={"updates": body_updates}
        ).json()
        return [Formation.from_json(f) for f in data]

    def dynos(self, app: str) -> list[Dyno]:
        return [Dyno.from_json(d) for d in self.get(f"/apps/{app}/dynos")]

    def dyno(self, app: str, name: str) -> Dyno:
        return Dyno.from_json(self.get(f"/apps/{app}/dynos/{name}"))

    def restart(
        self, app: str, *, dyno: str | None = None, process_type: str | None = None
    ) -> None:
        """Restart one dyno (``web.1``), every dyno of a process type (``web``), or all."""
        if dyno:
            self.request("DELETE", f"/apps/{app}/dynos/{dyno}")
        elif process_type:
            self.request("DELETE", f"/apps/{app}/formations/{process_type}")
        else:
            self.request("DELETE", f"/apps/{app}/dynos")

    def create_dyno(
        self,
        app: str,
        command: str,
        *,
        attach: bool,
        env: Mapping[str, str] | None = None,
        size: str | None = None,
        process_type: str | None = None,
        time_to_live: int | None = None,
        force_no_tty: bool = False,
    ) -> Dyno:
        """A one-off dyno; with ``attach`` its ``attach_url`` is a rendezvous session."""
        body: dict[str, Any] = {"command": command, "attach": attach}
        if env:
            body["env"] = dict(env)
        if size:
            body["size"] = size
        if process_type:
            body["type"] = process_type
        if time_to_live is not None:
            body["time_to_live"] = time_to_live
        if force_no_tty:
            body["force_no_tty"] = True
        return Dyno.from_json(self.request("POST", f"/apps/{app}/dynos", body=body).json())

    def set_maintenance(self, app: str, on: bool) -> App:
        return App.from_json(self.request("PATCH", f"/apps/{app}", body={"maintenance": on}).json())

    def addons(self, app: str) -> list[Addon]:
        return [Addon.from_json(a) for a in self.get(f"/apps/{app}/addons")]

    def addon(self, app: str, name: str) -> Addon:
        return Addon.from_json(self.get(f"/apps/{app}/addons/{name}"))

    def create_addon(
        self, app: str, plan: str, *, attachment: str | None = None, confirm: str | None = None
    ) -> Addon:
        """Provision ``plan`` (``service:plan`` or ``service``); ``attachment`` names its vars."""
        body: dict[str, Any] = {"plan": plan}
        if attachment:
            body["attachment"] = {"name": attachment}
        if confirm:
            body["confirm"] = confirm
        return Addon.from_json(self.request("POST", f"/apps/{app}/addons", body=body).json())

    def delete_addon(self, app: str, name: str) -> Addon:
        return Addon.from_json(self.request("DELETE", f"/apps/{app}/addons/{name}").json())

    def config_vars(self, app: str) -> dict[str, str]:
        data = self.get(f"/apps/{app}/config-vars")
        return {str(k): str(v) for k, v in data.items() if v is not None}

    def update_config_vars(self, app: str, changes: Mapping[str, str | None]) -> dict[str, str]:
        data = self.request("PATCH", f"/apps/{app}/config-vars", body=dict(changes)).json()
        return {str(k): str(v) for k, v in data.items() if v is not None}

    def create_log_session(
        self,
        app: str,
        *,
        tail: bool = False,
        lines: int | None = None,
        dyno: str | None = None,
        process_type: str | None = None,
        source: str | None = None,
    ) -> LogSession:
        body: dict[str, Any] = {"tail": tail}
        if lines is not None:
            body["lines"] = lines
        if dyno:
            body["dyno_name"] = dyno
        if process_type:
            body["type"] = process_type
        if source:
            body["source"] = source
        data = self.request("POST", f"/apps/{app}/log-sessions", body=body).json()
        url = data["logplex_url"]
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("logplex_url is not an http(s) URL")
        return LogSession(id=str(data["id"]), logplex_url=url)

    def stream_lines(
        self, url: str, *, read_timeout: float | None = 60.0, total: float | None = None
    ) -> Iterator[str]:
        """Lines of a log/output stream (``text/plain`` or server-sent events, ``data:`` stripped).

        The stream URL carries its own token, so no Heroku auth is sent with it. The answer's
        headers must come within the API deadline; then each line within ``read_timeout``
        (silence raises ``requests.ReadTimeout``, as a per-read time-out would) and, with
        ``total``, the whole stream within ``total`` seconds.
        """
        session = netio.guarded_session()
        session.headers.update(
            {"Accept": "text/event-stream", "User-Agent": f"homedeploy/{__version__}"}
        )
        started = time.monotonic()
        deadline = netio.Deadline(self.deadline, "the log stream")
        try:
            with deadline:
                response = session.get(
                    url, stream=True, timeout=deadline.timeout(self.timeout[0], read_timeout)
                )
                with response:
                    if response.status_code >= 400:
                        netio.read_body(response, deadline, limit=1024 * 1024)
                        raise error_from_response(response)
                    lines = netio.iter_lines_within(response, deadline)
                    while True:
                        budget = read_timeout if read_timeout is not None else 3600.0
                        if total is not None:
                            budget = min(budget, max(total - (time.monotonic() - started), 0.0))
                        deadline.extend(budget)
                        raw = next(lines, None)
                        if raw is None:
                            return
                        line = sse_payload(redact.scrub(raw.decode("utf-8", errors="replace")))
                        if line is not None:
                            yield line
        except (netio.DeadlineExceeded, requests.RequestException) as error:
            if deadline.expired:
                raise requests.ReadTimeout("the stream sent no complete line in time") from None
            raise error
        except netio.BodyTooLarge:
            raise requests.ConnectionError("the stream sent an overlong line") from None


_NOT_ENDPOINTS = frozenset({"request", "get", "get_object", "get_list", "list_all", "stream_lines"})
for _name_, _method_ in list(vars(HerokuClient).items()):
    if callable(_method_) and not _name_.startswith("_") and _name_ not in _NOT_ENDPOINTS:
        setattr(HerokuClient, _name_, _shaped(_method_))


def _expect(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"{what} gave {type(value).__name__}, not {kind.__name__}")
    return value


def _expect_list(value: Any, what: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _expect(value, list, what)
    if not all(isinstance(item, dict) for item in items):
        raise TypeError(f"{what} gave a list with non-object items")
    return items


def sse_payload(line: str) -> str | None:
    """The text of a stream line: ``data: x`` -> ``x``; SSE ``id:``/``event:``/comments -> None.

    Plain-text streams pass through unchanged, so one reader handles both stream kinds.
    """
    if line.startswith("data:"):
        payload = line[5:]
        return payload[1:] if payload.startswith(" ") else payload
    if line == "" or line.startswith((":", "id:", "event:", "retry:")):
        return None
    return line
