"""``homedeploy releases``: the newest releases of an app (what ``heroku releases`` shows)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from homedeploy.heroku.api import Release
from homedeploy.heroku.app_choice import connect_app


@dataclass
class ReleasesReport:
    app: str
    releases: list[Release]


def list_releases(project: Path, app: str | None, limit: int = 15) -> ReleasesReport:
    """The newest ``limit`` releases, newest first."""
    target = connect_app(project, app)
    return ReleasesReport(target.app.name, target.client.releases(target.app.name, limit=limit))
