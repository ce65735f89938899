"""``homedeploy doctor``: check a project folder (and optionally fix it) before a push.

The rules and their orchestration live in :mod:`homedeploy.doctor.engine`; this use case is the
entry point the CLI calls.
"""

from __future__ import annotations

from pathlib import Path

from homedeploy.doctor.engine import DoctorReport, run_doctor


def doctor(path: Path, *, offline: bool = True, fix: bool = False) -> DoctorReport:
    """Run every doctor rule on the project at ``path``; ``fix`` applies the safe repairs first."""
    return run_doctor(path, offline=offline, fix=fix)
