"""``homedeploy logs [--tail]``: an app's recent log lines, optionally followed live.

Heroku hands out a log session (``POST /apps/{app}/log-sessions``) whose URL streams the lines as
server-sent events or plain text; both are read the same way (``data:`` stripped).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from homedeploy.errors import NetworkError
from homedeploy.heroku_api import HerokuApiError
from homedeploy.heroku_target import connect_app

TAIL_READ_TIMEOUT = 600.0


@dataclass
class LogStream:
    app: str
    lines: Iterator[str]


def open_logs(
    project: Path,
    app: str | None,
    *,
    tail: bool = False,
    num: int = 100,
    dyno: str | None = None,
    source: str | None = None,
) -> LogStream:
    """Start a log session and return an iterator over its lines."""
    target = connect_app(project, app)
    session = target.client.create_log_session(
        target.app.name, tail=tail, lines=num, dyno=dyno, source=source
    )

    def lines() -> Iterator[str]:
        try:
            yield from target.client.stream_lines(
                session.logplex_url, read_timeout=TAIL_READ_TIMEOUT if tail else 60.0
            )
        except HerokuApiError as error:
            if error.status in (403, 404):
                raise NetworkError(
                    "Log stream timed out. Please try again.",
                    fix="run the same logs command again (log sessions expire after a while).",
                ) from None
            raise
        except requests.RequestException as error:
            raise NetworkError(
                f"the log stream broke off ({type(error).__name__})",
                fix="run the same logs command again.",
            ) from None

    return LogStream(target.app.name, lines())
