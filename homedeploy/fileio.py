"""Safe file writing: atomic replace, and backups before any overwrite.

homedeploy never loses a user's file: new content goes to a temporary file in the same folder
and is renamed over the target (atomic on POSIX), and an existing file is only replaced when the
caller passes ``force=True``, after copying it to ``<name>.bak`` (or ``.bak.1``, ``.bak.2``, ...).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from homedeploy.errors import ProjectError


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` so that readers see either the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def backup_path(path: Path) -> Path:
    """The first free backup name for ``path``: ``name.bak``, then ``name.bak.1``, ..."""
    candidate = path.with_name(path.name + ".bak")
    counter = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak.{counter}")
        counter += 1
    return candidate


def make_backup(path: Path) -> Path:
    """Copy ``path`` to a fresh backup name and return it."""
    target = backup_path(path)
    shutil.copy2(path, target)
    return target


def write_new_file(
    path: Path, text: str, *, force: bool = False, mode: int | None = None
) -> Path | None:
    """Create ``path`` with ``text``; with ``force`` replace an existing file after a backup.

    Returns the backup's path when one was made. Raises :class:`ProjectError` when the file
    exists and ``force`` is false, so a user's file is never overwritten by surprise.
    """
    backup = None
    if path.exists():
        if not force:
            raise ProjectError(
                f"{path.name} already exists; homedeploy will not overwrite it.",
                path=path,
                fix="keep yours, or pass --force to replace it (a backup is kept as .bak).",
            )
        backup = make_backup(path)
    atomic_write_text(path, text, mode=mode)
    return backup
