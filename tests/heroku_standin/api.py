"""The stand-in Platform API: the endpoints homedeploy uses, on 127.0.0.1, schema-checked.

Like Heroku it wants ``Accept: application/vnd.heroku+json; version=3`` (else 406) and the test
key as ``Authorization: Bearer <key>`` (else 401), answers errors as ``{id, message}``, pages
lists with ``Range``/``Next-Range``/206, and records every request. Failures are injected per
test with :meth:`HerokuStandIn.inject`. Internal endpoints under ``/__standin/`` serve the git
hook and the log streams (no schema, no auth: the log URL carries its own token like logplex's).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import addons, builds
from .dynos import export_commit, restart_web, run_detached
from .schema import SchemaValidator
from .state import REGIONS, RequestRecord, StandInApp, State, new_id, now

ACCEPT = "application/vnd.heroku+json; version=3"
APP_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$")


class ApiError(Exception):
    def __init__(self, status: int, error_id: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"id": error_id, "message": message}


def _parse_range(header: str | None, default_field: str) -> tuple[str, str | None, int, bool]:
    """(field, exclusive start value or None, max, descending) from a Range header."""
    if not header:
        return default_field, None, 1000, False
    match = re.match(r"^\s*(\w+)\s*(\]?)([^.;]*)\.\.[^;]*(?:;\s*(.*))?$", header)
    if not match:
        raise ApiError(416, "requested_range_not_satisfiable", f"bad Range: {header}")
    field_name, bracket, start, options = match.groups()
    max_items, desc = 1000, False
    for option in re.split(r"[,;]\s*", options or ""):
        key, _, value = option.strip().partition("=")
        if key == "max" and value.isdigit():
            max_items = min(int(value), 1000)
        if key == "order":
            desc = value.strip() == "desc"
    return field_name, (start if bracket else None), max_items, desc


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ApiServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ---- plumbing

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", new_id())
        self.send_header("RateLimit-Remaining", "4499")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "bad_request", "Invalid JSON body.") from None

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        if path.startswith("/__standin/"):
            self._internal(method, path, parse_qs(parts.query))
            return
        try:
            body = self._body()
        except ApiError as error:
            self._send(error.status, error.body)
            return
        auth = self.headers.get("Authorization", "")
        scheme = auth.split(" ", 1)[0] if auth else None
        record = RequestRecord(
            method,
            path,
            {k: v for k, v in self.headers.items() if k.lower() != "authorization"},
            body,
            auth_scheme=scheme,
            auth_ok=auth == f"Bearer {state.key}",
        )
        with state.lock:
            state.requests.append(record)
        status, answer, headers = self._dispatch_checked(method, path, body, record)
        record.status = status
        self._send(status, answer, headers)

    def _dispatch_checked(
        self, method: str, path: str, body: Any, record: RequestRecord
    ) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        validator = self.server.validator
        try:
            if self.headers.get("Accept") != ACCEPT:
                raise ApiError(406, "not_acceptable", f"Please use an Accept header of {ACCEPT}")
            with state.lock:
                for injection in state.injections:
                    if (
                        injection.times > 0
                        and injection.method == method
                        and injection.path.search(path)
                    ):
                        injection.times -= 1
                        return injection.status, injection.body, {}
            if not record.auth_ok:
                raise ApiError(401, "unauthorized", "Invalid credentials provided.")
            if validator is not None:
                errors = validator.check_request(method, path, body)
                if errors:
                    with state.lock:
                        state.schema_errors.extend(f"request {method} {path}: {e}" for e in errors)
                    raise ApiError(422, "invalid_params", "; ".join(errors))
            status, answer, headers = self._route(method, path, body)
            if validator is not None and 200 <= status < 300:
                errors = validator.check_response(method, path, answer)
                if errors:
                    with state.lock:
                        state.schema_errors.extend(f"response {method} {path}: {e}" for e in errors)
            return status, answer, headers
        except ApiError as error:
            return error.status, error.body, {}

    # ---- routes

    def _app(self, name: str) -> StandInApp:
        state = self.server.state
        app = state.apps.get(name) or next((a for a in state.apps.values() if a.id == name), None)
        if app is not None:
            return app
        if name in state.taken_names:
            raise ApiError(403, "forbidden", f"You do not have access to the app {name}.")
        raise ApiError(404, "not_found", "Couldn't find that app.")

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        with state.lock:
            if (method, path) == ("GET", "/account"):
                return 200, self._account(), {}
            if method == "GET" and path in ("/apps", "/users/~/apps"):
                return self._paged([a.to_json() for a in state.apps.values()], "id")
            if (method, path) == ("POST", "/apps"):
                return 201, self._create_app(body or {}), {}
            match = re.match(r"^/apps/([^/]+)(/.*)?$", path)
            if not match:
                raise ApiError(404, "not_found", "The requested API endpoint was not found.")
            app = self._app(match.group(1))
            rest = match.group(2) or ""
            return self._app_route(method, app, rest, body)

    def _account(self) -> dict[str, Any]:
        state = self.server.state
        return {
            "allow_tracking": True,
            "beta": False,
            "created_at": "2024-01-01T12:00:00Z",
            "email": state.account_email,
            "federated": False,
            "id": "5a3f8f2e-7d3c-4c47-9d1e-0d6b1e8a2f11",
            "identity_provider": None,
            "last_login": now(),
            "name": "Dev Example",
            "sms_number": None,
            "suspended_at": None,
            "delinquent_at": None,
            "two_factor_authentication": False,
            "updated_at": now(),
            "verified": not state.unverified,
            "country_of_residence": None,
            "default_organization": None,
            "default_team": None,
        }

    def _create_app(self, body: dict[str, Any]) -> dict[str, Any]:
        state = self.server.state
        if state.unverified:
            raise ApiError(
                422,
                "verification_required",
                "To create an app, verify your account by adding payment information. "
                "Verify now at https://heroku.com/verify",
            )
        name = body.get("name") or f"sheltered-plains-{len(state.apps) + 10000}"
        if name in state.apps or name in state.taken_names:
            raise ApiError(422, "invalid_params", "Name is already taken")
        region = body.get("region", "us")
        if region not in REGIONS:
            raise ApiError(422, "invalid_params", f"Couldn't find that region: {region}.")
        app = self.server.standin.add_app(name, region=region)
        return app.to_json()

    def _app_route(
        self, method: str, app: StandInApp, rest: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if rest == "" and method == "GET":
            return 200, app.to_json(), {}
        if rest == "" and method == "PATCH":
            if "maintenance" in body:
                app.maintenance = bool(body["maintenance"])
                verb = "Enable" if app.maintenance else "Disable"
                app.log("app[api]", f"{verb} maintenance mode")
            app.updated_at = now()
            return 200, app.to_json(), {}
        if rest.startswith("/addons"):
            return self._addons_route(method, app, rest, body)
        if rest == "/dynos" and method == "POST":
            return 201, self._one_off(app, body), {}
        if rest == "/dynos" and method == "DELETE":
            app.restarts.append("all")
            self._restart_web(app)
            return 202, {}, {}
        match = re.match(r"^/dynos/([^/]+)$", rest)
        if match:
            wanted = match.group(1)
            dyno = next((d for d in self._dynos(app) if wanted in (d["name"], d["id"])), None)
            if dyno is None:
                raise ApiError(404, "not_found", f"Couldn't find that dyno: {wanted}.")
            if method == "GET":
                return 200, dyno, {}
            if method == "DELETE":
                app.restarts.append(dyno["name"])
                if dyno["type"] == "web":
                    self._restart_web(app)
                return 202, {}, {}
        match = re.match(r"^/formations/([^/]+)$", rest)
        if match and method == "DELETE":
            if match.group(1) not in app.formation:
                kind = match.group(1)
                raise ApiError(404, "not_found", f"Couldn't find that process type ({kind}).")
            app.restarts.append(match.group(1))
            if match.group(1) == "web":
                self._restart_web(app)
            return 202, {}, {}
        if rest == "/buildpack-installations":
            if method == "PUT":
                app.buildpacks = []
                for update in body["updates"]:
                    value = update["buildpack"]
                    if "/" in value and not value.startswith(("http", "urn:")):
                        app.buildpacks.append({"url": f"urn:buildpack:{value}", "name": value})
                    else:
                        app.buildpacks.append({"url": value, "name": value})
            return (
                200,
                [{"ordinal": i, "buildpack": dict(b)} for i, b in enumerate(app.buildpacks)],
                {},
            )
        if rest == "/releases" and method == "GET":
            return self._paged(app.releases, "version")
        if rest == "/releases" and method == "POST":
            return 201, self._rollback(app, body["release"]), {}
        match = re.match(r"^/releases/([^/]+)$", rest)
        if match and method == "GET":
            wanted = match.group(1)
            for release in app.releases:
                if wanted in (release["id"], str(release["version"])):
                    return 200, release, {}
            raise ApiError(404, "not_found", "Couldn't find that release.")
        if rest == "/formation":
            if method == "PATCH":
                for update in body["updates"]:
                    kind = update["type"]
                    if kind not in app.formation:
                        raise ApiError(
                            404, "not_found", f"Couldn't find that process type ({kind})."
                        )
                    item = app.formation[kind]
                    if "quantity" in update:
                        item["quantity"] = update["quantity"]
                    if "dyno_size" in update:
                        item["size"] = update["dyno_size"].get("name", item["size"]).capitalize()
                    item["updated_at"] = now()
                    app.log("app[api]", f"Scaled to {kind}@{item['quantity']}:{item['size']}")
            return 200, [app.formation_json(t) for t in app.formation], {}
        if rest == "/dynos" and method == "GET":
            return 200, self._dynos(app), {}
        if rest == "/config-vars":
            if method == "PATCH":
                for key, value in body.items():
                    if value is None:
                        app.config.pop(key, None)
                    else:
                        app.config[key] = value
                set_keys = [k for k, v in body.items() if v is not None]
                removed = [k for k, v in body.items() if v is None]
                description = " and ".join(
                    part
                    for part in (
                        f"Set {', '.join(set_keys)}" if set_keys else "",
                        f"Remove {', '.join(removed)}" if removed else "",
                    )
                    if part
                )
                release = app.add_release(
                    f"{description} config vars", slug=self._current_slug(app)
                )
                if self.server.state.run_dynos:
                    restart_web(self.server.state.repos, app, app.commit_of(release))
            return 200, dict(app.config), {}
        if rest == "/log-sessions" and method == "POST":
            session_id = new_id()
            self.server.state.log_sessions[session_id] = {"app": app.name, **(body or {})}
            url = f"http://127.0.0.1:{self.server.server_port}/__standin/logs/{session_id}"
            return (
                201,
                {
                    "created_at": now(),
                    "id": session_id,
                    "logplex_url": url,
                    "updated_at": now(),
                },
                {},
            )
        raise ApiError(404, "not_found", "The requested API endpoint was not found.")

    def _dynos(self, app: StandInApp) -> list[dict[str, Any]]:
        release = app.current_release()
        if release is None or release["slug"] is None:
            return []
        dynos = []
        for kind, item in app.formation.items():
            for number in range(1, item["quantity"] + 1):
                state = app.dyno_state or "up"
                if self.server.state.run_dynos and kind == "web":
                    state = "down" if app.dyno is None else app.dyno.state()
                dynos.append(
                    {
                        "attach_url": None,
                        "command": item["command"],
                        "created_at": release["created_at"],
                        "id": new_id(),
                        "name": f"{kind}.{number}",
                        "release": {"id": release["id"], "version": release["version"]},
                        "app": {"name": app.name, "id": app.id},
                        "size": item["size"],
                        "state": state,
                        "type": kind,
                        "updated_at": now(),
                    }
                )
        dynos.extend(d for d in app.one_off if d["state"] != "complete")
        return dynos

    def _restart_web(self, app: StandInApp) -> None:
        app.log("heroku[web.1]", "Restarting")
        current = app.current_release()
        if self.server.state.run_dynos and current is not None:
            restart_web(self.server.state.repos, app, app.commit_of(current))

    def _one_off(self, app: StandInApp, body: dict[str, Any]) -> dict[str, Any]:
        """``heroku run``: a one-off dyno, attached through rendezvous or detached to the logs."""
        state = self.server.state
        release = app.current_release()
        if release is None or release["slug"] is None:
            raise ApiError(
                422, "invalid_params", "No slug is available for this app; deploy the app first."
            )
        number = len(app.one_off) + 1
        kind = body.get("type") or "run"
        name = f"{kind}.{number}"
        sha = app.commit_of(release)
        folder = export_commit(state.repos / f"{app.name}.git", sha) if sha else None
        env = {**app.config, **(body.get("env") or {}), "DYNO": name}
        dyno: dict[str, Any] = {
            "attach_url": None,
            "command": body["command"],
            "created_at": now(),
            "id": new_id(),
            "name": name,
            "release": {"id": release["id"], "version": release["version"]},
            "app": {"name": app.name, "id": app.id},
            "size": body.get("size") or "Basic",
            "state": "starting",
            "type": kind,
            "updated_at": now(),
        }
        if body.get("attach"):
            dyno["attach_url"] = self.server.standin.rendezvous.open_session(
                app.name,
                body["command"],
                env,
                folder,
                on_exit=lambda _code: dyno.update(state="complete"),
                tty=not body.get("force_no_tty"),
            )
        else:
            run_detached(app, name, body["command"], env, folder)
        app.one_off.append(dyno)
        return dict(dyno)

    def _addons_route(
        self, method: str, app: StandInApp, rest: str, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        polls = self.server.state.addon_provision_polls
        try:
            if rest == "/addons" and method == "GET":
                for addon in app.addons:
                    addons.poll(app, addon)
                return 200, [addons.addon_json(app, a) for a in app.addons], {}
            if rest == "/addons" and method == "POST":
                return 201, addons.addon_json(app, addons.create(app, body, polls)), {}
            match = re.match(r"^/addons/([^/]+)$", rest)
            if match and method == "GET":
                addon = addons.find(app, match.group(1))
                addons.poll(app, addon)
                return 200, addons.addon_json(app, addon), {}
            if match and method == "DELETE":
                addon = addons.destroy(app, addons.find(app, match.group(1)))
                return 200, addons.addon_json(app, addon), {}
        except addons.AddonError as error:
            raise ApiError(error.status, error.error_id, error.message) from None
        raise ApiError(404, "not_found", "The requested API endpoint was not found.")

    def _current_slug(self, app: StandInApp) -> str | None:
        current = app.current_release()
        return current["slug"]["id"] if current and current["slug"] else None

    def _rollback(self, app: StandInApp, release_id: str) -> dict[str, Any]:
        target = next((r for r in app.releases if r["id"] == release_id), None)
        if target is None:
            raise ApiError(404, "not_found", "Couldn't find that release.")
        if not target["eligible_for_rollback"]:
            raise ApiError(
                422, "invalid_params", f"Release v{target['version']} cannot be rolled back to."
            )
        slug = target["slug"]["id"] if target["slug"] else None
        release = app.add_release(f"Rollback to v{target['version']}", slug=slug)
        if slug in app.slug_types:  # the slug brings its own Procfile's process types
            app.set_process_types(app.slug_types[slug])
        if self.server.state.run_dynos:
            restart_web(self.server.state.repos, app, app.commit_of(release))
        return release

    def _paged(
        self, items: list[dict[str, Any]], default_field: str
    ) -> tuple[int, Any, dict[str, str]]:
        field_name, start, max_items, desc = _parse_range(self.headers.get("Range"), default_field)
        max_items = min(max_items, self.server.state.page_size)

        def key(item: dict[str, Any]) -> Any:
            return item.get(field_name)

        ordered = sorted(items, key=key, reverse=desc)
        if start is not None:
            typed: Any = int(start) if field_name == "version" else start
            ordered = [i for i in ordered if (key(i) < typed if desc else key(i) > typed)]
        page = ordered[:max_items]
        headers = {"Accept-Ranges": "id, name, updated_at, version"}
        if page:
            headers["Content-Range"] = f"{field_name} {key(page[0])}..{key(page[-1])}"
        if len(ordered) > max_items:
            order = ", order=desc" if desc else ""
            headers["Next-Range"] = f"{field_name} ]{key(page[-1])}..; max={max_items}{order}"
            return 206, page, headers
        return 200, page, headers

    # ---- internal endpoints (git hook, log streams)

    def _internal(self, method: str, path: str, query: dict[str, list[str]]) -> None:
        state = self.server.state
        if method == "POST" and path == "/__standin/receive":
            data = self._body() or {}
            result = builds.receive(
                state, Path(data["repo"]), data["updates"], data.get("env") or {}
            )
            self._send(200, result)
            return
        match = re.match(r"^/__standin/logs/([^/]+)$", path)
        if method == "GET" and match and match.group(1) in state.log_sessions:
            self._stream_logs(state.log_sessions[match.group(1)])
            return
        self._send(404, {"id": "not_found", "message": "no such stand-in endpoint"})

    def _stream_logs(self, session: dict[str, Any]) -> None:
        state = self.server.state
        app = state.apps[session["app"]]
        sse = state.log_format == "sse"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if sse else "text/plain")
        self.send_header("Connection", "close")
        self.end_headers()
        count = int(session.get("lines") or 100)
        with state.lock:
            sent = len(app.logs)
            lines = app.logs[-count:] if count else []

        def write(number: int, line: str) -> None:
            text = f"id: {number}\ndata: {line}\n\n" if sse else f"{line}\n"
            self.wfile.write(text.encode())
            self.wfile.flush()

        for number, line in enumerate(lines):
            write(number, line)
        if session.get("tail"):
            with state.lock:
                seconds = (
                    state.tail_seconds_queue.pop(0)
                    if state.tail_seconds_queue
                    else state.tail_seconds
                )
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                with state.lock:
                    fresh = app.logs[sent:]
                    sent = len(app.logs)
                for line in fresh:
                    write(sent, line)
                time.sleep(0.05)
        self.close_connection = True


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, standin: Any, validator: SchemaValidator | None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.standin = standin
        self.state: State = standin.state
        self.validator = validator


def init_bare_repo(root: Path, name: str, hook_text: str) -> Path:
    """A bare repository for an app, with the stand-in's pre-receive hook."""
    repo = root / f"{name}.git"
    subprocess.run(
        ["git", "init", "--quiet", "--bare", "--initial-branch=main", str(repo)], check=True
    )
    hook = repo / "hooks" / "pre-receive"
    hook.write_text(hook_text, encoding="utf-8")
    hook.chmod(0o755)
    return repo
