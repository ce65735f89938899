"""Add-ons on the Platform API: list an app's, create one, wait until it is provisioned.

``app.json`` declares the add-ons an app needs (``heroku-postgresql``, ``heroku-redis``); a plain
``git push`` does not create them, so an app that reads ``DATABASE_URL`` crashes on its first boot.
``push`` compares the declaration with ``GET /apps/{app}/addons`` and, after asking, creates the
missing ones with ``POST /apps/{app}/addons`` and polls ``GET /apps/{app}/addons/{id}`` until the
state is ``provisioned`` (a database takes a few minutes on Heroku).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homedeploy.heroku.api import HerokuClient

PROVISION_POLL = 2.0


@dataclass(frozen=True)
class Addon:
    """An add-on attached to the app."""

    id: str
    name: str
    service: str  # "heroku-postgresql"
    plan: str  # "heroku-postgresql:essential-0"
    state: str  # provisioning, provisioned, deprovisioned
    config_vars: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Addon:
        service = data.get("addon_service") or {}
        plan = data.get("plan") or {}
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            service=str(service.get("name", "")) if isinstance(service, dict) else "",
            plan=str(plan.get("name", "")) if isinstance(plan, dict) else "",
            state=str(data.get("state", "")),
            config_vars=[str(v) for v in data.get("config_vars") or []],
        )


def list_addons(client: HerokuClient, app: str) -> list[Addon]:
    return [Addon.from_json(item) for item in client.list_all(f"/apps/{app}/addons")]


def create_addon(client: HerokuClient, app: str, plan: str) -> Addon:
    """``POST /apps/{app}/addons`` with ``plan`` ("heroku-postgresql" takes its default plan)."""
    data = client.request("POST", f"/apps/{app}/addons", body={"plan": plan}).json()
    return Addon.from_json(data)


def wait_provisioned(
    client: HerokuClient,
    app: str,
    addon: Addon,
    timeout: float,
    on_wait: Callable[[Addon], None] | None = None,
) -> Addon:
    """Poll until ``addon`` is provisioned or ``timeout`` seconds pass; returns its last state."""
    deadline = time.monotonic() + timeout
    current = addon
    while current.state == "provisioning" and time.monotonic() < deadline:
        if on_wait is not None:
            on_wait(current)
        time.sleep(min(PROVISION_POLL, max(0.05, deadline - time.monotonic())))
        current = Addon.from_json(client.get(f"/apps/{app}/addons/{addon.id}"))
    return current


def missing_addons(declared: dict[str, str], attached: list[Addon]) -> dict[str, str]:
    """Services app.json declares (service -> plan) that the app has no add-on of."""
    have = {addon.service for addon in attached if addon.state != "deprovisioned"}
    return {service: plan for service, plan in declared.items() if service not in have}
