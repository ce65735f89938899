"""Which Heroku account and which app a command acts on.

The app comes from, in order: ``--app``, ``HEROKU_APP``, ``[tool.homedeploy] app`` in the
project's pyproject.toml, or the project's existing ``heroku`` git remote (the same places the
Heroku CLI looks, plus pyproject). The account is the first key :mod:`homedeploy.heroku.credentials`
finds, checked once with ``GET /account`` so a bad key fails early with a fix naming where the
key came from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from homedeploy import settings
from homedeploy.errors import UsageError
from homedeploy.heroku.api import Account, App, HerokuClient, Unauthorized
from homedeploy.heroku.credentials import Credential, find_credential

APP_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class AppChoice:
    """An app name and where it came from (shown so the user knows which app is touched)."""

    name: str
    source: str


def validate_app_name(name: str, source: str = "--app") -> str:
    """``name`` if Heroku would accept it, else a :class:`UsageError` saying why."""
    if APP_NAME_RE.match(name) or UUID_RE.match(name):
        return name
    problems = []
    if not 3 <= len(name) <= 30:
        problems.append(f"it has {len(name)} characters (3 to 30 allowed)")
    if re.search(r"[^a-z0-9-]", name):
        problems.append("only lowercase letters, digits and dashes are allowed")
    if name[:1] and not name[:1].isalpha():
        problems.append("it must start with a letter")
    if name.endswith("-"):
        problems.append("it must not end with a dash")
    suggestion = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:30] or "my-flask-app"
    if not suggestion[0].isalpha():
        suggestion = ("app-" + suggestion)[:30]
    raise UsageError(
        f"{name!r} ({source}) is not a valid Heroku app name: {'; '.join(problems) or 'bad form'}",
        fix=f"use a name like {suggestion!r} (pattern ^[a-z][a-z0-9-]{{1,28}}[a-z0-9]$).",
    )


def resolve_app(
    project: Path, app_option: str | None, env: Mapping[str, str] | None = None
) -> AppChoice | None:
    """The app a command should use, or None when nothing names one."""
    from homedeploy.heroku.git import heroku_remote_app

    env = os.environ if env is None else env
    if app_option:
        return AppChoice(validate_app_name(app_option, "--app"), "--app")
    if env.get("HEROKU_APP"):
        return AppChoice(validate_app_name(env["HEROKU_APP"], "HEROKU_APP"), "HEROKU_APP")
    from_pyproject = settings.pyproject_app(project)
    if from_pyproject:
        source = "[tool.homedeploy] app in pyproject.toml"
        return AppChoice(validate_app_name(from_pyproject, source), source)
    from_remote = heroku_remote_app(project, env)
    if from_remote:
        return AppChoice(from_remote, "the heroku git remote")
    return None


def app_from_remote(project: Path, remote: str, env: Mapping[str, str] | None = None) -> str:
    """The app a git remote points at (``-r staging``, as the Heroku CLI reads it)."""
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    from homedeploy.heroku.git import app_from_remote_url

    try:
        repo = Repo(project, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise UsageError(
            f"--remote {remote}: {project} is not a git repository",
            fix="run it inside the project, or name the app with --app NAME.",
        ) from None
    remotes = {r.name: r for r in repo.remotes}
    if remote not in remotes:
        known = ", ".join(sorted(remotes)) or "none"
        raise UsageError(
            f"--remote {remote}: this repository has no such git remote (remotes: {known})",
            fix="`git remote -v` lists them; or name the app with --app NAME.",
        )
    url = remotes[remote].url
    name = app_from_remote_url(url, env)
    if name is None:
        shown = re.sub(r"//[^/@]*@", "//", url)  # never show credentials in a URL
        raise UsageError(
            f"--remote {remote} points at {shown}, which is not a Heroku app's git URL",
            fix="pick the remote of a Heroku app, or name the app with --app NAME.",
        )
    return name


def require_app(project: Path, app_option: str | None) -> AppChoice:
    """Like :func:`resolve_app`, but a clear error when no app is named anywhere."""
    choice = resolve_app(project, app_option)
    if choice is None:
        raise UsageError(
            "no Heroku app given",
            fix='pass --app NAME, set HEROKU_APP, add `app = "NAME"` under [tool.homedeploy] '
            "in pyproject.toml, or run in a project whose git remote `heroku` exists.",
        )
    return choice


def connect(
    credential: Credential | None = None, on_retry: Callable[[str], None] | None = None
) -> tuple[HerokuClient, Account]:
    """A client with the user's key, checked with ``GET /account``."""
    credential = credential or find_credential()
    client = HerokuClient(credential, on_retry=on_retry)
    try:
        account = client.account()
    except Unauthorized as error:
        error.message = f"Heroku refused the API key from {credential.source} ({error.status})"
        if credential.source.startswith("the HEROKU_API_KEY"):
            error.fix = (
                "the key in HEROKU_API_KEY is invalid or expired: create a new one on "
                "https://dashboard.heroku.com/account and export it, or unset HEROKU_API_KEY to "
                "use ~/.netrc."
            )
        else:
            error.fix = (
                f"the key in {credential.source} is invalid or expired: run "
                "`HEROKU_NETRC_WRITE=true heroku login`, or export HEROKU_API_KEY=<key>."
            )
        raise
    return client, account


@dataclass
class AppTarget:
    """A checked client plus the app it acts on (looked up, so a wrong name fails early)."""

    client: HerokuClient
    account: Account
    app: App
    source: str


def connect_app(project: Path, app_option: str | None) -> AppTarget:
    """Resolve the app, connect with the user's key and look the app up."""
    from homedeploy.heroku.api import NotFound

    choice = require_app(project, app_option)
    client, account = connect()
    try:
        app = client.app(choice.name)
    except NotFound:
        raise UsageError(
            f"Heroku has no app named {choice.name!r} that this account can use "
            f"(from {choice.source})",
            fix="check the name with `homedeploy apps`, or create it with "
            f"`homedeploy push --create --app {choice.name}`.",
        ) from None
    return AppTarget(client, account, app, choice.source)
