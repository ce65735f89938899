"""What ``doctor`` reports: one :class:`Finding` per problem, tied to the Heroku failure.

Heroku's Python buildpack stops at the first problem and a crashed boot only shows up in
``heroku logs``; a finding names that same outcome (``heroku``: the buildpack's exact headline,
or a Heroku error code such as H10, R10, H14) so the user recognises it, and says where and how
to fix it.
Its fields are exactly the documented ``doctor --json`` shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from homedeploy.doctor.codes import CODES, FindingCode, Severity, Stage

STAGES: tuple[Stage, ...] = get_args(Stage)
"""In the order the build meets them (see :data:`homedeploy.doctor.codes.Stage`)."""

SEVERITIES: tuple[Severity, ...] = get_args(Severity)


@dataclass(frozen=True)
class Finding:
    """One problem found in a project: what, where (file:line), the Heroku outcome, and the fix."""

    code: FindingCode
    stage: Stage
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    heroku: str | None = None
    fix: str | None = None

    @property
    def location(self) -> str | None:
        """``path:line`` (or just ``path``) for display."""
        if self.path is None:
            return None
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def finding(
    code: FindingCode,
    severity: Severity,
    message: str,
    *,
    path: str | None = None,
    line: int | None = None,
    heroku: str | None = None,
    fix: str | None = None,
) -> Finding:
    """A :class:`Finding` of ``code``; its stage comes from the registry (doctor/codes.py)."""
    return Finding(code, CODES[code].stage, severity, message, path, line, heroku, fix)


def sort_key(finding: Finding) -> tuple[int, int, str, int]:
    """Stage order (build, boot, repository), errors first, then file and line."""
    return (
        STAGES.index(finding.stage) if finding.stage in STAGES else len(STAGES),
        0 if finding.is_error else 1,
        finding.path or "",
        finding.line or 0,
    )
