"""A fault-injecting HTTP server on loopback: wrong shapes, drip-feeds, stalls, redirects.

``FaultServer`` answers every request by the first rule whose method and path regex match;
a rule's ``kind`` says how it misbehaves. ``second`` is a plain recorder on 127.0.0.2 (another
loopback address, so "another host" to a client) used as a redirect target: the tests assert
nothing — no body, no Authorization — ever reaches it.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Rule:
    method: str
    path: str
    kind: str  # json, raw, drip, drip_close, drip_headers, stall, redirect, huge
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    location: str = ""
    interval: float = 0.5


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _State:
    rules: list[Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            rule = next(
                (
                    r
                    for r in state.rules
                    if r.method in (self.command, "*") and re.search(r.path, self.path)
                ),
                None,
            )
            if rule is None:
                self._send(404, b'{"id": "not_found", "message": "no rule"}')
                return
            with contextlib.suppress(OSError):  # the client hung up: that is the point
                getattr(self, f"_{rule.kind}")(rule)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, rule: Rule) -> None:
            self._send(rule.status, rule.body, rule.content_type)

        _raw = _json

        def _redirect(self, rule: Rule) -> None:
            self.send_response(rule.status)
            self.send_header("Location", rule.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _drip(self, rule: Rule, close: bool = False) -> None:
            """Headers at once, then the body one byte per interval, for ever."""
            self.send_response(rule.status)
            self.send_header("Content-Type", rule.content_type)
            self.send_header("Content-Length", str(10**6))
            if close:  # the response owns the socket (http.client drops connection.sock)
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            while not state.stop.is_set():
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(rule.interval)

        def _drip_close(self, rule: Rule) -> None:
            self._drip(rule, close=True)

        def _drip_headers(self, rule: Rule) -> None:
            """The status line and headers one byte per interval, never finishing."""
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10**5:
                if state.stop.is_set():
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(rule.interval)

        def _stall(self, rule: Rule) -> None:
            """Read the request, then say nothing at all."""
            state.stop.wait(120)

        def _huge(self, rule: Rule) -> None:
            """A JSON array of a declared 300 MB, sent as fast as the client reads."""
            size = 300 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"[" + b"0," * (512 * 1024)
            sent = 0
            while sent < size and not state.stop.is_set():
                self.wfile.write(chunk)
                sent += len(chunk)
                chunk = b"0," * (512 * 1024)

    return Handler


class FaultServer:
    """Start with ``with FaultServer() as server:``; ``server.url`` is its base URL."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.state = _State()
        self.httpd = ThreadingHTTPServer((host, 0), _handler(self.state))
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def rule(self, method: str, path: str, kind: str = "json", **kw: Any) -> None:
        self.state.rules.insert(0, Rule(method, path, kind, **kw))

    @property
    def seen(self) -> list[Seen]:
        return self.state.seen


def second_loopback_available() -> bool:
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False
