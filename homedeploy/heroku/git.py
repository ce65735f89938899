"""The ``heroku`` git remote and pushing to it without the key touching disk or argv.

git asks a credential helper for the password of ``https://git.heroku.com``. We hand git a helper
through the environment only (``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``,
git >= 2.31): the first entry (empty) resets any configured helpers, such as a stale global
``!heroku git:credentials`` that breaks when the Heroku CLI is not installed; the second is a
shell function that prints the key from an environment variable of the git child. The remote
URL therefore never holds the key, ``.git/config`` is never written with it, and the key is not
in any process's arguments.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from homedeploy import settings
from homedeploy.errors import ProjectError, UsageError

if TYPE_CHECKING:
    from git import Repo

DEFAULT_GIT_URL = "https://git.heroku.com"
REMOTE_NAME = "heroku"
TARGET_REF = "refs/heads/main"
KEY_ENV = settings.GIT_KEY
MIN_GIT = (2, 31)  # first git with GIT_CONFIG_COUNT
# Printed by the helper on `get`; `store`/`erase` do nothing. The \n are for printf.
_HELPER = (
    r'!f() { if [ "$1" = get ]; then printf "username=heroku\npassword=%s\n" "$'
    + KEY_ENV
    + r'"; fi; }; f'
)


def git_base(env: Mapping[str, str] | None = None) -> str:
    """The one git host the key may be sent to: the override, else ``https://git.heroku.com``."""
    return settings.git_base_url(env) or DEFAULT_GIT_URL


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


def remote_url_for(app_name: str, api_git_url: str, env: Mapping[str, str] | None = None) -> str:
    """The URL for the remote: always on the configured git host.

    The API's ``git_url`` is used only when it is on that host; any other host (a proxy, a
    tampered answer) is ignored, since git would send the key to it.
    """
    base = git_base(env)
    parts = urlsplit(api_git_url)
    if parts.username or parts.password:
        raise UsageError(
            "the Heroku git URL contains a user name or password",
            fix="set HOMEDEPLOY_HEROKU_GIT_URL to a URL without credentials.",
        )
    if settings.git_base_url(env) is None and _origin(api_git_url) == _origin(base):
        return api_git_url
    return f"{base}/{app_name}.git"


def check_push_target(url: str, env: Mapping[str, str] | None = None) -> None:
    """Refuse to push with the key to anything but the configured git host."""
    if _origin(url) != _origin(git_base(env)):
        raise ProjectError(
            f"the heroku remote points at {_origin(url)}, not {_origin(git_base(env))}; "
            "homedeploy sends the API key only to the configured git host",
            fix=f"git remote set-url heroku {git_base(env)}/<app>.git (homedeploy push does it "
            "when it knows the app), or set HOMEDEPLOY_HEROKU_GIT_URL.",
        )


