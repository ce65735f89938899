"""The stand-in's rendezvous service: one-off dynos attached over TLS, on 127.0.0.1.

``POST /apps/{app}/dynos`` with ``attach: true`` answers an ``attach_url`` of the form
``rendezvous://127.0.0.1:PORT/SECRET``. A client connects with TLS (the stand-in's own
certificate, from a CA made with trustme and written to ``ca_file``, which tests give homedeploy
through ``HOMEDEPLOY_RENDEZVOUS_CA``), sends the secret
and ``\\r\\n``, and gets ``rendezvous\\r\\n`` back; from then on the connection is the process's
terminal: bytes in are its stdin, its stdout and stderr come back, and the connection closes
when it exits. A TLS close_notify from the client (the end of its stdin; TLS 1.3 lets the other
direction go on) closes the process's stdin.
The command runs with bash in a fresh folder holding the app's current release when the stand-in
runs dynos (else an empty one), with the app's config vars and the request's ``env``.

Each connection is served by one thread with a select loop over the socket and the process's
output (an SSL object is not safe to read and write from two threads at once).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import selectors
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Session:
    app: str
    command: str
    env: dict[str, str]
    folder: Path | None = None
    on_exit: Callable[[int], None] | None = None
    tty: bool = False  # the client has a terminal: the process gets a pseudo-terminal
    used: bool = False
    exit_code: int | None = None
    stdin_seen: bytearray = field(default_factory=bytearray)


class RendezvousServer:
    """TLS listener for attached one-off dynos; :meth:`open_session` makes an attach URL."""

    def __init__(self, ca_file: Path) -> None:
        import trustme

        self.ca = trustme.CA()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(self.context)
        self.ca_file = ca_file
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self.greeting_delay = 0.0  # test control: seconds before "rendezvous" is answered
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def open_session(
        self,
        app: str,
        command: str,
        env: dict[str, str],
        folder: Path | None,
        on_exit: Callable[[int], None] | None = None,
        tty: bool = False,
    ) -> str:
        secret = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[secret] = Session(app, command, env, folder, on_exit, tty=tty)
        return f"rendezvous://127.0.0.1:{self.port}/{secret}"

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(10)
            conn = self.context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        with conn:
            try:
                line = _read_line(conn)
            except (OSError, ssl.SSLError):
                return
            with self.lock:
                session = self.sessions.get(line.decode(errors="replace"))
                fresh = session is not None and not session.used
                if session is not None:
                    session.used = True
            if session is None or not fresh:
                conn.sendall(b"rendezvous: no such session\r\n")
                return
            if self.greeting_delay:
                self._stop.wait(self.greeting_delay)
            conn.sendall(b"rendezvous\r\n")
            self._run(conn, session)

    def _run(self, conn: ssl.SSLSocket, session: Session) -> None:
        folder = session.folder or Path(tempfile.mkdtemp(prefix="standin-run-"))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder),
            "DYNO": "run.1",
            **session.env,
        }
        if session.tty:  # like a dyno's terminal: the pty echoes, translates Enter, ^D ends input
            import pty

            main, child = pty.openpty()
            process = subprocess.Popen(
                ["bash", "-c", session.command],
                cwd=folder,
                env={**env, "TERM": "xterm"},
                stdin=child,
                stdout=child,
                stderr=child,
                start_new_session=True,
            )
            os.close(child)
            stdin_w: Any = _PtyWriter(main)
            output_fd = main
        else:
            process = subprocess.Popen(
                ["bash", "-c", session.command],
                cwd=folder,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            assert process.stdin is not None and process.stdout is not None
            stdin_w, output_fd = process.stdin, process.stdout.fileno()
        conn.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(conn, selectors.EVENT_READ, "socket")
        selector.register(output_fd, selectors.EVENT_READ, "output")
        output_open, stdin_open = True, True
        try:
            while output_open:
                if conn.pending():
                    ready = {"socket"}
                else:
                    ready = {key.data for key, _ in selector.select(timeout=30)}
                if "socket" in ready:
                    try:
                        data: bytes | None = conn.recv(65536)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        data = None
                    except (OSError, ssl.SSLError):
                        data = b""
                    if data == b"":
                        selector.unregister(conn)
                        if stdin_open:
                            stdin_w.close()
                            stdin_open = False
                    elif data:
                        session.stdin_seen.extend(data)
                        if stdin_open:
                            try:
                                stdin_w.write(data)
                                stdin_w.flush()
                            except BrokenPipeError:
                                stdin_open = False
                if "output" in ready:
                    try:
                        chunk = os.read(output_fd, 65536)
                    except OSError:  # a pty whose process has exited
                        chunk = b""
                    if chunk:
                        _send_all(conn, chunk)
                    else:
                        output_open = False
        finally:
            selector.close()
            if stdin_open:
                stdin_w.close()
            session.exit_code = process.wait()
            if session.tty:
                os.close(output_fd)
            if session.on_exit is not None:
                session.on_exit(session.exit_code)
            if session.folder is None:
                shutil.rmtree(folder, ignore_errors=True)
            try:
                conn.setblocking(True)
                conn.settimeout(2)
                conn.unwrap()
            except (OSError, ssl.SSLError, ValueError):
                pass


class _PtyWriter:
    """stdin through a pseudo-terminal: closing it sends ^D, as a terminal's user would."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.fd, b"\x04")


def _read_line(conn: ssl.SSLSocket, limit: int = 1024) -> bytes:
    data = b""
    while not data.endswith(b"\r\n") and len(data) < limit:
        chunk = conn.recv(1)
        if not chunk:
            break
        data += chunk
    return data.rstrip(b"\r\n")


def _send_all(conn: ssl.SSLSocket, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            sent = conn.send(view)
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            time.sleep(0.005)
            continue
        view = view[sent:]
