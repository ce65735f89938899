"""``homedeploy addons``: list, create (and wait for provisioning), destroy.

``create`` waits while the add-on is ``provisioning`` (Postgres and Redis take from seconds to
minutes) with a growing pause between reads and a total deadline, then reports the config vars
the add-on set, since those (``DATABASE_URL``, ...) are what the app reads.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from homedeploy.errors import UsageError
from homedeploy.heroku.api import Addon, InvalidParams, NotFound
from homedeploy.heroku.app_choice import connect_app

PLAN_RE = re.compile(r"^[a-z0-9][a-z0-9-]*(:[a-z0-9][a-z0-9-]*)?$")
ATTACHMENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
DEFAULT_WAIT = 600.0


@dataclass
class AddonsReport:
    app: str
    addons: list[Addon]


def list_addons(project: Path, app: str | None) -> AddonsReport:
    target = connect_app(project, app)
    return AddonsReport(target.app.name, target.client.addons(target.app.name))


@dataclass
class AddonCreated:
    app: str
    addon: Addon
    waited_seconds: float
    config_vars: list[str]
    provisioned: bool


def validate_plan(plan: str) -> str:
    if not PLAN_RE.match(plan):
        raise UsageError(
            f"{plan!r} is not an add-on plan",
            fix="write SERVICE[:PLAN], e.g. heroku-postgresql:essential-0 or heroku-redis:mini.",
        )
    return plan


def create_addon(
    project: Path,
    app: str | None,
    plan: str,
    *,
    attachment: str | None = None,
    wait: bool = True,
    timeout: float = DEFAULT_WAIT,
    progress: Callable[[str], None] | None = None,
) -> AddonCreated:
    """Provision ``plan`` on the app and (with ``wait``) wait until it is provisioned."""
    validate_plan(plan)
    if attachment is not None and not ATTACHMENT_RE.match(attachment):
        raise UsageError(
            f"{attachment!r} (--as) is not a config var prefix",
            fix="use letters, digits and _, starting with a letter, e.g. --as CACHE.",
        )
    target = connect_app(project, app)
    name = target.app.name
    try:
        addon = target.client.create_addon(name, plan, attachment=attachment, confirm=name)
    except InvalidParams as error:
        raise UsageError(
            f"Heroku refused {plan}: {error.message.removeprefix('Heroku API: ')}",
            fix="check the plan name on https://elements.heroku.com/addons (SERVICE:PLAN).",
        ) from None
    started = time.monotonic()
    pause = 0.2
    while wait and addon.state == "provisioning":
        if time.monotonic() - started > timeout:
            break
        if progress is not None:
            progress(f"{addon.name} is provisioning ({time.monotonic() - started:.0f} s)")
        time.sleep(pause)
        pause = min(pause * 2, 5.0)
        addon = target.client.addon(name, addon.id)
    waited = time.monotonic() - started
    return AddonCreated(name, addon, waited, list(addon.config_vars), addon.state == "provisioned")


@dataclass
class AddonDestroyed:
    app: str
    addon: str
    config_vars: list[str]


def destroy_addon(project: Path, app: str | None, addon_name: str, confirm: str) -> AddonDestroyed:
    """Delete the add-on (its data with it): ``confirm`` must repeat the app's name."""
    target = connect_app(project, app)
    name = target.app.name
    if confirm != name:
        raise UsageError(
            f"--confirm {confirm!r} does not match the app {name!r}",
            fix=f"destroying {addon_name} deletes its data: pass --confirm {name} to go ahead.",
        )
    try:
        addon = target.client.addon(name, addon_name)
    except NotFound:
        names = ", ".join(a.name for a in target.client.addons(name)) or "none"
        raise UsageError(
            f"{name} has no add-on {addon_name!r} (add-ons: {names})",
            fix="`homedeploy addons` lists them.",
        ) from None
    target.client.delete_addon(name, addon.id)
    return AddonDestroyed(name, addon.name, list(addon.config_vars))
