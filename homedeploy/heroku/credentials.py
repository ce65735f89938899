"""Finding the user's Heroku API key the way the Heroku CLI does, without ever showing it.

Order (same as the Heroku CLI): the ``HEROKU_API_KEY`` environment variable, then the
``machine api.heroku.com`` entry of ``~/.netrc`` (where ``heroku login`` wrote it before CLI
11.8), then the OS keychain where newer CLIs keep it (``security`` on macOS, ``secret-tool`` on
Linux, only when that tool is installed). The key is wrapped in :class:`Credential`, whose repr
and str never contain it, so a stray log line or traceback cannot leak it.
"""

from __future__ import annotations

import json
import netrc
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy import settings
from homedeploy.errors import UsageError

API_HOST = "api.heroku.com"
KEYCHAIN_SERVICE = "heroku-cli"


class CredentialError(UsageError):
    """No usable Heroku API key, or a credentials file that cannot be read."""


@dataclass(frozen=True)
class Credential:
    """An API key and where it came from (for messages). ``key`` never appears in repr/str."""

    key: str = field(repr=False)
    source: str
    login: str | None = None

    def __post_init__(self) -> None:
        from homedeploy import redact

        redact.register(self.key)

    def __repr__(self) -> str:
        return f"Credential(source={self.source!r}, login={self.login!r}, key=<hidden>)"

    __str__ = __repr__


def netrc_path(env: Mapping[str, str]) -> Path:
    """The netrc file: ``$NETRC`` if set (curl and requests honour it), else ``~/.netrc``."""
    if env.get("NETRC"):
        return Path(env["NETRC"]).expanduser()
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".netrc"


def from_netrc(path: Path) -> Credential | None:
    """The ``machine api.heroku.com`` password in ``path``; None when the file or entry is absent.

    A file Python cannot parse raises :class:`CredentialError` with its file and line, because
    requests and git would otherwise fail on it later with far less helpful messages.
    """
    if not path.exists():
        return None
    from homedeploy.errors import ProjectError
    from homedeploy.fileio import read_bytes

    try:
        raw = read_bytes(path)
        raw.decode("utf-8")
    except ProjectError as error:
        raise CredentialError(error.message, path=path, fix=error.fix) from None
    except UnicodeDecodeError as error:
        raise CredentialError(
            f"the netrc file is not UTF-8 text (byte 0x{raw[error.start]:02x})",
            path=path,
            line=raw.count(b"\n", 0, error.start) + 1,
            fix="re-save it as UTF-8, or set HEROKU_API_KEY instead.",
        ) from None
    except IsADirectoryError:
        return None
    except OSError as error:
        raise CredentialError(
            f"cannot read the netrc file: {error.strerror}",
            path=path,
            fix=f"check its permissions (chmod 600 {path}), or set HEROKU_API_KEY instead.",
        ) from None
    try:
        parsed = netrc.netrc(str(path))
    except netrc.NetrcParseError as error:
        message = str(error.msg)
        if "too permissive" in message:
            raise CredentialError(
                f"{path} can be read by other users, so it is not used",
                path=path,
                fix=f"chmod 600 {path}",
            ) from None
        raise CredentialError(
            f"cannot parse the netrc file: {message}",
            path=error.filename or path,
            line=_error_line(path, message, error.lineno),
            fix="each entry must read 'machine api.heroku.com login <email> password <key>'; "
            "fix or remove that line, or set HEROKU_API_KEY instead.",
        ) from None
    except OSError as error:
        raise CredentialError(
            f"cannot read the netrc file: {error.strerror}",
            path=path,
            fix=f"check its permissions (chmod 600 {path}), or set HEROKU_API_KEY instead.",
        ) from None
    entry = parsed.authenticators(API_HOST)
    if entry is None or not entry[2]:
        return None
    return Credential(key=entry[2], source=f"{path} (machine {API_HOST})", login=entry[0] or None)


