"""A Heroku stand-in for tests: Platform API, git smart-HTTP server and the apps' web side.

Everything listens on 127.0.0.1. ``HerokuStandIn.env()`` gives the environment that points
homedeploy at it (API and git base URLs, the test key, a proxy for ``*.herokuapp.com``, fast
retries). See ``python -m tests.heroku_standin`` to run it by hand.
"""

from __future__ import annotations

import re
import secrets
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from .api import ApiServer, init_bare_repo
from .git_server import GitServer
from .rendezvous import RendezvousServer
from .schema import load_validator
from .state import Injection, StandInApp, State
from .web import WebProxy

__all__ = ["HerokuStandIn", "StandInApp"]

HOOK = """#!{python}
# pre-receive hook written by the Heroku stand-in: asks the stand-in API what to print.
import json, os, sys, urllib.request
updates = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
names = ("GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_QUARANTINE_PATH")
quarantine = {{k: v for k, v in os.environ.items() if k in names}}
body = json.dumps({{"repo": os.getcwd(), "updates": updates, "env": quarantine}}).encode()
request = urllib.request.Request("{api}/__standin/receive", data=body,
                                 headers={{"Content-Type": "application/json"}})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
answer = json.load(opener.open(request, timeout=60))
for line in answer["lines"]:
    print(line, flush=True)
sys.exit(answer["exit"])
"""


class HerokuStandIn:
    """Start with :meth:`start` (or as a context manager); read :attr:`state` in assertions."""

    def __init__(
        self, root: Path | None = None, key: str | None = None, *, run_dynos: bool = False
    ) -> None:
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="heroku-standin-")
        self.root = Path(root or self._tmp.name)  # type: ignore[union-attr]
        self.repos = self.root / "repos"
        self.repos.mkdir(parents=True, exist_ok=True)
        self.key = key or "hk-" + secrets.token_hex(20)
        self.state = State(key=self.key, run_dynos=run_dynos, repos=self.repos)
        self.validator = load_validator()
        self.api = ApiServer(self, self.validator)
        self.git = GitServer(self.state, self.repos)
        self.web = WebProxy(self.state)
        self._rendezvous: RendezvousServer | None = None
        self._threads: list[threading.Thread] = []

    # ---- lifecycle

    def start(self) -> HerokuStandIn:
        for server in (self.api, self.git, self.web):
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for app in self.state.apps.values():
            if app.dyno is not None:
                app.dyno.stop()
        if self._rendezvous is not None:
            self._rendezvous.stop()
        for server in (self.api, self.git, self.web):
            server.shutdown()
            server.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> HerokuStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- addresses

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api.server_port}"

    @property
    def git_url(self) -> str:
        return f"http://127.0.0.1:{self.git.server_port}"

    @property
    def rendezvous_ca(self) -> Path:
        """The CA certificate of the rendezvous service (made on first use)."""
        return self.root / "rendezvous-ca.pem"

    @property
    def rendezvous(self) -> RendezvousServer:
        """The TLS service attached one-off dynos connect to (started on first use)."""
        with self.state.lock:
            if self._rendezvous is None:
                self._rendezvous = RendezvousServer(self.rendezvous_ca)
            return self._rendezvous

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.web.server_port}"

    def env(self, *, with_key: bool = True) -> dict[str, str]:
        """Environment variables that point homedeploy (and requests, and git) at the stand-in."""
        env = {
            "HOMEDEPLOY_HEROKU_API_URL": self.api_url,
            "HOMEDEPLOY_HEROKU_GIT_URL": self.git_url,
            "HTTP_PROXY": self.proxy_url,
            "http_proxy": self.proxy_url,
            "HTTPS_PROXY": self.proxy_url,
            "https_proxy": self.proxy_url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "HOMEDEPLOY_HEROKU_BACKOFF": "0.01",
            "HOMEDEPLOY_NO_KEYCHAIN": "1",
            "HOMEDEPLOY_RENDEZVOUS_CA": str(self.rendezvous_ca),
        }
        if with_key:
            env["HEROKU_API_KEY"] = self.key
        return env

    # ---- test controls

    def add_app(self, name: str, *, region: str = "us") -> StandInApp:
        """An app owned by the test account (with its bare repository and v1 release)."""
        with self.state.lock:
            app = StandInApp(name=name, region=region, owner=self.state.account_email)
            self.state.apps[name] = app
            hook = HOOK.format(python=sys.executable, api=self.api_url)
            init_bare_repo(self.repos, name, hook)
            app.add_release("Initial release")
            return app

    def inject(
        self,
        method: str,
        path_regex: str,
        status: int,
        error_id: str,
        message: str = "injected failure",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and ``{id, message}``."""
        with self.state.lock:
            self.state.injections.append(
                Injection(
                    method.upper(),
                    re.compile(path_regex),
                    status,
                    {"id": error_id, "message": message},
                    times,
                )
            )

    def requests_to(self, method: str, path_regex: str) -> list[Any]:
        return [
            r for r in self.state.requests if r.method == method and re.search(path_regex, r.path)
        ]
