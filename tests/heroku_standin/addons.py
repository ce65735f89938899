"""The stand-in's add-ons: a tiny catalogue, asynchronous provisioning, config vars per add-on.

Like Heroku, ``POST /apps/{app}/addons`` answers at once with ``state: provisioning`` for the
services that provision asynchronously (Postgres, Redis); the add-on turns ``provisioned`` after
``state.addon_provision_polls`` further reads of it (a test control; 0 means at once), and only
then are its config vars set on the app, in a new release ("Attach DATABASE ..."), as the
platform does. The attachment name (``--as NAME`` in the CLIs) becomes the config var prefix.
"""

from __future__ import annotations

import secrets
from typing import Any

from .state import StandInApp, new_id, now

# service -> (default attachment name, config var suffix, plans, first plan is the default,
#             provisions asynchronously)
CATALOGUE: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "heroku-postgresql": ("DATABASE", "URL", ("essential-0", "essential-1", "standard-0"), True),
    "heroku-redis": ("REDIS", "URL", ("mini", "premium-0"), True),
    "papertrail": ("PAPERTRAIL", "API_TOKEN", ("choklad", "fixa"), False),
}
SERVICE_IDS = {name: new_id() for name in CATALOGUE}


class AddonError(Exception):
    def __init__(self, status: int, error_id: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_id, self.message = status, error_id, message


def _value(service: str, name: str) -> str:
    if service == "heroku-postgresql":
        return f"postgres://u{secrets.token_hex(4)}:{secrets.token_hex(8)}@127.0.0.1:5432/{name}"
    if service == "heroku-redis":
        return f"redis://:{secrets.token_hex(8)}@127.0.0.1:6379"
    return secrets.token_hex(10)


def addon_json(app: StandInApp, addon: dict[str, Any]) -> dict[str, Any]:
    return {
        "actions": [],
        "addon_service": {"id": SERVICE_IDS[addon["service"]], "name": addon["service"]},
        "billing_entity": {"id": app.id, "name": app.name, "type": "app"},
        "app": {"id": app.id, "name": app.name},
        "billed_price": {"cents": 0, "contract": False, "unit": "month"},
        "config_vars": list(addon["config_vars"]) if addon["state"] == "provisioned" else [],
        "created_at": addon["created_at"],
        "id": addon["id"],
        "name": addon["name"],
        "plan": {"id": addon["plan_id"], "name": f"{addon['service']}:{addon['plan']}"},
        "provider_id": addon["provider_id"],
        "provision_message": addon["message"],
        "state": addon["state"],
        "updated_at": addon["updated_at"],
        "web_url": None,
    }


def create(app: StandInApp, body: dict[str, Any], polls: int) -> dict[str, Any]:
    """A new add-on from ``{"plan": "service[:plan]", "attachment": {"name": ...}}``."""
    service, _, plan = str(body["plan"]).partition(":")
    if service not in CATALOGUE:
        raise AddonError(
            422, "invalid_params", "Couldn't find either the add-on service or the add-on plan."
        )
    prefix, suffix, plans, asynchronous = CATALOGUE[service]
    plan = plan or plans[0]
    if plan not in plans:
        raise AddonError(422, "invalid_params", f"Couldn't find that plan: {service}:{plan}.")
    explicit = (body.get("attachment") or {}).get("name")
    attachment = (explicit or prefix).upper()
    var = f"{attachment}_{suffix}"
    taken = {v for a in app.addons for v in a["config_vars"]}
    if var in taken and explicit:
        raise AddonError(422, "invalid_params", f"{var} is already set by another add-on.")
    if var in taken:  # a second database: Heroku picks a colour name
        attachment = f"HEROKU_POSTGRESQL_{secrets.choice(['AMBER', 'ROSE', 'TEAL'])}"
        var = f"{attachment}_{suffix}"
    name = body.get("name") or f"{service.removeprefix('heroku-')}-{secrets.token_hex(4)}"
    if any(a["name"] == name for a in app.addons):
        raise AddonError(422, "invalid_params", f"Name {name} is already used.")
    addon: dict[str, Any] = {
        "id": new_id(),
        "plan_id": new_id(),
        "provider_id": secrets.token_hex(6),
        "service": service,
        "plan": plan,
        "name": name,
        "attachment": attachment,
        "config_vars": [var],
        "state": "provisioning" if asynchronous and polls > 0 else "provisioned",
        "polls_left": polls,
        "message": "Database has been created and is available" if asynchronous else "Provisioned",
        "created_at": now(),
        "updated_at": now(),
    }
    app.addons.append(addon)
    app.log("app[api]", f"Create {service}:{plan} by user {app.owner}")
    if addon["state"] == "provisioned":
        _attach(app, addon)
    return addon


def _attach(app: StandInApp, addon: dict[str, Any]) -> None:
    for var in addon["config_vars"]:
        app.config[var] = _value(addon["service"], addon["name"])
    current = app.current_release()
    slug = current["slug"]["id"] if current and current["slug"] else None
    app.add_release(f"Attach {addon['attachment']} (@ref:{addon['name']})", slug=slug)


def poll(app: StandInApp, addon: dict[str, Any]) -> None:
    """One read of a provisioning add-on: it gets closer to provisioned."""
    if addon["state"] != "provisioning":
        return
    addon["polls_left"] -= 1
    if addon["polls_left"] <= 0:
        addon["state"] = "provisioned"
        addon["updated_at"] = now()
        _attach(app, addon)


def find(app: StandInApp, ident: str) -> dict[str, Any]:
    for addon in app.addons:
        if ident in (addon["id"], addon["name"], addon["attachment"]):
            return addon
    raise AddonError(404, "not_found", f"Couldn't find that add-on: {ident}.")


def destroy(app: StandInApp, addon: dict[str, Any]) -> dict[str, Any]:
    app.addons.remove(addon)
    addon["state"] = "deprovisioned"
    removed = [v for v in addon["config_vars"] if v in app.config]
    for var in removed:
        app.config.pop(var)
    if removed:
        current = app.current_release()
        slug = current["slug"]["id"] if current and current["slug"] else None
        app.add_release(f"Detach {addon['attachment']} (@ref:{addon['name']})", slug=slug)
    return addon
