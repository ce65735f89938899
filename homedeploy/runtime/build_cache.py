"""The rehearsal's build cache: reuse the venv of the last build when nothing it depends on changed.

Heroku keeps the installed packages in the app's build cache between builds. The buildpack
restores them unless something its install depends on changed, and then says so
(``Discarding cache since: - The contents of requirements.txt changed``; the other reasons are the
stack, the Python version, the package manager or its version, Pipfile.lock's contents and the
cache format). With the cache restored, ``pip install -r requirements.txt`` finds every
requirement already satisfied and installs nothing, so the build is the packages of the previous
build. The rehearsal does the same, one step further: when every input of the install is
byte-identical to a previous successful build, it skips the package manager and uses that build's
venv, and the report says ``build reused``. The inputs, hashed into the key:

- the requirements file's bytes, and those of every file it includes (``-r``/``-c``);
- for an install from files the requirements' bytes do not pin down (``-e .``, a local path or
  ``file:`` URL, a local ``--find-links`` or index), and for uv, Poetry and Pipenv (which install
  the project itself), the git tree of the commit: any change to any committed file rebuilds;
- the interpreter (path, version, and the size and time of its binary), the platform and libc;
- the Python Heroku builds with (``.python-version``): when the interpreter here is another
  minor, pins that do not install on it are resolved again from requirements.in (see
  :func:`homedeploy.runtime.build.build_rehearsal_venv`), so a build approximated for one
  requested version must not stand for another (nor for a changed requirements.in);
- the installing tool: pip's version and its whole merged configuration (config files and
  ``PIP_*`` variables: the index a build came from is part of it), or the buildpack's uv, Poetry
  or Pipenv version and command;
- :data:`CACHE_FORMAT` (bumped when the way the rehearsal builds changes).

Any change rebuilds from scratch, in a fresh venv: as Heroku does for requirements.txt and
Pipfile.lock; for uv and Poetry, whose sync makes the restored venv match the lock exactly, a
fresh venv gives the same packages. A failed build leaves nothing behind (its slot is removed),
and a build interrupted before it finished has no ``build.json``, so the next rehearsal builds
again. Before a reuse the venv is verified: its interpreter is the one recorded, and every
installed distribution recorded is there with every file its ``RECORD`` lists (stat calls only,
milliseconds even for numpy).

Slots live in ``<cache>/rehearsal-builds/<key>/``; the oldest are removed beyond
:data:`KEEP_SLOTS`. A lock file per slot makes two rehearsals of the same inputs build once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from homedeploy.project.venv import Interpreter

CACHE_FORMAT = "1"
"""Part of every key: bump it when the rehearsal's way of building a venv changes."""
KEEP_SLOTS = 6
"""Builds kept at most (the least recently used beyond these are removed)."""
SECTION = "rehearsal-builds"

LOCAL_PREFIXES = (".", "/", "~", "file:")


@dataclass(frozen=True)
class BuildInputs:
    """What a build depends on, and the key they hash to."""

    inputs: dict[str, str]
    key: str

    @property
    def short(self) -> str:
        return self.key[:12]


