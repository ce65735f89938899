"""HTTP with a total deadline, capped bodies and retries for idempotent requests only.

requests' ``timeout=`` is per socket operation: a server that sends one byte every few seconds
never trips it, so a Platform API call or an index page could take as long as the server likes.
:class:`Deadline` bounds the whole operation (connect, headers, body, retries and their sleeps):
a watchdog timer shuts down the sockets the operation uses when the time is up, which ends any
blocked read at once, and every per-read time-out is trimmed to the time left. Sessions from
:func:`guarded_session` register their connections with the deadline of the calling thread.

Retries are urllib3's :class:`~urllib3.util.Retry` (so backoff and ``Retry-After`` follow its
rules) restricted to idempotent methods: a POST that creates an app or a rollback is never sent
twice. ``Retry-After`` is capped by :attr:`RetrySettings.max_sleep` and by the deadline.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    import requests

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
MAX_BODY_BYTES = 32 * 1024 * 1024
"""No Platform API answer or index page homedeploy reads is this big."""

_local = threading.local()


class DeadlineExceeded(Exception):
    """The operation ran past its :class:`Deadline` (raised by :meth:`Deadline.check`)."""


class BodyTooLarge(Exception):
    """A response body was longer than the cap given to :func:`read_body`."""


class _Watchdog:
    """One daemon thread that fires every pending deadline at its time.

    A thread per deadline (``threading.Timer``) costs a thread start per request, about 2 ms
    and more while other threads hold the GIL: 0.4 s over a freeze's 234 index pages.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, deadline: Deadline, at: float) -> int:
        """Fire ``deadline`` at monotonic time ``at``; returns a ticket for :meth:`cancel`."""
        ticket = next(self._order)
        with self._wake:
            sooner = not self._heap or at < self._heap[0][0]
            heapq.heappush(self._heap, (at, ticket, deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            elif sooner:
                self._wake.notify()  # it sleeps until the earliest; later ones need no wake-up
        return ticket

    def cancel(self, ticket: int) -> None:
        """Forget a ticket (the watchdog may still wake at its time, and find nothing due)."""
        with self._wake:
            self._heap = [item for item in self._heap if item[1] != ticket]
            heapq.heapify(self._heap)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wake.wait(wait)
                _, ticket, deadline = heapq.heappop(self._heap)
            deadline._fire(ticket)


_watchdog = _Watchdog()


class Deadline:
    """A total time limit for one network operation, enforced by a watchdog thread."""

    def __init__(self, seconds: float, what: str = "the request") -> None:
        self.seconds = seconds
        self.what = what
        self.expired = False
        self._end = time.monotonic() + seconds
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._ticket: int | None = None

    def __enter__(self) -> Deadline:
        self._end = time.monotonic() + self.seconds
        stack: list[Deadline] = getattr(_local, "stack", [])
        _local.stack = [*stack, self]
        self._arm()
        return self

    def _arm(self) -> None:
        self._disarm()
        with self._lock:  # a deadline already due fires only once its ticket is known
            self._ticket = _watchdog.schedule(self, self._end)

    def _disarm(self) -> None:
        with self._lock:
            ticket, self._ticket = self._ticket, None
        if ticket is not None:
            _watchdog.cancel(ticket)

    def _fire(self, ticket: int) -> None:
        with self._lock:
            if ticket != self._ticket:
                return  # disarmed or re-armed meanwhile
            self._ticket = None
        self._expire()

    def __exit__(self, *exc: object) -> None:
        self._disarm()
        stack: list[Deadline] = getattr(_local, "stack", [])
        _local.stack = [d for d in stack if d is not self]
        with self._lock:
            self._connections.clear()

    def extend(self, seconds: float) -> None:
        """Restart the clock: ``seconds`` from now (a stream's per-line deadline)."""
        self._disarm()
        self.check()
        self._end = time.monotonic() + seconds
        self._arm()

    def remaining(self) -> float:
        return max(self._end - time.monotonic(), 0.0)

    def timeout(self, connect: float, read: float | None) -> tuple[float, float]:
        """Per-operation time-outs trimmed to the time left (never zero, which means "none")."""
        left = max(self.remaining(), 0.05)
        return min(connect, left), min(read if read is not None else left, left)

    def check(self) -> None:
        if self.expired or self.remaining() <= 0:
            self.expired = True
            raise DeadlineExceeded(self.what)

    def watch(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)
        if self.expired:
            self._shutdown(connection)

    def _expire(self) -> None:
        self.expired = True
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            self._shutdown(connection)

    @staticmethod
    def _shutdown(connection: Any) -> None:
        # A response that closes its connection (HTTP/1.0, ``Connection: close``) takes the
        # socket over: http.client drops ``connection.sock`` while the body is still read
        # from it, so the socket the headers came on is kept too (see _Watched).
        for sock in {getattr(connection, "sock", None), getattr(connection, "_watched_sock", None)}:
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def current_deadlines() -> list[Deadline]:
    return list(getattr(_local, "stack", []))


class _Watched:
    """Connection mixin: every request on it is watched by the thread's active deadlines."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        for deadline in current_deadlines():
            deadline.watch(self)
        return super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        self._watched_sock = getattr(self, "sock", None)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


@dataclass
class RetrySettings:
    """How often and how patiently to retry (idempotent requests only)."""

    attempts: int = 4
    backoff: float = 1.0
    max_sleep: float = 30.0
    statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    on_retry: Callable[[str], None] | None = None
    retry_after_scale: float = 1.0
    """Tests shrink every sleep, ``Retry-After`` included, by setting the backoff to 0."""


def make_retry(settings: RetrySettings) -> Retry:
    """urllib3's Retry for ``settings``: idempotent methods, bounded sleeps, a message per retry."""
    hook = settings.on_retry
    max_sleep = settings.max_sleep
    scale = settings.retry_after_scale

    class _Retry(Retry):
        def get_retry_after(self, response: Any) -> float | None:
            value = super().get_retry_after(response)
            if value is None:
                return None
            deadlines = current_deadlines()
            limit = min([max_sleep, *(d.remaining() for d in deadlines)])
            return min(value, limit) * scale

        def increment(  # type: ignore[override]
            self, method: str | None = None, url: str | None = None, *args: Any, **kwargs: Any
        ) -> Retry:
            for deadline in current_deadlines():
                deadline.check()
            new = super().increment(method, url, *args, **kwargs)
            if hook is not None:
                response = kwargs.get("response")
                error = kwargs.get("error")
                why = (
                    f"answered {response.status} to {method} {url}"
                    if response is not None
                    else f"connection problem ({type(error).__name__})"
                )
                after = new.get_retry_after(response) if response is not None else None
                delay = after if after is not None else new.get_backoff_time()
                hook(f"{why}; retrying in {delay:.1f} s")
            return new

    return _Retry(
        total=max(settings.attempts - 1, 0),
        connect=max(settings.attempts - 1, 0),
        read=0,  # a read that timed out may have been processed: do not resend blindly
        redirect=0,
        status=max(settings.attempts - 1, 0),
        other=0,
        allowed_methods=IDEMPOTENT,
        status_forcelist=settings.statuses,
        backoff_factor=settings.backoff,
        backoff_max=max_sleep,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


_CONTEXTS: dict[tuple[str, bool], Any] = {}
_CONTEXTS_LOCK = threading.Lock()


def _verifying_context(location: str, is_dir: bool) -> Any:
    """One SSL context per CA bundle for the whole process, its certificates loaded once.

    Why not urllib3's default: it builds a context and loads the bundle (~35 ms of CPU for
    certifi's) for every new connection, and check-reqs opens a dozen at once. The context is
    urllib3's own (:func:`create_urllib3_context`: its protocol and cipher defaults), so
    verification is the same.
    """
    key = (location, is_dir)
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
        if context is None:
            from urllib3.util.ssl_ import create_urllib3_context

            context = create_urllib3_context()
            if is_dir:
                context.load_verify_locations(capath=location)
            else:
                context.load_verify_locations(cafile=location)
            _CONTEXTS[key] = context
        return context


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """requests' choice of CA bundle, verified with a shared context (see
        :func:`_verifying_context`); a client certificate keeps urllib3's own per-connection
        context, as it would be loaded into the shared one."""
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
        if conn.cert_reqs != "CERT_REQUIRED" or cert or getattr(conn, "cert_file", None):
            return
        location, is_dir = (conn.ca_cert_dir, True) if conn.ca_cert_dir else (conn.ca_certs, False)
        if not location:
            return
        conn.conn_kw["ssl_context"] = _verifying_context(location, is_dir)
        conn.ca_certs = None
        conn.ca_cert_dir = None


def mount_guarded(session: requests.Session, retry: RetrySettings | None = None) -> None:
    """Make ``session``'s connections honour :class:`Deadline` and retry per ``retry``."""
    adapter = _Adapter(max_retries=make_retry(retry) if retry else Retry(0, read=False))
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def guarded_session(retry: RetrySettings | None = None) -> requests.Session:
    """A new requests Session set up by :func:`mount_guarded`, which reads the environment's
    proxy and CA settings once per host rather than once per request (see
    :func:`_session_class`)."""
    session = _session_class()()
    mount_guarded(session, retry)
    return session


@functools.cache
def _session_class() -> type[requests.Session]:
    """requests' Session, remembering what :meth:`merge_environment_settings` found per host.

    Why: with ``trust_env`` requests walks the whole environment twice per request for proxy
    variables (``getproxies_environment``), ~0.2 ms of CPU each time: a tenth of a second over
    a freeze's index pages, for an answer that does not change while a command runs.
    """
    import requests

    class _Session(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self._environment: dict[tuple[Any, ...], Any] = {}

        def merge_environment_settings(
            self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> Any:
            try:
                parts = urlsplit(str(url))
                key = (
                    parts.scheme,
                    parts.netloc,
                    tuple(sorted((proxies or {}).items())),
                    tuple(sorted(self.proxies.items())),
                    stream,
                    verify,
                    self.verify,
                    str(cert),
                    str(self.cert),
                    self.trust_env,
                )
                hash(key)
            except (TypeError, ValueError):
                return super().merge_environment_settings(url, proxies, stream, verify, cert)
            found = self._environment.get(key)
            if found is None:
                found = super().merge_environment_settings(url, proxies, stream, verify, cert)
                self._environment[key] = found
            return dict(found, proxies=dict(found["proxies"]))

    return _Session


def read_body(
    response: requests.Response, deadline: Deadline, limit: int = MAX_BODY_BYTES
) -> bytes:
    """The body of a ``stream=True`` response, within the deadline and at most ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        deadline.check()
        size += len(chunk)
        if size > limit:
            response.close()
            raise BodyTooLarge(f"more than {limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    deadline.check()
    body = b"".join(chunks)
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]
    return body


def iter_lines_within(
    response: requests.Response, deadline: Deadline, *, limit: int = 1024 * 1024
) -> Iterator[bytes]:
    """Lines of a streamed body; each must arrive within ``deadline`` (reset per line by caller)."""
    buffer = b""
    for chunk in response.iter_content(8192):
        deadline.check()
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.rstrip(b"\r")
        if len(buffer) > limit:
            yield buffer
            buffer = b""
    if buffer:
        yield buffer