def app_from_remote_url(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """The app name in a Heroku remote URL (https, ssh, or the overridden base), else None."""
    bases = [DEFAULT_GIT_URL]
    override = settings.git_base_url(env)
    if override:
        bases.append(override)
    for base in bases:
        if url.startswith(base + "/") and url.endswith(".git"):
            name = url[len(base) + 1 : -4]
            if "/" not in name:
                return name
    match = re.match(r"^(?:git@heroku\.com:|ssh://git@heroku\.com/)([a-z][a-z0-9-]*)\.git$", url)
    return match.group(1) if match else None


def open_repo(path: Path) -> Repo:
    """The git repository at ``path`` (the project root), with a commit to deploy."""
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    try:
        repo = Repo(path, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise ProjectError(
            f"{path} is not a git repository; Heroku deploys what is committed in git",
            path=path,
            fix=f"cd {path} && git init && git add -A && git commit -m 'first deploy'",
        ) from None
    try:
        repo.head.commit  # noqa: B018 - raises ValueError when there is no commit yet
    except ValueError:
        raise ProjectError(
            "the repository has no commit yet, so there is nothing to deploy",
            path=path,
            fix="git add -A && git commit -m 'first deploy'",
        ) from None
    return repo


def heroku_remote_app(path: Path, env: Mapping[str, str] | None = None) -> str | None:
    """The app named by an existing ``heroku`` remote of the repository at ``path``."""
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    try:
        repo = Repo(path)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None
    names = [r.name for r in repo.remotes]
    if REMOTE_NAME not in names:
        return None
    return app_from_remote_url(repo.remote(REMOTE_NAME).url, env)


def ensure_remote(repo: Repo, url: str) -> str:
    """Add the ``heroku`` remote, or point it at ``url``; returns "added", "updated" or "kept"."""
    if REMOTE_NAME in [r.name for r in repo.remotes]:
        remote = repo.remote(REMOTE_NAME)
        if remote.url == url:
            return "kept"
        remote.set_url(url)
        return "updated"
    repo.create_remote(REMOTE_NAME, url)
    return "added"


def credential_env(key: str, url: str, base_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a git child so it authenticates to ``url``'s host with ``key``.

    Appends to any ``GIT_CONFIG_COUNT`` entries the user already has.
    """
    base_env = os.environ if base_env is None else base_env
    parts = urlsplit(url)
    prefix = f"{parts.scheme}://{parts.netloc}"
    try:
        start = int(base_env.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        start = 0
    return {
        KEY_ENV: key,
        "GIT_TERMINAL_PROMPT": "0",
        "GCM_INTERACTIVE": "never",
        "GIT_CONFIG_COUNT": str(start + 3),
        f"GIT_CONFIG_KEY_{start}": f"credential.{prefix}.helper",
        f"GIT_CONFIG_VALUE_{start}": "",
        f"GIT_CONFIG_KEY_{start + 1}": f"credential.{prefix}.helper",
        f"GIT_CONFIG_VALUE_{start + 1}": _HELPER,
        # A redirect would take the request (and git's credential) to another host.
        f"GIT_CONFIG_KEY_{start + 2}": "http.followRedirects",
        f"GIT_CONFIG_VALUE_{start + 2}": "false",
    }


@dataclass
class PushOutcome:
    """What git reported: every output line, the per-ref result and git's own error."""

    lines: list[str] = field(default_factory=list)
    ref_flags: list[str] = field(default_factory=list)
    ref_summary: str = ""
    error: str | None = None

    @property
    def up_to_date(self) -> bool:
        return self.ref_flags == ["up_to_date"]


_FLAG_NAMES = (
    "NEW_TAG",
    "NEW_HEAD",
    "NO_MATCH",
    "REJECTED",
    "REMOTE_REJECTED",
    "REMOTE_FAILURE",
    "DELETED",
    "FORCED_UPDATE",
    "FAST_FORWARD",
    "UP_TO_DATE",
    "ERROR",
)


def _flag_names(flags: int) -> list[str]:
    """GitPython's PushInfo bit flags as lower-case names (``remote_rejected``, ...)."""
    from git.remote import PushInfo

    return [name.lower() for name in _FLAG_NAMES if flags & int(getattr(PushInfo, name))]


def push_head(
    repo: Repo,
    key: str,
    *,
    force: bool = False,
    on_line: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> PushOutcome:
    """``git push heroku HEAD:refs/heads/main``, streaming each output line to ``on_line``.

    Any local branch (or a detached HEAD) deploys, always to ``main`` on Heroku: pushing to any
    other branch "succeeds" there but builds nothing. Never forced unless ``force``.
    """
    from git import GitCommandError
    from git.util import RemoteProgress

    from homedeploy import redact

    outcome = PushOutcome()

    class _Progress(RemoteProgress):
        def new_message_handler(self) -> Callable[[Any], None]:
            parse = super().new_message_handler()

            def handle(line: Any) -> None:
                text = line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line)
                for piece in re.split(r"[\r\n]+", text):
                    piece = redact.scrub(piece.rstrip())
                    if not piece or _PROGRESS_RE.match(piece):
                        continue
                    outcome.lines.append(piece)
                    if on_line is not None:
                        on_line(piece)
                parse(line)

            return handle

    import logging

    # GitPython logs git's "error:" lines as warnings; they are in the outcome already.
    logging.getLogger("git.remote").setLevel(logging.ERROR)
    if tuple(repo.git.version_info[:2]) < MIN_GIT:
        raise ProjectError(
            f"git {'.'.join(map(str, repo.git.version_info))} is too old to push without writing "
            "the key to disk (homedeploy passes it through GIT_CONFIG_COUNT, git >= 2.31)",
            fix="install a newer git (https://git-scm.com/downloads).",
        )
    remote = repo.remote(REMOTE_NAME)
    check_push_target(remote.url)
    env = credential_env(key, remote.url)
    deadline = settings.git_push_deadline() if timeout is None else timeout
    started = time.monotonic()
    refspec = f"{'+' if force else ''}HEAD:{TARGET_REF}"
    try:
        with repo.git.custom_environment(**env):
            infos = remote.push(refspec, progress=_Progress(), kill_after_timeout=deadline)
    except GitCommandError as error:
        outcome.error = _clean(str(error.stderr or error), key)
        if time.monotonic() - started >= deadline:
            outcome.error = (
                f"git push did not finish within {deadline:g} s and was stopped "
                f"({settings.GIT_PUSH_DEADLINE} sets the time allowed)"
            )
        return outcome
    for info in infos:
        outcome.ref_flags = _flag_names(info.flags)
        outcome.ref_summary = (info.summary or "").strip()
    if getattr(infos, "error", None) is not None:
        outcome.error = _clean(str(infos.error), key)
    return outcome


_PROGRESS_RE = re.compile(
    r"^(?:remote: )?(?:(?:Counting|Compressing|Writing|Enumerating|Receiving|Resolving|Finding) "
    r"(?:objects|deltas|sources)\b|Total \d+ \(delta|Delta compression using up to \d+ threads)"
)


def _clean(text: str, key: str) -> str:
    """Defensive: git error text with the key removed, should anything ever echo it."""
    from homedeploy import redact

    return redact.scrub(text.replace(key, "<hidden>") if key else text)
