"""Every ``HOMEDEPLOY_*`` environment variable and ``[tool.homedeploy]`` key, read in one place.

Each reader takes the environment as a mapping (``os.environ`` by default) so tests and callers
can pass their own; bad values never crash a command: a number that does not parse, or is not a
finite non-negative number, falls back to the documented default.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homedeploy.errors import ProjectError

HEROKU_API_URL = "HOMEDEPLOY_HEROKU_API_URL"
HEROKU_GIT_URL = "HOMEDEPLOY_HEROKU_GIT_URL"
HEROKU_BACKOFF = "HOMEDEPLOY_HEROKU_BACKOFF"
HEROKU_DEADLINE = "HOMEDEPLOY_HEROKU_DEADLINE"
INDEX_DEADLINE = "HOMEDEPLOY_INDEX_DEADLINE"
GIT_PUSH_DEADLINE = "HOMEDEPLOY_GIT_PUSH_DEADLINE"
VERIFY_TIMEOUT = "HOMEDEPLOY_VERIFY_TIMEOUT"
LOGS_READ_TIMEOUT = "HOMEDEPLOY_LOGS_READ_TIMEOUT"
NO_KEYCHAIN = "HOMEDEPLOY_NO_KEYCHAIN"
CACHE_DIR = "HOMEDEPLOY_CACHE_DIR"
TOOLS_DIR = "HOMEDEPLOY_TOOLS_DIR"
RENDEZVOUS_CA = "HOMEDEPLOY_RENDEZVOUS_CA"
COMPLETION_TTL = "HOMEDEPLOY_COMPLETION_TTL"
NO_SYNC = "HOMEDEPLOY_NO_SYNC"
GIT_KEY = "HOMEDEPLOY_GIT_KEY"
"""Not a user setting: the variable the git credential helper reads the key from (child only)."""

DEFAULT_API_URL = "https://api.heroku.com"
DEFAULT_VERIFY_TIMEOUT = 120.0
DEFAULT_LOGS_READ_TIMEOUT = 600.0
DEFAULT_BACKOFF = 1.0
DEFAULT_HEROKU_DEADLINE = 60.0
DEFAULT_INDEX_DEADLINE = 30.0
DEFAULT_GIT_PUSH_DEADLINE = 1800.0


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _seconds(env: Mapping[str, str] | None, name: str, default: float) -> float:
    try:
        value = float(_env(env).get(name, default))
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= 0 else default


def api_base_url(env: Mapping[str, str] | None = None) -> str:
    """The Platform API root: ``HOMEDEPLOY_HEROKU_API_URL`` (tests, proxies) or Heroku's."""
    return (_env(env).get(HEROKU_API_URL) or DEFAULT_API_URL).rstrip("/")


def git_base_url(env: Mapping[str, str] | None = None) -> str | None:
    """The ``HOMEDEPLOY_HEROKU_GIT_URL`` override (tests, proxies), or None for Heroku's own."""
    return _env(env).get(HEROKU_GIT_URL, "").strip().rstrip("/") or None


def api_backoff(env: Mapping[str, str] | None = None) -> float:
    """Base seconds between Platform API retries (``HOMEDEPLOY_HEROKU_BACKOFF``, default 1)."""
    return _seconds(env, HEROKU_BACKOFF, DEFAULT_BACKOFF)


def _deadline(env: Mapping[str, str] | None, name: str, default: float) -> float:
    value = _seconds(env, name, default)
    return value if value > 0 else default


def api_deadline(env: Mapping[str, str] | None = None) -> float:
    """Total seconds one Platform API call may take, retries and their waits included
    (``HOMEDEPLOY_HEROKU_DEADLINE``, default 60); a log stream's headers get as long."""
    return _deadline(env, HEROKU_DEADLINE, DEFAULT_HEROKU_DEADLINE)


def index_deadline(env: Mapping[str, str] | None = None) -> float:
    """Total seconds one package-index page may take, body included (``HOMEDEPLOY_INDEX_DEADLINE``,
    default 30): a server dripping bytes cannot hold check-reqs or doctor longer."""
    return _deadline(env, INDEX_DEADLINE, DEFAULT_INDEX_DEADLINE)


