"""A small client for the Heroku Platform API v3: typed results, errors with fixes, retries.

Why not plain ``requests.get(..., headers={"Authorization": ...})``: when ``~/.netrc`` has a
``machine api.heroku.com`` entry, requests silently replaces a header-set token with the netrc
login (psf/requests#2066), so the token goes through ``auth=`` (:class:`BearerAuth`), which
requests applies after netrc. Every call has a time-out; 429 and 5xx answers are retried with a
bounded exponential backoff (``HOMEDEPLOY_HEROKU_BACKOFF`` seconds, default 1, sets its base so
tests can make it fast); list endpoints follow ``206 Partial Content`` + ``Next-Range`` pages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from homedeploy import __version__, settings
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
        "url": body.get("url"),
        "request_id": response.headers.get("Request-Id"),
    }
    text = f"Heroku API: {message.strip()} ({status} {error_id})".replace(" )", ")")
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
        return cls(id=str(data.get("id", "")), email=str(data.get("email", "")))


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
    """How often and how patiently to retry 429/5xx answers and dropped connections."""

    attempts: int = 4
    backoff: float = 1.0
    max_sleep: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetryPolicy:
        return cls(backoff=settings.api_backoff(env))

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_sleep) * min(self.backoff, 1.0)
            except ValueError:
                pass
        return min(self.backoff * (2**attempt), self.max_sleep)


@dataclass
class HerokuClient:
    """Platform API calls homedeploy needs. Raises :class:`HerokuApiError` subclasses."""

    credential: Credential
    base_url: str = field(default_factory=settings.api_base_url)
    timeout: tuple[float, float] = (10.0, 30.0)
    retry: RetryPolicy = field(default_factory=RetryPolicy.from_env)
    on_retry: Callable[[str], None] | None = None
    warnings: list[str] = field(default_factory=list)
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.auth = BearerAuth(self.credential)
        self.session.headers.update({"Accept": ACCEPT, "User-Agent": f"homedeploy/{__version__}"})

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
        """One API call with retries; returns a 2xx response or raises a mapped error."""
        url = self.base_url + path
        last: requests.Response | None = None
        for attempt in range(self.retry.attempts):
            try:
                response = self.session.request(
                    method, url, json=body, headers=dict(headers or {}), timeout=self.timeout
                )
            except requests.RequestException as error:
                if attempt + 1 >= self.retry.attempts:
                    raise HerokuUnavailable(
                        f"cannot reach the Heroku API at {self.base_url} ({type(error).__name__})",
                        fix="check your internet connection (and HOMEDEPLOY_HEROKU_API_URL if "
                        "set), or https://status.heroku.com.",
                    ) from None
                self._sleep(attempt, None, f"connection problem ({type(error).__name__})")
                continue
            log.debug(
                "%s %s -> %s (%.2f s)",
                method,
                path,
                response.status_code,
                response.elapsed.total_seconds(),
            )
            for header in ("X-Heroku-Warning", "Warning-Message"):
                if response.headers.get(header):
                    self.warnings.append(response.headers[header])
            if response.status_code < 400:
                return response
            last = response
            if response.status_code in RETRY_STATUSES and attempt + 1 < self.retry.attempts:
                self._sleep(
                    attempt,
                    response.headers.get("Retry-After"),
                    f"Heroku answered {response.status_code} to {method} {path}",
                )
                continue
            break
        assert last is not None
        raise error_from_response(last)

    def _sleep(self, attempt: int, retry_after: str | None, why: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        if self.on_retry is not None:
            self.on_retry(f"{why}; retrying in {delay:.1f} s")
        time.sleep(delay)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("GET", path, headers=headers).json()

    def list_all(
        self, path: str, range_header: str | None = None, limit: int | None = None
    ) -> list[Any]:
        """All items of a list endpoint, following ``206`` + ``Next-Range`` (up to ``limit``)."""
        items: list[Any] = []
        next_range = range_header
        while True:
            headers = {"Range": next_range} if next_range else None
            response = self.request("GET", path, headers=headers)
            page = response.json()
            items.extend(page if isinstance(page, list) else [])
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
        return LogSession(id=str(data["id"]), logplex_url=str(data["logplex_url"]))

    def stream_lines(self, url: str, *, read_timeout: float | None = 60.0) -> Iterator[str]:
        """Lines of a log/output stream (``text/plain`` or server-sent events, ``data:`` stripped).

        The stream URL carries its own token, so no Heroku auth is sent with it.
        """
        with requests.get(
            url,
            stream=True,
            timeout=(self.timeout[0], read_timeout),
            headers={"Accept": "text/event-stream", "User-Agent": f"homedeploy/{__version__}"},
        ) as response:
            if response.status_code >= 400:
                raise error_from_response(response)
            for raw in response.iter_lines(decode_unicode=False):
                line = sse_payload(raw.decode("utf-8", errors="replace"))
                if line is not None:
                    yield line


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
