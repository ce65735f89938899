"""App names for shell completion (``homedeploy logs -a <TAB>``), cached on disk.

Completion runs on every TAB, so the list of apps (``GET /users/~/apps``, all pages) is kept
in the user cache folder for ``HOMEDEPLOY_COMPLETION_TTL`` seconds (default 300). The file is
named by a hash of the API URL and the key, so two accounts never see each other's apps; the
key itself is never written. Any failure (no key, no network) completes nothing rather than
printing an error into the user's prompt.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from homedeploy import settings


def _cache_file(key: str) -> Path:
    override = settings.cache_dir_override()
    if override is not None:
        root = override
    else:
        from platformdirs import user_cache_dir

        root = Path(user_cache_dir("homedeploy", appauthor=False))
    digest = hashlib.sha256(f"{settings.api_base_url()}\0{key}".encode()).hexdigest()[:24]
    return root / "completion" / f"apps-{digest}.json"


def app_names(prefix: str = "") -> list[str]:
    """Names of the account's apps starting with ``prefix`` (cached), or [] on any problem."""
    from homedeploy.errors import HomedeployError
    from homedeploy.heroku.api import HerokuClient, RetryPolicy
    from homedeploy.heroku.credentials import find_credential

    try:
        credential = find_credential()
    except HomedeployError:
        return []
    path = _cache_file(credential.key)
    names: list[str] | None = None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if time.time() - float(data["at"]) < settings.completion_ttl():
            names = [str(n) for n in data["names"]]
    except (OSError, ValueError, KeyError, TypeError):
        names = None
    if names is None:
        client = HerokuClient(credential, timeout=(3.0, 5.0), retry=RetryPolicy(attempts=1))
        try:
            names = sorted(app.name for app in client.apps())
        except HomedeployError:
            return []
        _store(path, names)
    return [n for n in names if n.startswith(prefix)]


def _store(path: Path, names: list[str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".apps.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"at": time.time(), "names": names}, handle)
        os.replace(tmp, path)
    except OSError:
        return


def remote_names(project: Path, prefix: str = "") -> list[str]:
    """The git remotes of the repository around ``project`` (for ``-r <TAB>``)."""
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    try:
        repo = Repo(project, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return []
    return [r.name for r in repo.remotes if r.name.startswith(prefix)]
