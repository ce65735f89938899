"""Run an app's web process the way a Heroku dyno does, and prove it answers.

A dyno runs the Procfile's ``web`` command with bash, with ``PORT`` set, and gives it 60 seconds to
bind (R10), 30 seconds per request (H12) and 30 seconds to exit after SIGTERM (R12). ``WebProcess``
reproduces that contract locally: it starts the command in its own process group, watches the port,
keeps the log, probes over HTTP, measures memory, and stops it the way Heroku does. ``serve``
and the rehearsal (``push --local``) are both built on it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from homedeploy.errors import CheckFailed, ProjectError

if TYPE_CHECKING:
    from homedeploy.jsonout import JsonKeys

BOOT_TIMEOUT = 60.0
"""Heroku's R10: a web process must bind $PORT within 60 seconds of launch."""
REQUEST_TIMEOUT = 30.0
"""Heroku's H12: the router gives up on a request after 30 seconds."""
STOP_TIMEOUT = 30.0
"""Heroku's R12: processes get 30 seconds after SIGTERM before SIGKILL."""

TROUBLE_MARKERS = (
    "WORKER TIMEOUT",
    "Worker failed to boot",
    "Traceback (most recent call last)",
    "Exception in worker process",
    "Failed to find attribute",
    "Failed to parse",
    "ModuleNotFoundError",
    "ImportError",
    "App failed to load",
    "Reason: App failed",
    "command not found",
)


@dataclass(frozen=True)
class ProbeResult:
    """One HTTP GET against the running app."""

    path: str
    status: int | None
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 500


@dataclass(frozen=True)
class StopResult:
    """How the process ended after SIGTERM."""

    seconds: float
    clean: bool  # exited within the time-out (no SIGKILL needed)
    returncode: int | None


@dataclass
class ServeReport:
    """The outcome of ``serve --check`` (and the boot half of a rehearsal)."""

    ok: bool
    port: int
    command: str
    environment: str
    boot_seconds: float | None = None
    probes: list[ProbeResult] = field(default_factory=list)
    stop: StopResult | None = None
    rss_bytes: int | None = None
    problems: list[str] = field(default_factory=list)
    log_tail: list[str] = field(default_factory=list)

    JSON_KEYS: ClassVar[JsonKeys] = (
        "ok",
        "boot_seconds",
        ("probes", "rounded_probes"),
        "log_tail",
        "port",
        "command",
        "environment",
        "stop_seconds",
        "problems",
    )
    """The documented ``serve --check --json`` shape (see :mod:`homedeploy.jsonout`)."""

    @property
    def rounded_probes(self) -> list[ProbeResult]:
        return [replace(probe, seconds=round(probe.seconds, 4)) for probe in self.probes]

    @property
    def stop_seconds(self) -> float | None:
        return self.stop.seconds if self.stop else None


def port_in_use(port: int) -> bool:
    """True when something already listens on ``port`` (where gunicorn would bind 0.0.0.0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # gunicorn sets SO_REUSEADDR too, so connections in TIME_WAIT do not count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError as error:
            return error.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def process_tree_rss(pid: int) -> int | None:
    """Resident memory of ``pid`` and its descendants in bytes (Linux /proc); None elsewhere."""
    if not Path("/proc").is_dir():
        return None
    total = 0
    pending = [pid]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
        pending.extend(_children(current))
    return total


def _wait_for_exit(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until ``process`` exits; False after ``timeout`` seconds.

    ``Popen.wait(timeout=...)`` polls in sleeps of up to 50 ms, time a user waits for nothing
    at every stop. A pidfd (Linux 5.3+) becomes readable the moment the process exits.
    """
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux, an old kernel, or already reaped
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
    if not ready:
        return False
    process.wait()
    return True


