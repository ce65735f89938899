"""The add-ons ``app.json`` declares, against the ones an app has, and waiting for provisioning.

``app.json`` declares the add-ons an app needs (``heroku-postgresql``, ``heroku-redis``); a plain
``git push`` does not create them, so an app that reads ``DATABASE_URL`` crashes on its first boot.
``push`` compares the declaration with ``GET /apps/{app}/addons`` and, after asking, creates the
missing ones (:meth:`HerokuClient.create_addon`) and polls ``GET /apps/{app}/addons/{id}`` until
the state is ``provisioned`` (a database takes a few minutes on Heroku).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from homedeploy.heroku.api import Addon, HerokuClient

PROVISION_POLL = 2.0


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
    pause = 0.2
    while current.state == "provisioning" and time.monotonic() < deadline:
        if on_wait is not None:
            on_wait(current)
        time.sleep(min(pause, max(0.05, deadline - time.monotonic())))
        pause = min(pause * 2, PROVISION_POLL)
        current = client.addon(app, addon.id)
    return current


def missing_addons(declared: dict[str, str], attached: list[Addon]) -> dict[str, str]:
    """Services app.json declares (service -> plan) that the app has no add-on of."""
    have = {addon.service for addon in attached if addon.state != "deprovisioned"}
    return {service: plan for service, plan in declared.items() if service not in have}
