"""Attach to a one-off dyno (``homedeploy run``) over Heroku's rendezvous protocol.

No library speaks it, and it is small, so it is written here. ``POST /apps/{app}/dynos`` with
``attach: true`` answers an ``attach_url`` ``rendezvous://HOST:PORT/SECRET``. The client
connects to HOST:PORT with TLS (the certificate checked against the system store, or against
``HOMEDEPLOY_RENDEZVOUS_CA`` when set, which tests point at the stand-in's own CA), sends
``SECRET\\r\\n`` and waits for the line ``rendezvous``; from then on the connection is the
dyno's terminal: bytes sent are its stdin, bytes received its output, and the connection ends
when the process exits. The exit code travels the way the Heroku CLI carries it: the command is
wrapped so that the dyno prints ``\\uFFFF heroku-command-exit-status: $?`` last, and that marker
is cut out of the output.

TLS runs over :class:`ssl.MemoryBIO` on a plain socket rather than :class:`ssl.SSLSocket`, for
one reason: the end of our stdin is sent as a TLS close_notify (a half-close, which TLS 1.3
allows) while the dyno's output is still read, and ``SSLSocket.unwrap`` would stop reading.
Connecting, the handshake and the greeting have deadlines; once attached, the session lasts as
long as the process (TCP keepalive notices a dead peer).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from homedeploy.errors import HomedeployError

MARKER = "\uffff heroku-command-exit-status:"
_MARKER_BYTES = MARKER.encode()
_MARKER_RE = re.compile(re.escape(_MARKER_BYTES) + rb"\s*(\d+)[^\n]*\n?")
GREETING = b"rendezvous"


class RendezvousError(HomedeployError):
    """The dyno's session could not be reached or refused us."""

    exit_code = 3


def wrap_command(command: str) -> str:
    """The command as sent to the dyno: it prints the exit-status marker when it ends.

    The command runs in a subshell, so an ``exit 4`` in it still reaches the marker; the
    newline before the closing parenthesis ends a trailing ``# comment``.
    """
    return f'({command}\n); echo "{MARKER} $?"'


@dataclass(frozen=True)
class AttachTarget:
    host: str
    port: int
    secret: str


def parse_attach_url(url: str) -> AttachTarget:
    parts = urlsplit(url)
    secret = parts.path.lstrip("/")
    if parts.scheme != "rendezvous" or not parts.hostname or not secret:
        raise RendezvousError(
            "Heroku answered an attach URL homedeploy cannot use",
            fix="retry; if it persists, run with --detach and read `homedeploy logs`.",
        )
    return AttachTarget(parts.hostname, parts.port or 5000, secret)


class ExitStatusFilter:
    """Passes the dyno's output through, cutting out the exit-status marker (and keeping it).

    Only bytes that could be the start of the marker are held back between chunks, so
    prompts without a newline still show at once.
    """

    def __init__(self) -> None:
        self.exit_code: int | None = None
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        buffer = self._held + data
        self._held = b""
        out = bytearray()
        while buffer:
            index = buffer.find(_MARKER_BYTES[:1])
            if index < 0:
                out += buffer
                break
            out += buffer[:index]
            buffer = buffer[index:]
            match = _MARKER_RE.match(buffer)
            if match and match.group(0).endswith(b"\n"):
                self.exit_code = int(match.group(1))
                buffer = buffer[match.end() :]
                continue
            if _MARKER_BYTES.startswith(buffer[: len(_MARKER_BYTES)]) and (
                len(buffer) < len(_MARKER_BYTES) or b"\n" not in buffer
            ):
                self._held = buffer  # maybe the marker, not complete yet
                break
            out += buffer[:1]
            buffer = buffer[1:]
        return bytes(out)

    def finish(self) -> bytes:
        held, self._held = self._held, b""
        match = _MARKER_RE.match(held)
        if match:
            self.exit_code = int(match.group(1))
            return held[match.end() :]
        return held


class _TlsConnection:
    """TLS over a plain socket through memory BIOs (see the module docstring for why)."""

    def __init__(self, raw: socket.socket, context: ssl.SSLContext, host: str) -> None:
        self.raw = raw
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=host)
        self.write_closed = False
        self.ended = False

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data and not self.write_closed:
            self.raw.sendall(data)

    def fill(self, deadline: float | None) -> bool:
        """Read what the socket has (waiting until ``deadline``); False at end of stream."""
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self.raw], [], [], timeout)
        if not ready:
            raise TimeoutError
        data = self.raw.recv(65536)
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    def handshake(self, deadline: float) -> None:
        while True:
            try:
                self.tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self.fill(deadline):
                    raise ConnectionError("closed during the TLS handshake") from None

    def send(self, data: bytes) -> None:
        self.tls.write(data)
        self._flush()

    def close_write(self) -> None:
        """Half-close: a TLS close_notify ends the dyno's stdin; its output keeps coming."""
        if not self.write_closed:
            with contextlib.suppress(ssl.SSLWantReadError, ssl.SSLError):
                self.tls.unwrap()  # sends close_notify; reading goes on (TLS 1.3 half-close)
            with contextlib.suppress(OSError):
                self._flush()
            self.write_closed = True

    def read(self) -> bytes:
        """Decrypted bytes available now (b"" when none); sets :attr:`ended` at the end."""
        chunks: list[bytes] = []
        while True:
            try:
                chunk = self.tls.read(65536)
            except ssl.SSLWantReadError:
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self.ended = True
                break
            if not chunk:
                self.ended = True
                break
            chunks.append(chunk)
        with contextlib.suppress(OSError):
            self._flush()
        return b"".join(chunks)


