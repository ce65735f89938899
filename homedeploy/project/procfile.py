"""Reading a Procfile and the gunicorn command in its ``web:`` line.

Heroku reads ``Procfile`` (that exact name, at the root) as ``<type>: <command>`` lines and runs the
command with bash. The common mistakes (``gunicorn wsgi.py``, a module:variable that does not
exist, ``python app.py``) all live in that one line, so it is parsed once here for serve, doctor
and the rehearsal.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.errors import ProjectError
from homedeploy.fileio import read_bytes

PROCESS_LINE_RE = re.compile(r"^([A-Za-z0-9_-]+):\s?(.*)$")


@dataclass(frozen=True)
class ProcessLine:
    """One ``type: command`` line of a Procfile."""

    name: str
    command: str
    line: int


@dataclass(frozen=True)
class Procfile:
    """A parsed Procfile: its process types and the lines it could not read."""

    path: Path
    processes: dict[str, ProcessLine]
    invalid_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def web(self) -> ProcessLine | None:
        return self.processes.get("web")


@dataclass(frozen=True)
class GunicornCommand:
    """What a ``gunicorn ...`` command will load and how.

    ``target`` is the positional ``module:variable`` (or ``module:factory()``) argument; ``chdir``
    and ``pythonpath`` change where the module is imported from.
    """

    target: str | None
    chdir: str | None = None
    pythonpath: list[str] = field(default_factory=list)
    bind: list[str] = field(default_factory=list)
    workers: str | None = None
    config: str | None = None

    @property
    def module(self) -> str | None:
        if not self.target:
            return None
        return self.target.split(":", 1)[0]

    @property
    def variable(self) -> str:
        """The attribute gunicorn looks up; gunicorn defaults to ``application`` then ``app``."""
        if self.target and ":" in self.target:
            return self.target.split(":", 1)[1]
        return "application"


def read_procfile(path: Path) -> Procfile:
    """Parse ``path``; raises :class:`ProjectError` when it cannot be read as text."""
    try:
        raw = read_bytes(path)
    except OSError as error:
        raise ProjectError(
            f"cannot read the Procfile: {error.strerror}",
            path=path,
            fix="check the file's permissions.",
        ) from error
    text = raw.decode("utf-8-sig", errors="replace")
    processes: dict[str, ProcessLine] = {}
    invalid: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = PROCESS_LINE_RE.match(stripped)
        if match is None or "\x00" in stripped:  # no shell can run a command with a NUL byte
            invalid.append((number, line))
            continue
        name, command = match.group(1), match.group(2).strip()
        processes.setdefault(name, ProcessLine(name, command, number))
    return Procfile(path, processes, invalid)


def command_words(command: str) -> list[str]:
    """Split a Procfile command like bash would (quotes honoured); [] when it cannot be split."""
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return []


_VALUE_OPTIONS = {
    "-b": "bind",
    "--bind": "bind",
    "--chdir": "chdir",
    "--pythonpath": "pythonpath",
    "-w": "workers",
    "--workers": "workers",
    "-c": "config",
    "--config": "config",
}
# Options that take a value but do not matter to us (so their value is not the target).
_OTHER_VALUE_OPTIONS = {
    "-k",
    "--worker-class",
    "-t",
    "--timeout",
    "--log-level",
    "--access-logfile",
    "--error-logfile",
    "--log-file",
    "--threads",
    "--max-requests",
    "--max-requests-jitter",
    "--keep-alive",
    "--graceful-timeout",
    "-e",
    "--env",
    "--worker-connections",
    "--backlog",
    "-n",
    "--name",
    "--access-logformat",
    "--forwarded-allow-ips",
    "--limit-request-line",
    "--user",
    "-u",
    "--group",
    "-g",
    "--umask",
    "-m",
    "--worker-tmp-dir",
    "--statsd-host",
    "--log-config",
    "--certfile",
    "--keyfile",
    "-p",
    "--pid",
    "--capture-output",
    "--paste",
    "--paste-global",
}


def gunicorn_words(words: list[str]) -> list[str] | None:
    """The arguments after ``gunicorn`` in ``words`` (handles ``python -m gunicorn``), else None."""
    for index, word in enumerate(words):
        if Path(word).name == "gunicorn":
            return words[index + 1 :]
        if word == "-m" and index + 1 < len(words) and words[index + 1] == "gunicorn":
            return words[index + 2 :]
    return None


def parse_gunicorn(command: str) -> GunicornCommand | None:
    """Parse a gunicorn command line; None when the command does not run gunicorn."""
    args = gunicorn_words(command_words(command))
    if args is None:
        return None
    values: dict[str, list[str]] = {"bind": [], "pythonpath": []}
    single: dict[str, str] = {}
    positional: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        option, _, inline = word.partition("=")
        if option in _VALUE_OPTIONS or option in _OTHER_VALUE_OPTIONS:
            value = inline if "=" in word else (args[index + 1] if index + 1 < len(args) else "")
            index += 1 if "=" in word else 2
            key = _VALUE_OPTIONS.get(option)
            if key in ("bind", "pythonpath"):
                values[key].extend(value.split(",") if key == "pythonpath" else [value])
            elif key:
                single[key] = value
            continue
        if word.startswith("-"):
            index += 1
            continue
        positional.append(word)
        index += 1
    return GunicornCommand(
        target=positional[0] if positional else None,
        chdir=single.get("chdir"),
        pythonpath=values["pythonpath"],
        bind=values["bind"],
        workers=single.get("workers"),
        config=single.get("config"),
    )
