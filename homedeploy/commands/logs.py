"""``homedeploy logs [--tail]``: an app's recent log lines, optionally followed live.

Heroku hands out a log session (``POST /apps/{app}/log-sessions``) whose URL streams the lines as
server-sent events or plain text; both are read the same way (``data:`` stripped). With
``--tail``, a stream that goes quiet past the read time-out is replaced by a fresh session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from homedeploy import settings
from homedeploy.errors import NetworkError
from homedeploy.heroku.api import HerokuApiError
from homedeploy.heroku.app_choice import connect_app


def _tail_read_timeout() -> float:
    """Seconds a tailed stream may stay silent before a fresh session is opened."""
    return settings.logs_read_timeout()


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
        url = session.logplex_url
        while True:
            try:
                # Without --tail the stream is finite: all of it within the API deadline.
                yield from target.client.stream_lines(
                    url,
                    read_timeout=_tail_read_timeout() if tail else settings.api_deadline(),
                    total=None if tail else settings.api_deadline(),
                )
                return
            except HerokuApiError as error:
                if error.status in (403, 404):
                    raise NetworkError(
                        "Log stream timed out. Please try again.",
                        fix="run the same logs command again (log sessions expire after a while).",
                    ) from None
                raise
            except (requests.ReadTimeout, requests.ConnectionError) as error:
                # requests reports a read time-out inside a streamed body as ConnectionError.
                if "timed out" not in str(error).lower() and not isinstance(
                    error, requests.ReadTimeout
                ):
                    raise NetworkError(
                        f"the log stream broke off ({type(error).__name__})",
                        fix="run the same logs command again.",
                    ) from None
                if not tail:
                    raise NetworkError(
                        "the log stream stopped sending",
                        fix="run the same logs command again.",
                    ) from None
                # A quiet app: open a fresh session that only carries new lines.
                url = target.client.create_log_session(
                    target.app.name, tail=True, lines=0, dyno=dyno, source=source
                ).logplex_url
            except requests.RequestException as error:
                raise NetworkError(
                    f"the log stream broke off ({type(error).__name__})",
                    fix="run the same logs command again.",
                ) from None

    return LogStream(target.app.name, lines())
