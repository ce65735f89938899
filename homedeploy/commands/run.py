"""``homedeploy run CMD...``: a one-off dyno, attached over rendezvous or ``--detach``-ed.

Split in two steps so the CLI can say "Running ... on APP... up, run.1" between them:
:func:`start_run` creates the dyno, :func:`attach_run` streams the terminal until it exits.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy import settings
from homedeploy.errors import UsageError
from homedeploy.heroku.app_choice import connect_app
from homedeploy.heroku.rendezvous import attach, wrap_command

ENV_KEY_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def build_command(args: list[str] | tuple[str, ...]) -> str:
    """One argument is sent as it is (``run "python x.py --y"``), several are shell-quoted."""
    if not args:
        raise UsageError(
            "no command given", fix="e.g. `homedeploy run python manage.py migrate` or `run bash`."
        )
    return args[0] if len(args) == 1 else shlex.join(args)


def parse_env(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``-e KEY=VALUE`` options (also ``K=V;K2=V2`` as the Heroku CLI accepts)."""
    env: dict[str, str] = {}
    for value in values:
        for item in value.split(";"):
            if not item.strip():
                continue
            key, sep, val = item.partition("=")
            key = key.strip()
            if not sep or not key or set(key) - ENV_KEY_CHARS:
                raise UsageError(
                    f"{item!r} is not KEY=VALUE",
                    fix="e.g. `-e DEBUG=1` (letters, digits and _ in the name).",
                )
            env[key] = val
    return env


@dataclass
class RunStarted:
    app: str
    dyno: str
    command: str
    detached: bool
    size: str | None
    attach_url: str | None = field(default=None, repr=False)


def start_run(
    project: Path,
    app: str | None,
    args: list[str] | tuple[str, ...],
    *,
    detach: bool = False,
    size: str | None = None,
    env: Mapping[str, str] | None = None,
    terminal_size: tuple[int, int] | None = None,
    tty: bool = False,
) -> RunStarted:
    """Create the one-off dyno (nothing runs locally); ``tty``: our stdin is a terminal, so the
    dyno gets one too (otherwise ``force_no_tty``, and the end of our input ends its stdin)."""
    command = build_command(args)
    target = connect_app(project, app)
    dyno_env = dict(env or {})
    if terminal_size is not None:
        dyno_env.setdefault("COLUMNS", str(terminal_size[0]))
        dyno_env.setdefault("LINES", str(terminal_size[1]))
    sent = command if detach else wrap_command(command)
    dyno = target.client.create_dyno(
        target.app.name,
        sent,
        attach=not detach,
        env=dyno_env or None,
        size=size,
        force_no_tty=not detach and not tty,  # piped input: no terminal on the dyno either
    )
    return RunStarted(target.app.name, dyno.name, command, detach, dyno.size, dyno.attach_url)


def attach_run(
    started: RunStarted,
    *,
    stdin_fd: int | None,
    write: Callable[[bytes], None],
    on_attached: Callable[[], None] | None = None,
) -> int | None:
    """Stream the dyno's terminal; its exit code (None when it ended without one)."""
    assert started.attach_url is not None
    return attach(
        started.attach_url,
        stdin_fd=stdin_fd,
        write=write,
        ca_file=settings.rendezvous_ca_file(),
        on_attached=on_attached,
    )
