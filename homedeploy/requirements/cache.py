"""A small JSON cache on disk for index pages and resolutions (platformdirs' user cache dir).

Asking the package index about 234 projects takes seconds; asking the disk takes milliseconds.
Entries are JSON files named by the SHA-256 of their key, written atomically so two runs at once
never read half an entry. ``HOMEDEPLOY_CACHE_DIR`` points the cache elsewhere (tests, CI).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from homedeploy import settings

CACHE_ENV = settings.CACHE_DIR


def cache_root() -> Path:
    """``$HOMEDEPLOY_CACHE_DIR``, else platformdirs' user cache dir for homedeploy."""
    override = settings.cache_dir_override()
    if override is not None:
        return override
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("homedeploy", appauthor=False))


def _entry_path(section: str, key: str) -> Path:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return cache_root() / section / digest[:2] / f"{digest}.json"


def read_entry(section: str, key: str) -> dict[str, Any] | None:
    """The stored entry for ``key``, or None when absent or unreadable (a cache never fails)."""
    path = _entry_path(section, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return data


def write_entry(section: str, key: str, data: dict[str, Any]) -> None:
    """Store ``data`` under ``key``; failures (read-only disk, full disk) are ignored."""
    path = _entry_path(section, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".entry.", suffix=".tmp", dir=path.parent)
        text = json.dumps({**data, "key": key}, separators=(",", ":"))  # C encoder, not dump()
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError:
        return
