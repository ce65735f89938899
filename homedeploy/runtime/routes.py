"""Every route: read the app's url_map in the rehearsal venv, then GET each route over HTTP.

Probing only ``/`` proves little: a 302 to a login page hides a 500 on ``/dashboard``. The routes
come from the app itself, loaded the way gunicorn loads it (``gunicorn.util.import_app``, which
understands ``module:app`` and ``module:create_app()``), in the rehearsal's own venv and dyno
environment, in a child process, so nothing of the app is imported into homedeploy. Only GET
routes without URL parameters are requested; a redirect is followed while it stays on the app.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

MAX_ROUTES = 60
"""Requests per rehearsal at most (a big app's routes beyond these are counted, not requested)."""
MAX_REDIRECTS = 5
MARKER = "HOMEDEPLOY-ROUTES:"

LISTER = """
import json, os, sys
sys.path[:0] = [p for p in os.environ.get("HOMEDEPLOY_SYS_PATH", "").split(os.pathsep) if p]
from gunicorn.util import import_app
app = import_app(sys.argv[1])
seen, found = set(), None
queue = [app]
while queue and found is None:
    obj = queue.pop(0)
    if id(obj) in seen:
        continue
    seen.add(id(obj))
    if hasattr(obj, "url_map") and hasattr(obj.url_map, "iter_rules"):
        found = obj
        break
    for name in ("app", "application", "wsgi_app", "_app"):
        inner = getattr(obj, name, None)
        if inner is not None:
            queue.append(inner)
rules = []
if found is not None:
    for rule in found.url_map.iter_rules():
        methods = rule.methods or set()
        if "GET" in methods and not rule.arguments and not rule.host and not rule.subdomain:
            rules.append(rule.rule)
print("HOMEDEPLOY-ROUTES:" + json.dumps({"flask": found is not None, "routes": sorted(set(rules))}))
"""


@dataclass(frozen=True)
class RouteListing:
    """The app's parameterless GET routes, or why they could not be read."""

    routes: list[str] = field(default_factory=list)
    error: str | None = None
    log: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RouteProbe:
    """One route requested: its final status after redirects on the app, and the log it made."""

    path: str
    status: int | None
    seconds: float
    error: str | None = None
    redirects: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 500


class RouteLister:
    """Starts the url_map read in the background (while the web process boots)."""

    def __init__(
        self, python: Path, target: str, cwd: Path, env: dict[str, str], sys_path: list[str]
    ) -> None:
        child_env = {**env, "HOMEDEPLOY_SYS_PATH": os.pathsep.join([str(cwd), *sys_path])}
        child_env["DYNO"] = "run.1"
        self._process = subprocess.Popen(
            [str(python), "-c", LISTER, target],
            cwd=cwd,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def result(self, timeout: float = 60.0) -> RouteListing:
        try:
            output, _ = self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return RouteListing(error=f"loading the app's url_map took over {timeout:g} s")
        lines = output.splitlines()
        for line in lines:
            if line.startswith(MARKER):
                data = json.loads(line[len(MARKER) :])
                if not data["flask"]:
                    return RouteListing(error="the WSGI object has no Flask url_map")
                return RouteListing(routes=list(data["routes"]))
        return RouteListing(error="loading the app to read its url_map failed", log=lines[-40:])

    def kill(self) -> None:
        if self._process.poll() is None:
            os.killpg(self._process.pid, 9)
            self._process.wait()


def _get(port: int, path: str, timeout: float) -> tuple[int, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": "homedeploy-rehearsal"})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


def _settle(log_file: Path, limit: float = 0.5) -> None:
    """Wait until the log stops growing (polled every 20 ms, ``limit`` at most): the worker
    writes the access line (and may still be writing the traceback) after it answered."""
    deadline = time.monotonic() + limit
    size, still = -1, 0
    while time.monotonic() < deadline and still < 3:
        current = log_file.stat().st_size if log_file.exists() else 0
        still = still + 1 if current == size else 0
        size = current
        time.sleep(0.02)


def probe_route(port: int, path: str, timeout: float, log_file: Path | None = None) -> RouteProbe:
    """GET ``path``, following redirects that stay on 127.0.0.1:port; a 5xx keeps its log lines."""
    started = time.perf_counter()
    offset = log_file.stat().st_size if log_file and log_file.exists() else 0
    current, redirects = path, []
    status: int | None = None
    error: str | None = None
    try:
        for _ in range(MAX_REDIRECTS + 1):
            status, location = _get(port, current, timeout)
            if status not in (301, 302, 303, 307, 308) or not location:
                break
            target = urlsplit(urljoin(f"http://127.0.0.1:{port}{current}", location))
            if target.hostname not in ("127.0.0.1", "localhost") or (target.port or 80) != port:
                break  # off the app (an OAuth provider...): the redirect itself is the answer
            current = target.path + (f"?{target.query}" if target.query else "")
            redirects.append(current)
    except (OSError, http.client.HTTPException) as problem:
        status = None
        error = str(problem) or type(problem).__name__
        if isinstance(problem, TimeoutError | socket.timeout):
            error = f"no answer within {timeout:g} s (on Heroku: H12 Request timeout)"
    seconds = time.perf_counter() - started
    log: list[str] = []
    if log_file is not None and (status is None or status >= 500):
        _settle(log_file)
        with log_file.open("rb") as stream:
            stream.seek(offset)
            log = stream.read().decode("utf-8", errors="replace").splitlines()[-60:]
    return RouteProbe(path, status, seconds, error, redirects, log)