@dataclass
class BuildSlot:
    """One cached build: ``venv`` and its ``build.json`` record, and the open lock file: held
    exclusively while building or checking, then shared while a rehearsal runs on it (so
    :func:`prune` never removes a venv in use), released by :meth:`release`."""

    folder: Path
    inputs: BuildInputs
    record: dict[str, Any] = field(default_factory=dict)
    handle: IO[str] | None = field(default=None, repr=False)

    def exclusive_within(self, seconds: float, on_wait: Callable[[], None] | None = None) -> None:
        """:meth:`exclusive`, waiting ``seconds`` at most (TimeoutError after)."""
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            _flock_within(self.handle, fcntl.LOCK_EX, seconds, on_wait)

    def share(self) -> None:
        """From building to using: other rehearsals of the same inputs may use it too."""
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_SH)

    def exclusive(self) -> None:
        """From using to building: waits until no other rehearsal uses the slot (the caller
        checks again whether it is reusable: another may have built it meanwhile)."""
        if self.handle is not None:
            # Unlocked first: two rehearsals upgrading at once must not wait for each other.
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            fcntl.flock(self.handle, fcntl.LOCK_EX)

    def release(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(OSError):
                self.handle.close()
            self.handle = None

    @property
    def venv(self) -> Path:
        return self.folder / "venv"

    @property
    def record_file(self) -> Path:
        return self.folder / "build.json"


def builds_root() -> Path:
    from homedeploy.requirements.cache import cache_root

    return cache_root() / SECTION


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _requirement_files(path: Path, seen: set[Path]) -> tuple[dict[str, str], bool]:
    """``{relative name: sha256}`` of ``path`` and the files it includes, and whether any line
    installs from a local path (then the project's tree is an input too)."""
    digests: dict[str, str] = {}
    local = False
    resolved = path.resolve()
    if resolved in seen:
        return digests, local
    seen.add(resolved)
    try:
        data = path.read_bytes()
    except OSError:
        return {path.name: "absent"}, local
    digests[path.name] = _sha(data)
    for raw in data.decode("utf-8", errors="replace").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for flag in ("-r", "--requirement", "-c", "--constraint"):
            if line.startswith(flag + " ") or line.startswith(flag + "="):
                name = line[len(flag) + 1 :].strip()
                included, nested_local = _requirement_files(path.parent / name, seen)
                digests.update({f"{name}:{k}": v for k, v in included.items()})
                local = local or nested_local
                break
        else:
            local = local or _installs_local(line)
    return digests, local


def _installs_local(line: str) -> bool:
    """Whether a requirements line installs from files that its bytes do not pin down."""
    if line.startswith(("-e", "--editable")) or line.startswith(LOCAL_PREFIXES):
        return True
    if "@ file:" in line or "@file:" in line:
        return True
    if line.startswith("-"):
        return _local_option(line)
    # pip takes a line that looks like a path (``libs/mine``, ``vendor/x-1.0-py3-none-any.whl``,
    # an archive's file name) as one, without a leading ``./``.
    first = line.split(";", 1)[0].split()[0] if line.split() else ""
    if "://" in first or "@" in first:
        return False
    return "/" in first or first.endswith(ARCHIVE_SUFFIXES)


ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2")
"""Distribution file names pip installs from a local file when a line names one."""


INDEX_OPTIONS = ("-f", "--find-links", "-i", "--index-url", "--extra-index-url")


def _local_option(line: str) -> bool:
    """``--find-links ./wheels`` and the like: an index or folder of the project (or of this
    machine) whose files can change while the line does not."""
    for option in INDEX_OPTIONS:
        if line.startswith(option + " ") or line.startswith(option + "="):
            value = line[len(option) + 1 :].strip()
            return not value.startswith(("http://", "https://"))
    return False


def _interpreter_inputs(interpreter: Interpreter) -> dict[str, str]:
    real = Path(os.path.realpath(interpreter.path))
    try:
        stat = real.stat()
        binary = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        binary = "absent"
    libc = " ".join(platform.libc_ver())
    return {
        "python": interpreter.path,
        "python_version": interpreter.version,
        "python_binary": f"{real}:{binary}",
        "platform": f"{sys.platform} {platform.machine()} {libc}",
    }


def _pip_configuration() -> str:
    """pip's merged configuration (files and ``PIP_*`` variables), as pip itself reads it."""
    try:
        from pip._internal.configuration import Configuration

        configuration = Configuration(isolated=False)
        configuration.load()
        items = sorted((str(k), repr(v)) for k, v in configuration.items())
    except Exception:
        # pip's internals moved, or a config file is broken: the variables, at least.
        items = sorted((k, v) for k, v in os.environ.items() if k.startswith("PIP_"))
    return _sha(repr(items).encode())


def _pip_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pip")
    except PackageNotFoundError:
        return "absent"


def pip_build_inputs(
    app_dir: Path,
    interpreter: Interpreter,
    tree: str | None,
    command: str,
    heroku_version: str | None = None,
) -> BuildInputs:
    """The inputs of a requirements.txt build by homedeploy's pip (see the module doc)."""
    files, local = _requirement_files(app_dir / "requirements.txt", set())
    if heroku_version is not None and not heroku_version.startswith(interpreter.major + "."):
        # Another minor here: requirements.in is what installs when the pins do not.
        fallback, fallback_local = _requirement_files(app_dir / "requirements.in", set())
        files.update({f"fallback {name}": digest for name, digest in fallback.items()})
        local = local or fallback_local
    inputs = {
        "format": CACHE_FORMAT,
        "manager": "pip",
        "command": command,
        "pip": _pip_version(),
        "pip_config": _pip_configuration(),
        **_interpreter_inputs(interpreter),
        "heroku_python": heroku_version or "unknown",
        **{f"file {name}": digest for name, digest in sorted(files.items())},
    }
    if local:
        inputs["tree"] = tree or "unknown"
    return _keyed(inputs)


def tool_build_inputs(
    tool: str,
    app_dir: Path,
    interpreter: Interpreter,
    tree: str | None,
    tool_version: str,
    command: str,
) -> BuildInputs:
    """The inputs of a uv, Poetry or Pipenv build: these install the project itself, so the
    commit's whole tree is an input (any committed change rebuilds)."""
    inputs = {
        "format": CACHE_FORMAT,
        "manager": tool,
        "tool_version": tool_version,
        "command": command,
        "pip_config": _pip_configuration(),
        **_interpreter_inputs(interpreter),
        "tree": tree or "unknown",
    }
    for variable in sorted(os.environ):
        if variable.startswith(("UV_", "POETRY_", "PIPENV_")):
            inputs[f"env {variable}"] = os.environ[variable]
    return _keyed(inputs)


def _keyed(inputs: dict[str, str]) -> BuildInputs:
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return BuildInputs(inputs, _sha(text.encode()))


LOCK_WAIT = 900.0
"""Seconds a rehearsal waits at most for another one building (or using) the same inputs before
it builds without the cache (a build itself is given as long)."""


def _flock_within(
    handle: IO[str], mode: int, seconds: float, on_wait: Callable[[], None] | None
) -> None:
    """``flock(mode)``, polled, so that a holder that never lets go (a rehearsal stopped with
    Ctrl-Z, a hung build) costs ``seconds`` at most: TimeoutError after; ``on_wait`` is called
    once when the lock is not free at once."""
    deadline = time.monotonic() + seconds
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        if on_wait is not None:
            on_wait()
    while True:
        time.sleep(0.1)
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"another rehearsal held the build for {seconds:g} s") from None


