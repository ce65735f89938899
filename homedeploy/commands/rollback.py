"""``homedeploy rollback [vN]``: make an earlier release current again (a new release).

Same choice as the Heroku CLI: with no version, the second-newest release that is eligible for
rollback among the newest ten (the newest eligible one is usually the current release); with
``vN``, that release. Rolling back restores code and config vars, not add-ons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from homedeploy.errors import UsageError
from homedeploy.heroku.api import NotFound, Release
from homedeploy.heroku.app_choice import connect_app

WARNING = "Rollback affects code and config vars; it doesn't add or remove add-ons."


@dataclass
class RollbackReport:
    app: str
    target: int
    new_version: int
    undo: str
    warning: str = WARNING


def parse_version(text: str) -> int:
    """``v12`` or ``12`` -> 12; anything else is a :class:`UsageError`."""
    match = re.fullmatch(r"[vV]?(\d+)", text.strip())
    if not match:
        raise UsageError(
            f"{text!r} is not a release version",
            fix="pass it as vN, e.g. `homedeploy rollback v12` (`homedeploy releases` lists them).",
        )
    return int(match.group(1))


def pick_target(releases: list[Release]) -> Release:
    """The CLI's default target: the second eligible release, newest first."""
    eligible = [r for r in sorted(releases, key=lambda r: -r.version) if r.eligible_for_rollback]
    if len(eligible) < 2:
        raise UsageError(
            "there is no earlier release to roll back to",
            fix="`homedeploy releases` lists the releases; deploy a fix with `homedeploy push`.",
        )
    return eligible[1]


def rollback(project: Path, app: str | None, version: str | None = None) -> RollbackReport:
    """Roll the app back; returns the target and the new release's version."""
    target_app = connect_app(project, app)
    client, name = target_app.client, target_app.app.name
    if version is None:
        target = pick_target(client.releases(name, limit=10))
    else:
        number = parse_version(version)
        try:
            target = client.release(name, number)
        except NotFound:
            raise UsageError(
                f"{name} has no release v{number}",
                fix="`homedeploy releases` lists the versions you can roll back to.",
            ) from None
    new = client.rollback(name, target.id)
    return RollbackReport(
        app=name,
        target=target.version,
        new_version=new.version,
        undo=f"homedeploy rollback v{new.version - 1} --app {name}",
    )
