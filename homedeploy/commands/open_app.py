"""``homedeploy open``: the app's ``web_url`` (from the API, never built from the name)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from homedeploy.errors import UsageError
from homedeploy.heroku.app_choice import connect_app


@dataclass
class OpenReport:
    app: str
    url: str
    opened: bool


def open_app(
    project: Path, app: str | None, path: str | None = None, *, browse: bool = True
) -> OpenReport:
    """Open the app's URL (plus ``path``) in the browser; ``opened`` is False without one."""
    import webbrowser

    target = connect_app(project, app)
    if not target.app.web_url:
        raise UsageError(
            f"Heroku reports no web URL for {target.app.name}",
            fix="deploy it first: `homedeploy push`.",
        )
    url = urljoin(target.app.web_url, (path or "").lstrip("/"))
    opened = False
    if browse:
        try:
            opened = webbrowser.open(url)
        except webbrowser.Error:
            opened = False
    return OpenReport(target.app.name, url, opened)