def acquire(
    inputs: BuildInputs, seconds: float | None = None, on_wait: Callable[[], None] | None = None
) -> BuildSlot:
    """The slot for ``inputs``, locked shared (rehearsals of the same inputs use one build at
    once; :meth:`BuildSlot.exclusive_within` before building, so that a second rehearsal waits
    for the build and then reuses it); :meth:`BuildSlot.release` when done with it. Waits
    ``seconds`` at most for a rehearsal building it (TimeoutError, an OSError, after)."""
    root = builds_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = root / inputs.key[:32]
    handle = (root / f"{folder.name}.lock").open("a+")
    try:
        _flock_within(handle, fcntl.LOCK_SH, LOCK_WAIT if seconds is None else seconds, on_wait)
    except BaseException:
        handle.close()
        raise
    return BuildSlot(folder, inputs, handle=handle)


def reusable(slot: BuildSlot) -> bool:
    """A finished build of the same inputs whose venv is intact (see :func:`venv_intact`)."""
    try:
        record = json.loads(slot.record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict) or record.get("key") != slot.inputs.key:
        return False
    if not venv_intact(slot.venv, record):
        return False
    slot.record = record
    with contextlib.suppress(OSError):
        os.utime(slot.record_file)  # most recently used: kept by prune()
    return True


def _site_packages(venv: Path) -> list[Path]:
    return sorted(venv.glob("lib/python*/site-packages"))


def installed_distributions(venv: Path) -> list[str]:
    return sorted(entry.name for site in _site_packages(venv) for entry in site.glob("*.dist-info"))


def venv_intact(venv: Path, record: dict[str, Any]) -> bool:
    """The venv's Python is the recorded interpreter, and every distribution of the build is
    installed with every file its RECORD lists (bytecode aside: written on first import)."""
    python = venv / "bin" / "python"
    if not python.exists() or os.path.realpath(python) != record.get("python_real"):
        return False
    expected = record.get("distributions")
    if not isinstance(expected, list) or installed_distributions(venv) != expected:
        return False
    for site in _site_packages(venv):
        for dist in site.glob("*.dist-info"):
            try:
                lines = (dist / "RECORD").read_text(encoding="utf-8").splitlines()
            except OSError:
                return False
            for line in lines:
                name = line.split(",", 1)[0]
                if not name or name.endswith(".pyc") or "__pycache__" in name:
                    continue
                if not os.path.lexists(site / name if not name.startswith("/") else name):
                    return False
    return True


def begin(slot: BuildSlot) -> None:
    """Empty the slot for a new build (what a failed or interrupted one left is removed)."""
    shutil.rmtree(slot.folder, ignore_errors=True)
    slot.folder.mkdir(parents=True)


def finish(slot: BuildSlot, outcome: dict[str, Any], seconds: float) -> None:
    """Record a successful build (atomically: a slot without it is never reused)."""
    record = {
        "key": slot.inputs.key,
        "inputs": slot.inputs.inputs,
        "python_real": os.path.realpath(slot.venv / "bin" / "python"),
        "distributions": installed_distributions(slot.venv),
        "built_at": time.time(),
        "build_seconds": seconds,
        **outcome,
    }
    fd, tmp = tempfile.mkstemp(prefix=".build.", dir=slot.folder)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(tmp, slot.record_file)
    slot.record = record
    prune(keep=slot.folder)


def discard(slot: BuildSlot) -> None:
    """A failed build: nothing of it is kept."""
    shutil.rmtree(slot.folder, ignore_errors=True)


def prune(keep: Path | None = None) -> None:
    """Remove the least recently used builds beyond :data:`KEEP_SLOTS` (never a locked one)."""
    root = builds_root()
    try:
        slots = [p for p in root.iterdir() if p.is_dir()]
    except OSError:
        return

    def used(folder: Path) -> float:
        try:
            return (folder / "build.json").stat().st_mtime
        except OSError:
            return 0.0

    for folder in sorted(slots, key=used, reverse=True)[KEEP_SLOTS:]:
        if folder == keep:
            continue
        lock = root / f"{folder.name}.lock"
        with contextlib.suppress(OSError), lock.open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # being built or checked right now
            shutil.rmtree(folder, ignore_errors=True)
            fcntl.flock(handle, fcntl.LOCK_UN)