class WebProcess:
    """A web command running in its own process group, with its log kept in memory.

    ``echo`` receives every log line as it arrives (the foreground ``serve`` prints them);
    ``log_tail`` keeps the last lines for reports either way.
    """

    def __init__(
        self,
        command: str,
        *,
        cwd: Path,
        env: dict[str, str],
        echo: Callable[[str], None] | None = None,
        keep_lines: int = 400,
    ) -> None:
        self.command = command
        self.cwd = cwd
        self.env = env
        self.echo = echo
        self._lines: deque[str] = deque(maxlen=keep_lines)
        self._all_trouble: list[str] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Launch ``bash -c COMMAND`` as a dyno would, in a new session so signals reach all."""
        self.started_at = time.monotonic()
        try:
            self._process = subprocess.Popen(
                ["bash", "-c", self.command],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            raise ProjectError(
                f"cannot start the web process: {error.strerror}",
                fix="check that bash is installed and the project folder is readable.",
            ) from error
        self._reader = threading.Thread(target=self._read_log, name="web-log", daemon=True)
        self._reader.start()

    def _read_log(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for raw in iter(self._process.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            self._lines.append(line)
            if any(marker in line for marker in TROUBLE_MARKERS):
                self._all_trouble.append(line)
            if self.echo is not None:
                self.echo(line)

    def returncode(self) -> int | None:
        return self._process.poll() if self._process else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait_until_bound(self, port: int, timeout: float = BOOT_TIMEOUT) -> float:
        """Seconds until ``port`` accepts connections; raises CheckFailed on crash or R10."""
        deadline = self.started_at + timeout
        while True:
            if _accepts(port):
                return time.monotonic() - self.started_at
            code = self.returncode()
            if code is not None:
                self._drain()
                raise CheckFailed(
                    f"the web process exited with code {code} before binding port {port} "
                    "(on Heroku: H10 App crashed).",
                    fix="read the log lines above; the first Traceback names the cause.",
                )
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"the web process did not bind port {port} within {timeout:g} s "
                    "(on Heroku: R10 Boot timeout).",
                    fix="bind to $PORT (gunicorn does by itself) and keep import-time work short.",
                )
            time.sleep(0.01)

    def probe(
        self, port: int, paths: list[str], timeout: float = REQUEST_TIMEOUT
    ) -> list[ProbeResult]:
        """GET each path once on 127.0.0.1:port and time it."""
        import http.client

        results = []
        for path in paths:
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            try:
                connection.request("GET", path, headers={"User-Agent": "homedeploy-serve-check"})
                response = connection.getresponse()
                response.read()
                results.append(ProbeResult(path, response.status, time.perf_counter() - started))
            except (OSError, http.client.HTTPException) as error:
                message = str(error) or type(error).__name__
                if isinstance(error, TimeoutError | socket.timeout):
                    message = f"no answer within {timeout:g} s (on Heroku: H12 Request timeout)"
                results.append(ProbeResult(path, None, time.perf_counter() - started, message))
            finally:
                connection.close()
        return results

    def rss_bytes(self) -> int | None:
        return process_tree_rss(self._process.pid) if self.alive and self._process else None

    def stop(self, timeout: float = STOP_TIMEOUT) -> StopResult:
        """SIGTERM the whole process group; SIGKILL what is left after ``timeout`` (R12)."""
        if self._process is None:
            return StopResult(0.0, True, None)
        started = time.monotonic()
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGTERM)
        clean = _wait_for_exit(self._process, timeout)
        if not clean:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._drain()
        return StopResult(time.monotonic() - started, clean, self._process.returncode)

    def wait(self) -> int:
        """Block until the process exits on its own; returns its exit code."""
        assert self._process is not None
        code = self._process.wait()
        self._drain()
        return code

    def _drain(self) -> None:
        if self._reader is not None:
            self._reader.join(timeout=2)

    def log_tail(self, count: int = 30) -> list[str]:
        return list(self._lines)[-count:]

    def trouble(self) -> list[str]:
        """Log lines that signal a crash or a timeout (WORKER TIMEOUT, Tracebacks, ...)."""
        return list(self._all_trouble)


def check_web_process(
    process: WebProcess,
    *,
    port: int,
    paths: list[str],
    environment: str,
    boot_timeout: float = BOOT_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
    measure_memory: bool = False,
    stop: bool = True,
    while_booting: Callable[[], None] | None = None,
) -> ServeReport:
    """Start ``process``, wait for the port, probe ``paths``, stop it; a report either way.

    ``while_booting`` runs right after the launch, while the app imports on another core: the
    caller's own slow imports (HTTP client, console rendering) then cost no wall time.
    """
    report = ServeReport(ok=False, port=port, command=process.command, environment=environment)
    process.start()
    import http.client  # noqa: F401  (warm: probe() needs it, and the app is booting anyway)

    if while_booting is not None:
        while_booting()
    try:
        report.boot_seconds = round(process.wait_until_bound(port, boot_timeout), 4)
        report.probes = process.probe(port, paths)
        if measure_memory:
            report.rss_bytes = process.rss_bytes()
    except CheckFailed as error:
        report.problems.append(error.message)
    finally:
        if stop or report.problems:
            report.stop = process.stop(stop_timeout)
    for probe in report.probes:
        if not probe.ok:
            detail = f"HTTP {probe.status}" if probe.status is not None else probe.error
            report.problems.append(f"GET {probe.path} failed: {detail}")
    trouble = process.trouble()
    if any("WORKER TIMEOUT" in line for line in trouble):
        report.problems.append("gunicorn reported a WORKER TIMEOUT (on Heroku: H12/H13).")
    if report.boot_seconds is not None and any("Traceback" in line for line in trouble):
        report.problems.append("the log shows a Python traceback.")
    if report.stop is not None and not report.stop.clean:
        report.problems.append(
            f"the process did not exit within {stop_timeout:g} s of SIGTERM (on Heroku: R12)."
        )
    report.ok = not report.problems
    report.log_tail = process.log_tail(40 if report.problems else 15)
    return report
