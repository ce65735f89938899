"""The result types of check-reqs: a verdict per requirements line, the files written.

Facts are stored here; :mod:`homedeploy.console` and the JSON serializer write text from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Verdict = Literal["keep", "drop", "repin", "error", "add"]
KEEP: Verdict = "keep"
DROP: Verdict = "drop"
REPIN: Verdict = "repin"
ERROR: Verdict = "error"
ADD: Verdict = "add"


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


@dataclass
class WrittenFile:
    """A file ``--write`` wrote, the backup of what it replaced, and how it was made."""

    path: str
    backup: str | None
    how: str


@dataclass
class CheckReport:
    """Everything check-reqs found; :meth:`to_json` is the ``--json`` shape."""

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

    def to_json(self) -> dict[str, Any]:
        return {
            "target": {"python": self.python, "platform": self.platform},
            "lines": [
                {
                    "line": v.line,
                    "text": v.text,
                    "name": v.name,
                    "verdict": v.verdict,
                    "reason": v.reason,
                    "replacement": v.replacement,
                    "file": v.file,
                }
                for v in self.lines
            ],
            "requirements_in": list(self.requirements_in),
            "written": [{"path": w.path, "backup": w.backup, "how": w.how} for w in self.written],
        }


@dataclass
class TopLevel:
    """A package requirements.in lists: the app needs it directly (``why`` says how)."""

    name: str
    requirement: str
    why: str
    source_only: str | None = None  # version to pin when only an sdist exists
    replaces: str | None = None  # a source-only package this binary twin stands in for