def _context(ca_file: Path | None) -> ssl.SSLContext:
    if ca_file is None:
        return ssl.create_default_context()
    if not ca_file.is_file():
        raise RendezvousError(
            f"HOMEDEPLOY_RENDEZVOUS_CA names {ca_file}, which is not a file",
            fix="point it at a PEM file of CA certificates, or unset it to use the system's.",
        )
    return ssl.create_default_context(cafile=str(ca_file))


def attach(
    url: str,
    *,
    stdin_fd: int | None,
    write: Callable[[bytes], None],
    ca_file: Path | None = None,
    connect_timeout: float = 15.0,
    greeting_timeout: float = 120.0,
    on_attached: Callable[[], None] | None = None,
) -> int | None:
    """Stream ``stdin_fd`` to the dyno and its output to ``write``; the exit code, or None.

    None means the session ended without the exit-status marker (the dyno was killed, or
    the connection dropped).
    """
    target = parse_attach_url(url)
    context = _context(ca_file)
    deadline = time.monotonic() + connect_timeout
    try:
        raw = socket.create_connection((target.host, target.port), timeout=connect_timeout)
    except OSError as error:
        raise RendezvousError(
            f"cannot reach the dyno's session at {target.host}:{target.port} "
            f"({type(error).__name__})",
            fix="check the connection (outbound port 5000 must be open), or use --detach.",
        ) from None
    with raw:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        connection = _TlsConnection(raw, context, target.host)
        leftover = _open_session(connection, target, deadline, greeting_timeout)
        if on_attached is not None:
            on_attached()
        return _pump(connection, leftover, stdin_fd, write)


def _open_session(
    connection: _TlsConnection, target: AttachTarget, deadline: float, greeting_timeout: float
) -> bytes:
    try:
        connection.handshake(deadline)
        connection.send(target.secret.encode() + b"\r\n")
        buffer = b""
        greeting_deadline = time.monotonic() + greeting_timeout
        while b"\r\n" not in buffer and b"\n" not in buffer:
            more = connection.fill(greeting_deadline)
            buffer += connection.read()
            if not more or connection.ended or len(buffer) > 4096:
                break
    except ssl.SSLCertVerificationError as error:
        raise RendezvousError(
            f"the dyno's session at {target.host} has a certificate this machine does not "
            f"trust ({error.verify_message})",
            fix="check the system's CA certificates (or HOMEDEPLOY_RENDEZVOUS_CA).",
        ) from None
    except TimeoutError:
        raise RendezvousError(
            "the one-off dyno did not start in time",
            fix="retry, or use --detach and follow it with `homedeploy logs --tail`.",
        ) from None
    except (OSError, ssl.SSLError) as error:
        raise RendezvousError(
            f"the dyno's session failed ({type(error).__name__}: {error})",
            fix="retry, or use --detach and follow it with `homedeploy logs --tail`.",
        ) from None
    line, _, rest = buffer.partition(b"\n")
    if line.rstrip(b"\r") != GREETING:
        raise RendezvousError(
            "the dyno's session refused the connection "
            f"({line.rstrip().decode(errors='replace') or 'no answer'})",
            fix="the session may have expired: run the command again.",
        )
    return rest


def _pump(
    connection: _TlsConnection,
    leftover: bytes,
    stdin_fd: int | None,
    write: Callable[[bytes], None],
) -> int | None:
    status = ExitStatusFilter()
    if leftover:
        write(status.feed(leftover))
    if stdin_fd is None:
        connection.close_write()
    while not connection.ended:
        watched: list[int | socket.socket] = [connection.raw]
        if stdin_fd is not None and not connection.write_closed:
            watched.append(stdin_fd)
        ready, _, _ = select.select(watched, [], [])
        if connection.raw in ready:
            try:
                open_stream = connection.fill(None)
            except OSError:
                open_stream = False
            data = connection.read()
            if data:
                write(status.feed(data))
            if not open_stream:
                break
        if stdin_fd is not None and stdin_fd in ready:
            chunk = os.read(stdin_fd, 65536)
            if chunk:
                try:
                    connection.send(chunk)
                except OSError:
                    connection.close_write()
            else:
                connection.close_write()
    tail = connection.read() if not connection.ended else b""
    write(status.feed(tail) + status.finish())
    return status.exit_code
