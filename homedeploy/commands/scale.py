"""``homedeploy scale web=N[:size]``: set how many dynos of each process type run (and size)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from homedeploy.errors import UsageError
from homedeploy.heroku.api import Formation, NotFound
from homedeploy.heroku.app_choice import connect_app

SCALE_ARG_RE = re.compile(r"^([\w-]+)=(\d+)(?::([\w-]+))?$")


@dataclass
class ScaleReport:
    app: str
    changed: bool
    formation: list[Formation]


def parse_scale_args(args: list[str]) -> list[tuple[str, int, str | None]]:
    """``["web=2:basic"]`` -> ``[("web", 2, "basic")]``; a clear error for anything else."""
    updates = []
    for arg in args:
        match = SCALE_ARG_RE.match(arg.strip())
        if not match:
            raise UsageError(
                f"{arg!r} is not TYPE=COUNT[:SIZE]",
                fix="e.g. `homedeploy scale web=1` or `homedeploy scale web=2:standard-1x`.",
            )
        updates.append((match.group(1), int(match.group(2)), match.group(3)))
    return updates


def scale(project: Path, app: str | None, args: list[str]) -> ScaleReport:
    """Apply the changes in ``args`` (none: just report the current formation)."""
    updates = parse_scale_args(args)
    target = connect_app(project, app)
    name = target.app.name
    if not updates:
        return ScaleReport(name, False, target.client.formation(name))
    try:
        formation = target.client.scale(name, updates)
    except NotFound as error:
        raise UsageError(
            f"{name}: {error.message.removeprefix('Heroku API: ')}",
            fix="process types come from the Procfile of the last deploy: add the line (e.g. "
            "`web: gunicorn app:app`), commit, and `homedeploy push`.",
        ) from None
    return ScaleReport(name, True, formation)