def _error_line(path: Path, message: str, reported: int | None) -> int | None:
    """The line holding the token Python's netrc complained about.

    Python counts the newline after a bad token, so it often reports the next line (even one
    past the end of the file); the token itself pins the real line.
    """
    from homedeploy.errors import ProjectError
    from homedeploy.fileio import read_text

    try:
        lines = read_text(path).splitlines()
    except (OSError, ProjectError):
        return reported
    if reported is None:
        return None
    token = re.search(r"'([^']+)'", message)
    if token:
        for number in range(min(reported, len(lines)), 0, -1):
            if token.group(1) in lines[number - 1].split():
                return number
    return min(reported, max(len(lines), 1))


def _heroku_cli_account(env: Mapping[str, str]) -> str | None:
    """The e-mail the Heroku CLI logged in with (its ``login.json``), used as keychain account."""
    home = Path(env.get("HOME") or str(Path.home()))
    if sys.platform == "darwin":
        data_dirs = [home / "Library" / "Application Support" / "heroku"]
    else:
        xdg = env.get("XDG_DATA_HOME")
        data_dirs = [Path(xdg) / "heroku"] if xdg else []
        data_dirs.append(home / ".local" / "share" / "heroku")
    for folder in data_dirs:
        try:
            account = json.loads((folder / "login.json").read_text(encoding="utf-8")).get("account")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(account, str) and account:
            return account
    return None


def from_keychain(env: Mapping[str, str]) -> Credential | None:
    """The token the Heroku CLI (>= 11.8) stored in the OS keychain, if a keychain tool exists.

    The token travels over the tool's stdout, never through argv.
    """
    if settings.keychain_disabled(env):
        return None
    account = _heroku_cli_account(env)
    if sys.platform == "darwin" and shutil.which("security"):
        command = ["security", "find-generic-password", "-s", KEYCHAIN_SERVICE, "-w"]
        if account:
            command[2:2] = ["-a", account]
    elif shutil.which("secret-tool"):
        command = ["secret-tool", "lookup", "service", KEYCHAIN_SERVICE]
        if account:
            command += ["account", account]
    else:
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        return None
    return Credential(key=token, source=f"OS keychain ({KEYCHAIN_SERVICE})", login=account)


def _checked(found: Credential) -> Credential:
    """``found`` if its key can travel in an HTTP header (printable ASCII), else an error.

    A pasted key with a curly quote or a non-breaking space would otherwise fail deep in
    http.client with ``UnicodeEncodeError``; the message never shows the key itself.
    """
    bad = next((c for c in found.key if not (" " < c <= "~")), None)
    if bad is None:
        return found
    raise CredentialError(
        f"the Heroku API key from {found.source} contains a character ({bad!a}) that no "
        "Heroku key has (keys are ASCII letters, digits and dashes)",
        fix="copy the key again from https://dashboard.heroku.com/account (API Key) without "
        "quotes or spaces.",
    )


def find_credential(env: Mapping[str, str] | None = None) -> Credential:
    """The first key found in the Heroku CLI's order; :class:`CredentialError` when none."""
    env = os.environ if env is None else env
    key = env.get("HEROKU_API_KEY", "").strip()
    if key:
        return _checked(Credential(key=key, source="the HEROKU_API_KEY environment variable"))
    path = netrc_path(env)
    found = from_netrc(path) or from_keychain(env)
    if found is not None:
        return _checked(found)
    hint = ""
    if env.get("HEROKU_API_TOKEN"):
        hint = " HEROKU_API_TOKEN is set, but the variable Heroku tools read is HEROKU_API_KEY."
    raise CredentialError(
        f"no Heroku API key found (looked in HEROKU_API_KEY, {path}, and the OS keychain).{hint}",
        fix="create a key on https://dashboard.heroku.com/account (API Key) and run "
        "`export HEROKU_API_KEY=<key>`, or run `HEROKU_NETRC_WRITE=true heroku login`.",
    )
