"""What the stand-in Heroku remembers: apps, releases, formation, config vars, logs, failures."""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return str(uuid.uuid4())


ACCOUNT_ID = "5a3f8f2e-7d3c-4c47-9d1e-0d6b1e8a2f11"
REGIONS = {
    "us": "59accabd-516d-4f0e-83e6-6e3757701145",
    "eu": "ed30241c-ed8c-4bb6-9714-61953675d0b4",
}
STACK_ID = "ee582d3c-717d-4a57-ba5f-8b3a39f3a817"


@dataclass
class StandInApp:
    name: str
    region: str = "us"
    owner: str = "dev@example.com"
    id: str = field(default_factory=new_id)
    suffix: str = field(default_factory=lambda: secrets.token_hex(6))
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)
    released_at: str | None = None
    buildpacks: list[dict[str, str]] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    releases: list[dict[str, Any]] = field(default_factory=list)
    formation: dict[str, dict[str, Any]] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    maintenance: bool = False
    addons: list[dict[str, Any]] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)  # "all", "web", "web.1" per restart call
    one_off: list[dict[str, Any]] = field(default_factory=list)  # one-off dynos, oldest first
    # Test controls
    web_status: int | None = None  # force the web answer (e.g. 503)
    dyno_state: str | None = None  # force the state GET /dynos reports (e.g. "crashed")
    next_build: list[dict[str, Any]] = field(default_factory=list)  # build plans, used in order
    # Real dynos (HerokuStandIn(run_dynos=True)): which commit each slug holds, the web dyno.
    slug_commits: dict[str, str] = field(default_factory=dict)
    slug_types: dict[str, dict[str, str]] = field(default_factory=dict)  # Procfile per slug
    dyno: Any = None

    @property
    def web_host(self) -> str:
        return f"{self.name}-{self.suffix}.herokuapp.com"

    @property
    def web_url(self) -> str:
        # http, so test traffic can go through a plain local proxy (the schema allows https?).
        return f"http://{self.web_host}/"

    @property
    def git_url(self) -> str:
        return f"https://git.heroku.com/{self.name}.git"

    def to_json(self) -> dict[str, Any]:
        return {
            "acm": False,
            "archived_at": None,
            "buildpack_provided_description": "Python" if self.released_at else None,
            "build_stack": {"id": STACK_ID, "name": "heroku-24"},
            "created_at": self.created_at,
            "generation": {"id": "e4d1c2b0-4b9f-4a44-9c55-1a77b8e0e2f4", "name": "cedar"},
            "git_url": self.git_url,
            "id": self.id,
            "internal_routing": None,
            "maintenance": self.maintenance,
            "name": self.name,
            "owner": {"email": self.owner, "id": ACCOUNT_ID},
            "organization": None,
            "team": None,
            "region": {"id": REGIONS[self.region], "name": self.region},
            "released_at": self.released_at,
            "repo_size": None,
            "slug_size": None,
            "space": None,
            "stack": {"id": STACK_ID, "name": "heroku-24"},
            "updated_at": self.updated_at,
            "web_url": self.web_url,
        }

    def add_release(
        self, description: str, *, status: str = "succeeded", slug: str | None = None
    ) -> dict[str, Any]:
        version = len(self.releases) + 1
        release: dict[str, Any] = {
            "addon_plan_names": [],
            "artifacts": [{"type": "slug", "id": slug}] if slug else [],
            "app": {"id": self.id, "name": self.name},
            "created_at": now(),
            "description": description,
            "id": new_id(),
            "updated_at": now(),
            "slug": {"id": slug} if slug else None,
            "status": status,
            "user": {"email": self.owner, "id": ACCOUNT_ID},
            "version": version,
            "current": False,
            "output_stream_url": None,
            "eligible_for_rollback": slug is not None,
        }
        if status == "succeeded":
            for other in self.releases:
                other["current"] = False
            release["current"] = True
            self.released_at = str(release["created_at"])
        self.releases.append(release)
        self.log("app[api]", f"Release v{version} created by user {self.owner}")
        return release

    def commit_of(self, release: dict[str, Any]) -> str | None:
        slug = release.get("slug")
        return self.slug_commits.get(slug["id"]) if slug else None

    def current_release(self) -> dict[str, Any] | None:
        return next((r for r in self.releases if r["current"]), None)

    def formation_json(self, process_type: str) -> dict[str, Any]:
        item = self.formation[process_type]
        return {
            "app": {"name": self.name, "id": self.id},
            "command": item["command"],
            "created_at": item["created_at"],
            "dyno_size": {"id": item["size_id"], "name": item["size"]},
            "id": item["id"],
            "quantity": item["quantity"],
            "size": item["size"],
            "type": process_type,
            "updated_at": item["updated_at"],
        }

    def set_process_types(self, types: dict[str, str]) -> None:
        for name, command in types.items():
            if name == "release":
                continue
            if name not in self.formation:
                self.formation[name] = {
                    "id": new_id(),
                    "command": command,
                    "quantity": 1 if name == "web" else 0,
                    "size": "Basic",
                    "size_id": "a1b2c3d4-0000-4000-8000-000000000001",
                    "created_at": now(),
                    "updated_at": now(),
                }
            else:
                self.formation[name]["command"] = command

    def log(self, source: str, text: str) -> None:
        self.logs.append(f"{now().replace('Z', '.000000+00:00')} {source}: {text}")


@dataclass
class Injection:
    """Answer the next ``times`` requests matching method and path regex with this error."""

    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    times: int = 1


@dataclass
class RequestRecord:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    auth_scheme: str | None = None
    auth_ok: bool = False


@dataclass
class State:
    key: str
    account_email: str = "dev@example.com"
    apps: dict[str, StandInApp] = field(default_factory=dict)
    taken_names: set[str] = field(default_factory=set)  # exist, owned by someone else
    unverified: bool = False
    injections: list[Injection] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    git_requests: list[RequestRecord] = field(default_factory=list)
    schema_errors: list[str] = field(default_factory=list)
    log_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    page_size: int = 200
    run_dynos: bool = False
    repos: Any = None  # Path of the bare repositories (set by HerokuStandIn)
    log_format: str = "sse"  # or "plain"
    tail_seconds: float = 0.5
    tail_seconds_queue: list[float] = field(default_factory=list)  # per session, first used first
    addon_provision_polls: int = 2  # reads of a new Postgres/Redis add-on before it is provisioned
    lock: threading.RLock = field(default_factory=threading.RLock)

    def app_by_host(self, host: str) -> StandInApp | None:
        host = host.split(":")[0].lower()
        return next((a for a in self.apps.values() if a.web_host == host), None)
