"""``homedeploy ps``, ``restart`` and ``maintenance``: the app's dynos and their switches."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from homedeploy.errors import UsageError
from homedeploy.heroku.api import Dyno, NotFound
from homedeploy.heroku.app_choice import connect_app

DYNO_NAME_RE = re.compile(r"^[\w-]+\.\d+$")
PROCESS_TYPE_RE = re.compile(r"^[\w-]+$")


@dataclass
class DynoRow:
    name: str
    type: str
    size: str | None
    state: str
    age: str | None
    command: str | None
    release: int | None


@dataclass
class PsReport:
    app: str
    dynos: list[DynoRow]


def age(timestamp: str | None, now: datetime | None = None) -> str | None:
    """``2024-01-01T12:00:00Z`` -> ``3m ago``-style text (None when there is no timestamp)."""
    if not timestamp:
        return None
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    seconds = int(((now or datetime.now(timezone.utc)) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def _row(dyno: Dyno) -> DynoRow:
    return DynoRow(
        dyno.name,
        dyno.type,
        dyno.size,
        dyno.state,
        age(dyno.updated_at),
        dyno.command,
        dyno.release_version,
    )


def list_dynos(project: Path, app: str | None) -> PsReport:
    target = connect_app(project, app)
    dynos = sorted(target.client.dynos(target.app.name), key=lambda d: (d.type != "web", d.name))
    return PsReport(target.app.name, [_row(d) for d in dynos])


@dataclass
class RestartReport:
    app: str
    target: str  # "all dynos", "web dynos" or "web.1"


def restart(project: Path, app: str | None, which: str | None) -> RestartReport:
    """Restart every dyno, those of one process type (``web``), or one dyno (``web.1``)."""
    if which is not None and not (DYNO_NAME_RE.match(which) or PROCESS_TYPE_RE.match(which)):
        raise UsageError(
            f"{which!r} is neither a process type (web) nor a dyno name (web.1)",
            fix="e.g. `homedeploy restart`, `restart web` or `restart web.1`.",
        )
    target = connect_app(project, app)
    name = target.app.name
    try:
        if which is None:
            target.client.restart(name)
            return RestartReport(name, "all dynos")
        if DYNO_NAME_RE.match(which):
            target.client.restart(name, dyno=which)
            return RestartReport(name, which)
        target.client.restart(name, process_type=which)
        return RestartReport(name, f"{which} dynos")
    except NotFound:
        running = ", ".join(d.name for d in target.client.dynos(name)) or "none"
        raise UsageError(
            f"{name} has no dyno or process type {which!r} (running: {running})",
            fix="`homedeploy ps` lists the dynos; process types come from the Procfile.",
        ) from None


@dataclass
class MaintenanceReport:
    app: str
    maintenance: bool
    changed: bool


def maintenance(project: Path, app: str | None, switch: str | None) -> MaintenanceReport:
    """Show (``switch`` None) or turn maintenance mode ``on``/``off``."""
    target = connect_app(project, app)
    name = target.app.name
    if switch is None:
        return MaintenanceReport(name, target.app.maintenance, False)
    wanted = switch == "on"
    if target.app.maintenance == wanted:
        return MaintenanceReport(name, wanted, False)
    updated = target.client.set_maintenance(name, wanted)
    return MaintenanceReport(name, updated.maintenance, True)
