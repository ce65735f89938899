"""The result types of check-reqs: a verdict per requirements line, the files written.

Facts are stored here; :mod:`homedeploy.console` and the JSON serializer write text from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    from homedeploy.jsonout import JsonKeys

Verdict = Literal["keep", "drop", "repin", "error", "add"]
KEEP: Verdict = "keep"
DROP: Verdict = "drop"
REPIN: Verdict = "repin"
ERROR: Verdict = "error"
ADD: Verdict = "add"

LineCause = Literal[
    # keep
    "needed",  # the app, or a package it needs, installs it
    "source-only",  # needed; no release has a wheel, Heroku builds it from source
    "include",  # -r/-c: the included file's lines are judged one by one
    "pip-option",  # a pip option that works on Heroku too
    "app-folder-path",  # a local path inside the app folder
    "url",  # installed from its URL on Heroku too
    # the package itself
    "not-on-index",  # no project of that name on the configured indexes
    "os-only",  # Windows or macOS only
    "all-yanked",  # every release is yanked
    "no-release-installs",  # nothing installs on the target Python and platform
    "needed-uninstallable",  # the app needs it, and one of the four above holds
    # the pinned version
    "version-not-on-index",
    "no-wheel",  # pip would build it from source on the dyno
    "requires-python",
    "stale-major",  # a major release behind the newest that installs
    "conflict",  # the pin conflicts with the set that installs
    "invalid-metadata",  # the release's Requires-Dist is invalid; pip (>= 24.1) refuses it
    "fails-at-start",  # installs, but its own code fails to import on the target Python
    "follows-dependency",  # moved because a pin it requires (or that requires it) moved
    "binary-twin",  # a source-only package whose twin has wheels (psycopg2 -> -binary)
    # where it comes from
    "local-path",  # a path on this machine, which Heroku's build cannot see
    "local-index",  # --find-links/--index-url pointing at a folder on this machine
    "marker-excludes-target",  # its environment marker is false on Heroku
    # not needed
    "unused",  # nothing imports it and no needed package depends on it
    "unused-constraint",
    "pip-rejects",  # pip cannot parse the line
    "missing",  # needed, but no line of the file names it (verdict ``add``)
]
"""Why a line got its verdict: the fact the verdict was decided on, for code to decide on in
turn; ``reason`` is the same fact written for people. Not part of ``check-reqs --json``."""


Severity = Literal["error", "warning", "info"]
"""What the line does on Heroku as it stands: ``error`` the build or the boot fails, ``warning``
it works but is fragile (a source build, a major release behind, an import only a function
makes), ``info`` nothing goes wrong (an unused line in a curated file is info)."""
FAILS: Severity = "error"
FRAGILE: Severity = "warning"
FINE: Severity = "info"

Mode = Literal["curated", "freeze"]
"""How the file is treated: a curated file keeps every line that installs; a whole-environment
freeze is pruned to what the app's processes need."""


@dataclass
class LineVerdict:
    """The verdict on one requirements line (``line`` is None for a package we add)."""

    line: int | None
    text: str
    name: str | None
    verdict: Verdict
    reason: str
    replacement: str | None = None
    file: str = ""
    severity: Severity = FINE
    cause: LineCause = field(kw_only=True)

    JSON_KEYS: ClassVar[JsonKeys] = (
        "line",
        "text",
        "name",
        "verdict",
        "reason",
        "replacement",
        "file",
        "severity",
    )
    """``cause`` is for code, not part of the ``check-reqs --json`` contract."""


@dataclass
class WrittenFile:
    """A file ``--write`` wrote, the backup of what it replaced, and how it was made."""

    path: str
    backup: str | None
    how: str


@dataclass
class CheckReport:
    """Everything check-reqs found; ``JSON_KEYS`` is the ``--json`` shape."""

    python: str
    platform: str
    python_origin: str
    requirements_path: Path
    app_dir: Path
    encoding: str
    lines: list[LineVerdict] = field(default_factory=list)
    requirements_in: list[str] = field(default_factory=list)
    top_level_reasons: dict[str, str] = field(default_factory=dict)
    pins: list[str] = field(default_factory=list)
    written: list[WrittenFile] = field(default_factory=list)
    method: str = ""
    sources: str = ""
    blocked: str | None = None
    wrote: bool = False
    notes: list[str] = field(default_factory=list)
    needed_names: set[str] = field(default_factory=set)
    index_options: list[str] = field(default_factory=list)
    mode: Mode = "curated"
    source_of_truth: str | None = None  # requirements.in, when --write compiled from it
    manager: str = "pip"  # what was judged: pip, uv, poetry, pipenv (a lock), pyproject

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {KEEP: 0, DROP: 0, REPIN: 0, ERROR: 0, ADD: 0}
        for verdict in self.lines:
            result[verdict.verdict] = result.get(verdict.verdict, 0) + 1
        return result

    @property
    def problems(self) -> int:
        return sum(1 for verdict in self.lines if verdict.verdict != KEEP)

    @property
    def exit_code(self) -> int:
        """0 clean (or written), 1 problems found (or nothing could be written)."""
        if self.wrote:
            return 0
        return 1 if self.problems or self.blocked else 0

    JSON_KEYS: ClassVar[JsonKeys] = ("target", "lines", "mode", "requirements_in", "written")

    @property
    def target(self) -> dict[str, str]:
        return {"python": self.python, "platform": self.platform}


@dataclass
class TopLevel:
    """A package requirements.in lists: the app needs it directly (``why`` says how)."""

    name: str
    requirement: str
    why: str
    source_only: str | None = None  # version to pin when only an sdist exists
    replaces: str | None = None  # a source-only package this binary twin stands in for
    verbatim: bool = False  # written to requirements.txt as it is (a URL, a marker-only line)