def git_push_deadline(env: Mapping[str, str] | None = None) -> float:
    """Total seconds ``git push`` to Heroku may take, build included
    (``HOMEDEPLOY_GIT_PUSH_DEADLINE``, default 1800); git is stopped after that."""
    return _deadline(env, GIT_PUSH_DEADLINE, DEFAULT_GIT_PUSH_DEADLINE)


def verify_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds push waits for a new release to answer (``HOMEDEPLOY_VERIFY_TIMEOUT``)."""
    return _seconds(env, VERIFY_TIMEOUT, DEFAULT_VERIFY_TIMEOUT)


def logs_read_timeout(env: Mapping[str, str] | None = None) -> float:
    """Seconds of silence before ``logs --tail`` opens a fresh session."""
    return _seconds(env, LOGS_READ_TIMEOUT, DEFAULT_LOGS_READ_TIMEOUT)


def keychain_disabled(env: Mapping[str, str] | None = None) -> bool:
    """``HOMEDEPLOY_NO_KEYCHAIN`` set: never ask the OS keychain for the API key."""
    return bool(_env(env).get(NO_KEYCHAIN))


def cache_dir_override(env: Mapping[str, str] | None = None) -> Path | None:
    """``HOMEDEPLOY_CACHE_DIR``: where check-reqs caches index pages instead of the user cache."""
    value = _env(env).get(CACHE_DIR)
    return Path(value) if value else None


def tools_dir_override(env: Mapping[str, str] | None = None) -> Path | None:
    """``HOMEDEPLOY_TOOLS_DIR``: where the buildpack's uv, Poetry and Pipenv are installed
    (default: ``tools/`` in the cache folder)."""
    value = _env(env).get(TOOLS_DIR)
    return Path(value) if value else None


def rendezvous_ca_file(env: Mapping[str, str] | None = None) -> Path | None:
    """``HOMEDEPLOY_RENDEZVOUS_CA``: a PEM file of CA certificates that ``run`` trusts for the
    rendezvous host instead of the system store (tests point it at the stand-in's own CA)."""
    value = _env(env).get(RENDEZVOUS_CA, "").strip()
    return Path(value) if value else None


def no_sync(env: Mapping[str, str] | None = None) -> bool:
    """``HOMEDEPLOY_NO_SYNC`` set (like uv's ``UV_NO_SYNC``): serve uses ``.venv`` as it is,
    never creating or syncing it (the same as ``serve --no-sync``)."""
    return bool(_env(env).get(NO_SYNC))


def completion_ttl(env: Mapping[str, str] | None = None) -> float:
    """Seconds the shell completion's cached list of app names stays fresh (default 300)."""
    return _seconds(env, COMPLETION_TTL, 300.0)


def load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes a :class:`ProjectError` at its line."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    from homedeploy.fileio import read_bytes

    try:
        raw = read_bytes(path)
    except OSError as error:
        raise ProjectError(
            f"cannot read {path.name}: {error.strerror}", path=path, fix="check its permissions."
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProjectError(
            f"{path.name} is not UTF-8 (byte 0x{raw[error.start]:02x}); TOML files must be UTF-8",
            path=path,
            line=raw.count(b"\n", 0, error.start) + 1,
            fix="re-save the file as UTF-8.",
        ) from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except RecursionError:
        raise ProjectError(
            f"{path.name} nests arrays or tables too deeply to be read",
            path=path,
            fix="flatten the nesting; no pyproject.toml setting needs more than a few levels.",
        ) from None
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        raise ProjectError(
            f"{path.name} is not valid TOML: {error}",
            path=path,
            line=int(match.group(1)) if match else None,
            fix="fix the TOML syntax at that line.",
        ) from None


def tool_table(project: Path) -> dict[str, Any]:
    """``[tool.homedeploy]`` of the project's pyproject.toml ({} when absent)."""
    path = project / "pyproject.toml"
    if not path.is_file():
        return {}
    tool = load_toml(path).get("tool", {})
    table = tool.get("homedeploy", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ProjectError(
            "[tool.homedeploy] in pyproject.toml is not a table",
            path=path,
            fix='write it as a table: [tool.homedeploy] then app = "my-app-name".',
        )
    return table


def pyproject_app(project: Path) -> str | None:
    """``[tool.homedeploy] app`` from the project's pyproject.toml, if set."""
    value = tool_table(project).get("app")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProjectError(
            "[tool.homedeploy] app must be a string",
            path=project / "pyproject.toml",
            fix='write it as app = "my-app-name".',
        )
    return value
