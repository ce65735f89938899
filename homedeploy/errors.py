"""Exceptions for user mistakes and environment problems.

Every failure a user can cause or fix is raised as a :class:`HomedeployError`: it carries what is
wrong, where (file and line when known) and the fix, plus the exit code the CLI should use. The
CLI renders these without a traceback; anything else is a bug in homedeploy and keeps its
traceback.
"""

from __future__ import annotations

from pathlib import Path


class HomedeployError(Exception):
    """A problem the user can act on. Rendered by the CLI as message, location and fix."""

    exit_code: int = 2

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
        exit_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.path = str(path) if path is not None else None
        self.line = line
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def location(self) -> str | None:
        """``file:line`` (or just ``file``) for messages, or None when not tied to a file."""
        if self.path is None:
            return None
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        tail = f" Fix: {self.fix}" if self.fix else ""
        return f"{where}{self.message}{tail}"


class UsageError(HomedeployError):
    """Bad arguments or unreadable input (exit code 2)."""

    exit_code = 2


class ProjectError(HomedeployError):
    """The project folder is not in a state we can work with (exit code 2)."""

    exit_code = 2


class CheckFailed(HomedeployError):
    """A check ran and found problems (exit code 1)."""

    exit_code = 1


class NetworkError(HomedeployError):
    """A remote service (package index, Heroku) could not be reached (exit code 3)."""

    exit_code = 3
