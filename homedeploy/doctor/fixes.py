"""The safe repairs ``doctor --fix`` makes, each one small, atomic and backed up.

Only changes with one obviously right answer are automated: ignoring a virtual environment,
moving runtime.txt to .python-version, renaming a misspelt file, re-encoding a file the buildpack
cannot read, pointing the Procfile at the app discovery found, and adding gunicorn (or Flask) to
requirements.txt. Existing files are copied to ``<name>.bak`` before they are rewritten, and every
change is reported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from homedeploy.doctor.codes import CODES, FindingCode, FixerName
from homedeploy.doctor.findings import Finding
from homedeploy.doctor.snapshot import ProjectSnapshot
from homedeploy.fileio import (
    TextFormat,
    atomic_write_text,
    make_backup,
    read_bytes,
    read_text_format,
    rewrite_text,
)


@dataclass(frozen=True)
class FixApplied:
    """One change ``--fix`` made: which finding, which file, what changed, where the backup is."""

    code: FindingCode
    path: str
    change: str
    backup: str | None = None


def _backup(project: ProjectSnapshot, path: Path) -> str | None:
    return project.relative(make_backup(path)) if path.exists() else None


def _rename(project: ProjectSnapshot, code: FindingCode, old: str, new: str) -> FixApplied | None:
    source, target = project.root / old, project.root / new
    if target.exists() or not source.is_file():
        return None
    os.rename(source, target)
    return FixApplied(code, new, f"renamed {old!r} to {new}")


def _ignore_folder(project: ProjectSnapshot, finding: Finding) -> FixApplied | None:
    rel = (finding.path or "").rstrip("/")
    if not rel:
        return None
    gitignore = project.root / ".gitignore"
    text, fmt = read_text_format(gitignore) if gitignore.exists() else ("", TextFormat())
    entry = f"/{rel}/"
    if entry in text.splitlines():
        return None
    backup = _backup(project, gitignore)
    prefix = "" if not text or text.endswith(("\n", "\r")) else "\n"
    rewrite_text(gitignore, f"{text}{prefix}{entry}\n", fmt)
    return FixApplied(finding.code, ".gitignore", f"added {entry} (a virtual environment)", backup)


def _runtime_txt(project: ProjectSnapshot, finding: Finding) -> FixApplied | None:
    runtime = project.root / "runtime.txt"
    requested = project.requested_python
    if not runtime.is_file() or any(p.code == "runtime-txt-invalid" for p in requested.problems):
        return None
    version_file = project.root / ".python-version"
    change = "removed runtime.txt"
    if not version_file.exists():
        atomic_write_text(version_file, requested.major + "\n")
        change = f"moved the version to .python-version ({requested.major}) and removed runtime.txt"
    backup = _backup(project, runtime)
    runtime.unlink()
    return FixApplied(finding.code, ".python-version", change, backup)


def _misspelt_version(project: ProjectSnapshot, finding: Finding) -> FixApplied | None:
    name = finding.path
    if not name:
        return None
    renamed = _rename(project, finding.code, name, ".python-version")
    if renamed is not None:
        return renamed
    backup = _backup(project, project.root / name)
    (project.root / name).unlink()
    return FixApplied(finding.code, name, f"removed {name!r} (.python-version exists)", backup)


def _reencode_version(project: ProjectSnapshot, finding: Finding) -> FixApplied | None:
    path = project.root / ".python-version"
    raw = read_bytes(path)
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if raw.startswith(bom):
            text = raw.decode(encoding, errors="replace")
            break
    else:
        return None
    backup = _backup(project, path)
    atomic_write_text(path, "\n".join(line.strip() for line in text.splitlines()).strip() + "\n")
    return FixApplied(finding.code, ".python-version", "re-saved as UTF-8 without BOM", backup)


def _strip_procfile_bom(project: ProjectSnapshot, finding: Finding) -> FixApplied | None:
    path = project.root / "Procfile"
    text, fmt = read_text_format(path)
    if fmt.bom != b"\xef\xbb\xbf":
        return None
    backup = _backup(project, path)
    rewrite_text(path, text, TextFormat(fmt.encoding, b"", fmt.newline))
    return FixApplied(finding.code, "Procfile", "removed the byte-order mark", backup)


def _retarget_procfile(project: ProjectSnapshot, finding: Finding) -> FixApplied | None:
    from homedeploy.doctor.rules.boot import shell_word, suggested_target, web_command

    web = web_command(project)
    if web is None or web.gunicorn is None:
        return None
    old = web.gunicorn.target
    if finding.code == "procfile-factory-not-called":
        new: str | None = shell_word(f"{old}()")
    else:
        module = old[:-3].replace("/", ".") if old and old.endswith(".py") else web.gunicorn.module
        new = suggested_target(project, module)
    if not new:
        return None
    path = project.root / "Procfile"
    text, fmt = read_text_format(path)
    lines = text.splitlines()
    index = web.process.line - 1
    line = lines[index]
    if old:
        updated = re.sub(rf"(?<=\s){re.escape(old)}(?=\s|$)", new, line, count=1)
    else:
        updated = re.sub(r"\bgunicorn\b", f"gunicorn {new}", line, count=1)
    if updated == line:
        return None
    lines[index] = updated
    backup = _backup(project, path)
    rewrite_text(path, "\n".join(lines) + "\n", fmt)
    return FixApplied(finding.code, "Procfile", f"web line is now `{updated.strip()}`", backup)


def _create_procfile(project: ProjectSnapshot, finding: Finding) -> FixApplied | None:
    from homedeploy.doctor.rules.boot import suggested_target

    target = suggested_target(project)
    path = project.root / "Procfile"
    if target is None or path.exists():
        return None
    atomic_write_text(path, f"web: gunicorn {target}\n")
    return FixApplied(finding.code, "Procfile", f"created with `web: gunicorn {target}`")


Fixer = Callable[[ProjectSnapshot, Finding], FixApplied | None]


def _add_requirement(name: str) -> Fixer:
    def add(project: ProjectSnapshot, finding: Finding) -> FixApplied | None:
        if project.package_manager != "pip":
            return None
        path = project.root / "requirements.txt"
        text, fmt = read_text_format(path)
        backup = _backup(project, path)
        prefix = "" if not text or text.endswith(("\n", "\r")) else "\n"
        rewrite_text(path, f"{text}{prefix}{name}\n", fmt)
        return FixApplied(finding.code, "requirements.txt", f"added {name}", backup)

    return add


FIXERS: dict[FixerName, Fixer] = {
    "ignore-folder": _ignore_folder,
    "runtime-txt-to-python-version": _runtime_txt,
    "rename-version-file": _misspelt_version,
    "reencode-version-file": _reencode_version,
    "rename-requirements": lambda p, f: _rename(p, f.code, f.path or "", "requirements.txt"),
    "rename-procfile": lambda p, f: _rename(p, f.code, f.path or "", "Procfile"),
    "strip-procfile-bom": _strip_procfile_bom,
    "create-procfile": _create_procfile,
    "retarget-procfile": _retarget_procfile,
    "add-gunicorn": _add_requirement("gunicorn"),
    "add-flask": _add_requirement("Flask"),
}
"""Each fixer named in :data:`homedeploy.doctor.codes.CODES`, by name."""


def apply_fixes(project: ProjectSnapshot, findings: list[Finding]) -> list[FixApplied]:
    """Apply the safe fix for each finding that has one; returns what changed."""
    applied: list[FixApplied] = []
    done: set[tuple[str, str | None]] = set()
    for finding in findings:
        name = CODES[finding.code].fixer
        fixer = FIXERS[name] if name is not None else None
        key = (finding.code, finding.path)
        if fixer is None or key in done:
            continue
        done.add(key)
        result = fixer(project, finding)
        if result is not None:
            applied.append(result)
    return applied
