"""``homedeploy apps``: the Heroku apps this account owns or collaborates on."""

from __future__ import annotations

from dataclasses import dataclass

from homedeploy.heroku.api import App
from homedeploy.heroku.app_choice import connect


@dataclass
class AppsReport:
    account: str
    apps: list[App]


def list_apps() -> AppsReport:
    """All apps (every page), sorted by name, with the account they belong to."""
    client, account = connect()
    return AppsReport(account.email, sorted(client.apps(), key=lambda app: app.name))
