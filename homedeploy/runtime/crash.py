"""The real cause of a crash, read from a Python traceback in a process's log.

A crashed boot leaves gunicorn's own lines ("Worker failed to boot", "Shutting down: Master")
last in the log, and the exception that matters a screen higher. This reads the last traceback
the way Python prints it: ``File "...", line N, in func`` frames each followed by the source
line, then the exception line (the first unindented line after the frames, whatever the
exception's name: ``Exception: ...`` or ``sqlalchemy.exc.ArgumentError: ...``). The frame shown
is the last one inside the project, which is where the user's fix goes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FRAME_RE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
TRACEBACK = "Traceback (most recent call last):"
_Frame = tuple[str, int, "str | None", "str | None"]
CHAINED = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)


@dataclass(frozen=True)
class CrashCause:
    """The exception line and the project frame that raised it (``path`` relative)."""

    exception: str
    path: str | None = None
    line: int | None = None
    function: str | None = None
    source: str | None = None

    @property
    def location(self) -> str | None:
        if self.path is None:
            return None
        return f"{self.path}:{self.line}" if self.line else self.path

    def describe(self) -> str:
        where = f" at {self.location}" if self.location else ""
        if self.function and self.function != "<module>" and self.location:
            where += f" in {self.function}()"
        code = f": {self.source}" if self.source else ""
        return f"{self.exception}{where}{code}"


def _strip_prefix(line: str) -> str:
    """Drop gunicorn's or a log collector's prefix before a traceback line, if any."""
    index = line.find(TRACEBACK)
    return line[index:] if index > 0 else line


def _parse_block(lines: list[str], start: int) -> tuple[list[_Frame], str | None]:
    frames: list[_Frame] = []
    index = start + 1
    while index < len(lines):
        line = lines[index]
        match = FRAME_RE.match(line)
        if match:
            source = None
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if following.startswith("    ") and not FRAME_RE.match(following):
                source = following.strip()
                index += 1
            frames.append((match["path"], int(match["line"]), match["func"], source))
        elif line.strip() and not line.startswith((" ", "\t")):
            return frames, line.strip()
        index += 1
    return frames, None


def _project_frame(frames: list[_Frame], roots: list[str]) -> tuple[str, _Frame] | None:
    for frame in reversed(frames):
        path = frame[0]
        resolved = str(Path(path).resolve()) if path.startswith("/") else path
        for root in roots:
            if resolved.startswith(root) and "/site-packages/" not in resolved:
                return resolved[len(root) :], frame
    return None


def crash_cause(lines: list[str], project_dirs: list[Path]) -> CrashCause | None:
    """The exception of the last traceback that passes through the project (gunicorn's own
    "HaltServer: Worker failed to boot" comes after the app's), with its last project frame."""
    lines = [_strip_prefix(line) for line in lines]
    roots = [str(directory.resolve()) + "/" for directory in project_dirs]
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() == TRACEBACK:
            frames, exception = _parse_block(lines, index)
            if exception is not None:
                blocks.append((frames, exception))
    if not blocks:
        return None
    for frames, exception in reversed(blocks):
        found = _project_frame(frames, roots)
        if found is not None:
            rel, (_path, number, function, source) = found
            return CrashCause(exception, rel, number, function, source)
    for _frames, exception in reversed(blocks):
        if not exception.startswith("gunicorn.errors."):
            return CrashCause(exception)
    return CrashCause(blocks[-1][1])
