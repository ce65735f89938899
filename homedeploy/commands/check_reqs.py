"""``homedeploy check-reqs``: a verdict for every requirements line, and files that install.

The engine lives in :mod:`homedeploy.requirements.check` (doctor shares it); this use case only
picks the file and the app folder from what the user typed.
"""

from __future__ import annotations

from pathlib import Path

from homedeploy.requirements.check import check_requirements
from homedeploy.requirements.report import CheckReport


def run_check_reqs(
    requirements: Path | None,
    app: Path | None,
    *,
    python: str | None = None,
    write: bool = False,
    offline: bool = False,
) -> CheckReport:
    """Judge ``requirements`` (default: the app folder's requirements.txt) for the app."""
    return check_requirements(requirements, app, python=python, write=write, offline=offline)
