"""Load the Procfile's gunicorn target in the project's own virtual environment, as a dyno would.

Reading the source proves the module and the name exist; only importing proves the import does
not crash (a missing package, a bad config read at import time). When the project has a venv with
gunicorn in it, ``gunicorn --check-config`` loads the app exactly as the dyno will and exits
without binding anything. It runs in the background while the other checks read files, and is
bounded by a time-out, so doctor stays fast.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from homedeploy.project.procfile import command_words, gunicorn_words

IMPORT_TIMEOUT = 20.0


@dataclass(frozen=True)
class ImportResult:
    """The outcome of loading the app: ``ok``, or the error gunicorn printed (last line first)."""

    ok: bool
    venv: str
    message: str | None = None
    output: tuple[str, ...] = ()
    skipped: str | None = None  # why the check could not run


SHELL_OPERATORS_RE = re.compile(r"[;&|<>`]|\$\(")
GUNICORN_WORD_RE = re.compile(r"(?<!\S)((?:\S*/)?gunicorn)(?=\s|$)")


CHAIN_RE = re.compile(r"\s*(?:;|&&|\|\|)\s*")


def check_config_command(web_command: str) -> str | None:
    """The Procfile command with ``--check-config`` after ``gunicorn``, for bash to expand
    ($PORT, ${WEB_CONCURRENCY:-2}) as on a dyno. In a chain (``flask db upgrade; gunicorn
    app:app``) only the gunicorn command is run: the others change databases or files. None
    when gunicorn's own command holds shell operators (pipes, redirections, subshells)."""
    commands = CHAIN_RE.split(web_command)
    if len(commands) > 1 and ("'" in web_command or '"' in web_command):
        return None  # an operator inside quotes is not a chain; do not guess
    parts = [part for part in commands if GUNICORN_WORD_RE.search(part)]
    if len(parts) != 1 or SHELL_OPERATORS_RE.search(parts[0]):
        return None
    command, count = GUNICORN_WORD_RE.subn(r"\1 --check-config", parts[0], count=1)
    return command if count else None


class ImportCheck:
    """``gunicorn --check-config`` started in the background; :meth:`result` waits for it."""

    def __init__(self, project_root: Path, venv: Path, web_command: str) -> None:
        self.venv = venv
        self.rel_venv = venv.name
        self._process: subprocess.Popen[str] | None = None
        self._skipped: str | None = None
        gunicorn = venv / "bin" / "gunicorn"
        words = gunicorn_words(command_words(web_command))
        if words is None:
            self._skipped = "the web command does not run gunicorn"
            return
        if not gunicorn.exists():
            self._skipped = f"gunicorn is not installed in {venv.name}/"
            return
        env = {
            **os.environ,
            "PORT": "5000",
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "VIRTUAL_ENV": str(venv),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.pop("PYTHONHOME", None)
        env.pop("GUNICORN_CMD_ARGS", None)
        command = check_config_command(web_command)
        if command is None:
            self._skipped = "the web command chains other commands; only gunicorn is checked"
            return
        try:
            self._process = subprocess.Popen(
                ["bash", "-c", command],
                cwd=project_root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        except OSError as error:
            self._skipped = f"cannot run {gunicorn}: {error.strerror}"

    def result(self, timeout: float = IMPORT_TIMEOUT) -> ImportResult:
        """Wait (bounded) for the check and interpret gunicorn's output."""
        if self._process is None:
            return ImportResult(True, self.rel_venv, skipped=self._skipped)
        try:
            output, _ = self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
            return ImportResult(
                False,
                self.rel_venv,
                f"importing the app took longer than {timeout:g} s",
            )
        lines = tuple(line for line in output.splitlines() if line.strip())
        if self._process.returncode == 0:
            return ImportResult(True, self.rel_venv, output=lines)
        message = next(
            (line.strip() for line in reversed(lines) if not line.startswith((" ", "\t"))),
            f"gunicorn exited with code {self._process.returncode}",
        )
        return ImportResult(False, self.rel_venv, message, lines[-12:])
