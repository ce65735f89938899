"""A small cache on disk for index pages and resolutions (platformdirs' user cache dir).

Asking the package index about 234 projects takes seconds; asking the disk takes milliseconds.
Entries are JSON documents keyed by section and key in one SQLite file (the standard library's
``sqlite3``): a batch of a few hundred index pages is one transaction instead of a few hundred
temporary files and renames, a batch of look-ups is one query, and SQLite's locking keeps two
runs at once from reading half an entry. ``HOMEDEPLOY_CACHE_DIR`` points the cache elsewhere
(tests, CI). A cache never fails a command: an unreadable, locked or corrupt file reads as
empty; a corrupt one is set aside at the next write and a new one started.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from homedeploy import settings

CACHE_ENV = settings.CACHE_DIR
DATABASE = "cache.sqlite3"
_BUSY_SECONDS = 5.0
_CHUNK = 500  # keys per query (SQLite's limit on bound parameters is 32766 or 999 on old ones)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries (section TEXT NOT NULL, key TEXT NOT NULL, "
    "data TEXT NOT NULL, PRIMARY KEY (section, key)) WITHOUT ROWID"
)


def cache_root() -> Path:
    """``$HOMEDEPLOY_CACHE_DIR``, else platformdirs' user cache dir for homedeploy."""
    override = settings.cache_dir_override()
    if override is not None:
        return override
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("homedeploy", appauthor=False))


@contextmanager
def _database(create: bool) -> Iterator[sqlite3.Connection | None]:
    """A connection to the cache file (None when it is absent and ``create`` is false)."""
    path = cache_root() / DATABASE
    if not create and not path.is_file():
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=_BUSY_SECONDS, isolation_level=None)) as db:
        if create:
            db.execute(_SCHEMA)
        yield db


_USERINFO = re.compile(r"(?<=://)[^/@\s\"']+@")


def _stored_key(key: str) -> str:
    """``key`` as stored: the user name and password of any URL in it replaced by a digest of
    them, so an index's credentials never reach the cache file (answers for different
    credentials still stay apart)."""
    if "@" not in key:
        return key

    def digest(match: re.Match[str]) -> str:
        return "cred-" + hashlib.sha256(match.group(0).encode()).hexdigest()[:16] + "@"

    return _USERINFO.sub(digest, key)


def _decoded(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def read_many(section: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored entries for ``keys`` that exist and parse (absent ones are left out)."""
    stored = {_stored_key(key): key for key in keys}
    wanted = list(stored)
    found: dict[str, dict[str, Any]] = {}
    if not wanted:
        return found
    try:
        with _database(create=False) as db:
            if db is None:
                return found
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT key, data FROM entries WHERE section = ? AND key IN ({marks})",
                    [section, *chunk],
                )
                for key, text in rows:  # one row's text at a time, not the whole batch
                    data = _decoded(text)
                    if data is not None:
                        found[stored[key]] = data
    except (OSError, sqlite3.Error):
        return found
    return found


def read_entry(section: str, key: str) -> dict[str, Any] | None:
    """The stored entry for ``key``, or None when absent or unreadable (a cache never fails)."""
    return read_many(section, [key]).get(key)


def write_many(section: str, entries: dict[str, dict[str, Any]]) -> None:
    """Store every ``key: data`` of ``entries`` in one transaction; failures are ignored."""
    if not entries:
        return

    def rows() -> Iterator[tuple[str, str, str]]:
        # Encoded one entry at a time as SQLite takes them (a batch of 500 pages is ~40 MB of
        # JSON text at once otherwise); the C encoder (dumps).
        for key, data in entries.items():
            yield section, _stored_key(key), json.dumps(data, separators=(",", ":"))

    for attempt in range(2):
        try:
            with _database(create=True) as db:
                assert db is not None
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows())
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            return
        except sqlite3.OperationalError:
            return  # locked by another run, read-only or full: this write is skipped
        except sqlite3.DatabaseError:
            # Not a database, or a malformed one: no write would ever succeed and every run
            # would start cold. The file is set aside (once) and a new one started.
            if attempt or not _set_aside():
                return
        except OSError:
            return


def _set_aside() -> bool:
    """Move an unusable cache file to ``cache.sqlite3.corrupt`` (replacing an older one)."""
    path = cache_root() / DATABASE
    try:
        path.replace(path.with_name(DATABASE + ".corrupt"))
        for suffix in ("-wal", "-shm", "-journal"):
            path.with_name(DATABASE + suffix).unlink(missing_ok=True)
    except OSError:
        return False
    return True


def write_entry(section: str, key: str, data: dict[str, Any]) -> None:
    """Store ``data`` under ``key``; failures (read-only disk, full disk) are ignored."""
    write_many(section, {key: data})
