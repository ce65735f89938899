"""Reading a project's ``.env`` once, safely, for serve, config push and doctor.

python-dotenv parses the lines (so we agree with Flask's ``load_dotenv``); this module only makes
sure the file is a small regular file of UTF-8 text without NUL bytes first, because python-dotenv
would otherwise raise ``UnicodeDecodeError`` (non-UTF-8 bytes), block forever (a FIFO), or hand
an ``embedded null byte`` to ``os.environ`` later.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.errors import ProjectError
from homedeploy.fileio import read_bytes

_KEY_RE = re.compile(r"^\s*(?:export\s+)?([^=\s#]+)\s*=")


@dataclass(frozen=True)
class DotEnv:
    """Values (None for a bare ``KEY``) and the line each key was set on."""

    path: Path
    values: dict[str, str | None] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def set_values(self) -> dict[str, str]:
        return {key: value for key, value in self.values.items() if value is not None}


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def read_dotenv(path: Path) -> DotEnv:
    """Parse ``path``; :class:`ProjectError` (with file and line) when it cannot be used."""
    try:
        raw = read_bytes(path)
    except OSError as error:
        raise ProjectError(
            f"cannot read {path.name}: {error.strerror}", path=path, fix="check its permissions."
        ) from None
    if b"\x00" in raw:
        raise ProjectError(
            f"{path.name} contains a NUL byte, which no environment variable can hold.",
            path=path,
            line=_line_of(raw, raw.index(b"\x00")),
            fix="re-save the file as plain UTF-8 text (KEY=value lines).",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProjectError(
            f"{path.name} is not UTF-8 text (byte 0x{raw[error.start]:02x}); python-dotenv and "
            "Flask read it as UTF-8.",
            path=path,
            line=_line_of(raw, error.start),
            fix="re-save the file as UTF-8.",
        ) from None
    from dotenv import dotenv_values

    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _KEY_RE.match(line)
        if match:
            lines[match.group(1)] = number
    values = dict(dotenv_values(stream=io.StringIO(text)))
    return DotEnv(path, values, lines)
