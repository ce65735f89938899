"""Command-line interface: wires Click commands to domain functions and renders their results.

Nothing here decides anything about a project: each command calls one function under
``homedeploy.commands`` (or a domain module), gets dataclasses back, and shows them with rich or
as JSON. Domain modules are imported inside the commands so ``homedeploy --help`` stays fast.

Each command owns one block below (marked ``# === name ===``); keep edits inside your block.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from homedeploy import __version__
from homedeploy.errors import HomedeployError

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

_consoles: dict[bool, Console] = {}


def console(stderr: bool = False) -> Console:
    """A shared rich Console (stdout, or stderr for progress and errors), created on first use."""
    if stderr not in _consoles:
        from rich.console import Console

        _consoles[stderr] = Console(stderr=stderr, highlight=False, soft_wrap=True)
    return _consoles[stderr]


def to_jsonable(value: Any) -> Any:
    """Turn dataclasses, paths and containers into plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (no rich markup, safe for pipes)."""
    click.echo(json.dumps(to_jsonable(value), indent=2, sort_keys=False))


def fail(error: HomedeployError, *, as_json: bool = False) -> NoReturn:
    """Show a user-facing error (what, where, fix) without a traceback and exit with its code."""
    if as_json:
        payload = {
            "ok": False,
            "error": {
                "message": error.message,
                "path": error.path,
                "line": error.line,
                "fix": error.fix,
                "exit_code": error.exit_code,
            },
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        from rich.markup import escape

        err = console(stderr=True)
        where = f"{escape(error.location)}: " if error.location else ""
        err.print(f"[bold red]error:[/] {where}{escape(error.message)}")
        if error.fix:
            err.print(f"  [bold]fix:[/] {escape(error.fix)}")
    sys.exit(error.exit_code)


@contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """Turn :class:`HomedeployError` into a clean message and exit code."""
    try:
        yield
    except HomedeployError as error:
        fail(error, as_json=as_json)
    except KeyboardInterrupt:
        console(stderr=True).print("[yellow]interrupted[/]")
        sys.exit(130)


def path_argument(default: str = ".") -> Callable[[F], F]:
    """The optional project folder argument most commands take."""
    return click.argument(
        "path",
        required=False,
        default=default,
        type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    )


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="homedeploy")
def cli() -> None:
    """Take a Flask app from a laptop to a working Heroku deploy in one pass.

    \b
    Typical flow:
      homedeploy init            scaffold a Flask app, or adopt the one in this folder
      homedeploy serve --check   run it under gunicorn the way Heroku will, and probe it
      homedeploy check-reqs      turn any pip freeze into a requirements.txt Heroku installs
      homedeploy doctor          every build and boot problem, found locally, at once
      homedeploy push            deploy to Heroku and prove the release answers

    Heroku management: apps, logs, config, scale, releases, rollback.
    """


# === init ===
# (wired by the foundation: see homedeploy/commands/init.py)

# === serve ===
# (wired by the foundation: see homedeploy/commands/serve.py)

# === check-reqs ===

# === doctor ===

# === push ===

# === heroku management: apps, logs, config, scale, releases, rollback ===


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="homedeploy")
