"""A real git smart-HTTP server: ``git http-backend`` run as CGI behind HTTP Basic auth.

Like git.heroku.com it accepts any user name and only the API key as password (anything else
gets 401, so git asks its credential helper). Requests are recorded (path, whether auth was
sent, whether it was right) so tests can check the key never travels in a URL.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .state import RequestRecord, State


class GitHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GitServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _plain(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        state = self.server.state
        body = self._read_body()
        parts = urlsplit(self.path)
        auth = self.headers.get("Authorization", "")
        password = None
        if auth.startswith("Basic "):
            try:
                decoded = base64.b64decode(auth[6:]).decode()
                password = decoded.partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                password = None
        record = RequestRecord(
            method,
            self.path,
            {k: v for k, v in self.headers.items() if k.lower() != "authorization"},
            None,
            auth_scheme=auth.split(" ", 1)[0] if auth else None,
            auth_ok=password == state.key,
        )
        with state.lock:
            state.git_requests.append(record)
        if not record.auth_ok:
            record.status = 401
            self._plain(
                401, "Invalid credentials provided.\n", {"WWW-Authenticate": 'Basic realm="Heroku"'}
            )
            return
        path_info = unquote(parts.path)
        repo_name = path_info.lstrip("/").split("/", 1)[0]
        if not (self.server.root / repo_name).is_dir():
            record.status = 404
            self._plain(404, "Repository not found.\n")
            return
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.server.root),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "heroku",
            "REMOTE_ADDR": self.client_address[0],
            "REQUEST_METHOD": method,
            "PATH_INFO": path_info,
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        process = subprocess.Popen(
            [shutil.which("git") or "git", "http-backend"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert process.stdin is not None and process.stdout is not None

        def feed() -> None:
            assert process.stdin is not None
            try:
                process.stdin.write(body)
            except BrokenPipeError:
                pass
            finally:
                process.stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        status = 200
        headers: list[tuple[str, str]] = []
        while True:
            line = process.stdout.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                break
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((key, value.strip()))
        record.status = status
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        # Stream the body as it comes (the build output arrives while the hook runs).
        self.send_header("Connection", "close")
        self.end_headers()
        while True:
            chunk = process.stdout.read1(65536)  # type: ignore[attr-defined]
            if not chunk:
                break
            self.wfile.write(chunk)
            self.wfile.flush()
        process.wait()
        feeder.join()
        self.close_connection = True


class GitServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: State, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), GitHandler)
        self.state = state
        self.root = root
