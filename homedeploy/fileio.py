"""Safe file reading and writing: capped reads, atomic replace, backups that stay put.

homedeploy never loses a user's file and never hangs or writes outside the project because of one:

- :func:`read_bytes` reads only regular files (a FIFO named ``Procfile`` would block forever, a
  symlink to ``/dev/zero`` never ends) and at most :data:`MAX_READ_BYTES`;
- new content goes to a temporary file in the same folder (created with ``O_EXCL``) and is renamed
  over the target (atomic on POSIX); a full disk or an immutable file leaves the original as it
  was and becomes a :class:`ProjectError` saying so;
- an existing file is only replaced when the caller passes ``force=True``, after copying it to
  ``<name>.bak`` (or ``.bak.1``, ...). The backup is created with ``O_CREAT | O_EXCL |
  O_NOFOLLOW``, so a (dangling) symlink named ``Procfile.bak`` is skipped, never written through;
- :class:`TextFormat` remembers a file's encoding, byte-order mark and line endings so a rewrite
  (``doctor --fix``) gives back the same kind of file: UTF-16 stays UTF-16, Latin-1 bytes stay
  Latin-1 bytes, CRLF stays CRLF.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from homedeploy.errors import ProjectError

MAX_READ_BYTES = 16 * 1024 * 1024
"""No project file homedeploy parses (requirements, Procfile, .env, TOML, netrc) is this big."""

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


class UnreadableFile(ProjectError, OSError):
    """A file homedeploy refuses to read (FIFO, device, too big).

    Also an ``OSError`` (with ``strerror`` set to the short reason), so every caller that
    already skips unreadable files skips these too; uncaught, the CLI shows it as a clear error.
    """

    def __init__(self, path: Path, reason: str, fix: str) -> None:
        super().__init__(f"{path.name} {reason}; homedeploy does not read it.", path=path, fix=fix)
        self.strerror = reason
        self.filename = str(path)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bytes(path: Path, *, limit: int = MAX_READ_BYTES, head: bool = False) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``), never blocking on it.

    ``FileNotFoundError``, ``IsADirectoryError`` and ``PermissionError`` propagate as the
    ``OSError`` they are, so callers keep their own messages for them; a FIFO, a device (a symlink
    to ``/dev/zero``) or a file over ``limit`` raises :class:`UnreadableFile`. With ``head``
    a longer file gives its first ``limit`` bytes instead (for sniffing content).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(
                path,
                f"is {_kind(info.st_mode)}, not a regular file",
                f"replace {path.name} with an ordinary file.",
            )
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit and head:
            return b"".join(chunks)[:limit]
        if size > limit:
            raise UnreadableFile(
                path,
                f"is larger than {limit / (1024 * 1024):g} MB",
                f"check that {path.name} is the file you meant (it should be small text).",
            )
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: Path, *, limit: int = MAX_READ_BYTES) -> str:
    """:func:`read_bytes` decoded as UTF-8 (a BOM dropped, undecodable bytes replaced)."""
    return read_bytes(path, limit=limit).decode("utf-8-sig", errors="replace")


@dataclass(frozen=True)
class TextFormat:
    """How a text file is stored: codec, byte-order mark and line ending."""

    encoding: str = "utf-8"
    bom: bytes = b""
    newline: str = "\n"

    @classmethod
    def detect(cls, raw: bytes) -> tuple[str, TextFormat]:
        """``(text, format)`` of ``raw``; :meth:`encode` of that text gives ``raw`` back."""
        encoding, bom = "", b""
        for candidate, codec in _BOMS:
            if raw.startswith(candidate):
                encoding, bom = codec, candidate
                break
        body = raw[len(bom) :]
        if not encoding:
            if len(body) >= 4 and body[1:2] == b"\x00" and body[3:4] == b"\x00" and body[0]:
                encoding = "utf-16-le"
            elif len(body) >= 4 and body[0:1] == b"\x00" and body[2:3] == b"\x00" and body[1]:
                encoding = "utf-16-be"
        if not encoding:
            try:
                body.decode("utf-8")
                encoding = "utf-8"
            except UnicodeDecodeError:
                encoding = "latin-1"  # every byte maps to one character and back
        text = body.decode(encoding, errors="replace")
        if "\r\n" in text:
            newline = "\r\n"
        elif "\r" in text and "\n" not in text:
            newline = "\r"
        else:
            newline = "\n"
        return text, cls(encoding, bom, newline)

    def encode(self, text: str) -> bytes:
        """``text`` (with ``\\n`` or any line ending) in this format; raises ProjectError when the
        codec cannot hold a character of it."""
        unified = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.newline != "\n":
            unified = unified.replace("\n", self.newline)
        try:
            return self.bom + unified.encode(self.encoding)
        except UnicodeEncodeError as error:
            raise ProjectError(
                f"the new text has a character ({error.object[error.start : error.end]!r}) that "
                f"the file's encoding ({self.encoding}) cannot hold; the file was left unchanged.",
                fix="re-save the file as UTF-8 and run the command again.",
            ) from None


def read_text_format(path: Path) -> tuple[str, TextFormat]:
    """The text of ``path`` and how it is stored, for :func:`rewrite_text`."""
    return TextFormat.detect(read_bytes(path))


def _write_error(path: Path, error: OSError, *, what: str = "write") -> ProjectError:
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        reason = "the disk is full (No space left on device)"
    elif error.errno in (errno.EPERM, errno.EACCES, errno.EROFS):
        reason = f"{reason} (read-only or immutable file or folder?)"
    return ProjectError(
        f"cannot {what} {path.name}: {reason}; the original file is unchanged.",
        path=path,
        fix="free some space or fix the permissions (lsattr/chattr -i for an immutable file), "
        "then run the command again.",
    )


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file, never half.

    A symlink at ``path`` is replaced by the new file, not written through. Failures (disk full,
    immutable file, read-only folder) raise :class:`ProjectError` with the original untouched.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise _write_error(path, error) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            try:
                info = os.lstat(path)
                mode = info.st_mode & 0o7777 if stat.S_ISREG(info.st_mode) else 0o644
            except FileNotFoundError:
                mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise _write_error(path, error) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(
    path: Path, text: str, *, mode: int | None = None, fmt: TextFormat | None = None
) -> None:
    """:func:`atomic_write_bytes` of ``text`` in ``fmt`` (UTF-8 with ``\\n`` by default)."""
    atomic_write_bytes(path, (fmt or TextFormat()).encode(text), mode=mode)


def rewrite_text(path: Path, text: str, fmt: TextFormat) -> None:
    """Replace ``path`` with ``text`` stored the way :func:`read_text_format` found it."""
    atomic_write_text(path, text, fmt=fmt)


def backup_path(path: Path) -> Path:
    """The first unused backup name for ``path``: ``name.bak``, then ``name.bak.1``, ...

    A name taken by anything, a dangling symlink included, counts as used.
    """
    candidate = path.with_name(path.name + ".bak")
    counter = 1
    while os.path.lexists(candidate):
        candidate = path.with_name(f"{path.name}.bak.{counter}")
        counter += 1
    return candidate


def make_backup(path: Path) -> Path:
    """Copy ``path`` to a fresh backup name (never through a symlink) and return it."""
    data = read_bytes(path)
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        mode = 0o644
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(1000):
        target = backup_path(path)
        try:
            fd = os.open(target, flags, mode)
        except FileExistsError:
            continue  # taken between the check and the open: try the next name
        except OSError as error:
            raise _write_error(target, error, what="back up to") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            target.unlink(missing_ok=True)
            raise _write_error(target, error, what="back up to") from None
        return target
    raise ProjectError(f"no free backup name for {path.name}", path=path)


def write_new_file(
    path: Path,
    text: str,
    *,
    force: bool = False,
    mode: int | None = None,
    keep_format: bool = False,
) -> Path | None:
    """Create ``path`` with ``text``; with ``force`` replace an existing file after a backup.

    Returns the backup's path when one was made. Raises :class:`ProjectError` when the file
    exists and ``force`` is false, so a user's file is never overwritten by surprise. With
    ``keep_format`` a replaced file keeps its encoding, byte-order mark and line endings.
    """
    backup = None
    fmt: TextFormat | None = None
    if os.path.lexists(path):
        if not force:
            raise ProjectError(
                f"{path.name} already exists; homedeploy will not overwrite it.",
                path=path,
                fix="keep yours, or pass --force to replace it (a backup is kept as .bak).",
            )
        if path.is_symlink() or path.is_file():
            backup = make_backup(path) if path.exists() else None
            if backup is not None and keep_format:
                fmt = TextFormat.detect(read_bytes(backup))[1]
        else:
            raise ProjectError(
                f"{path.name} exists and is not a regular file; homedeploy will not replace it.",
                path=path,
                fix=f"remove or rename {path.name}, then run the command again.",
            )
    atomic_write_text(path, text, mode=mode, fmt=fmt)
    return backup
