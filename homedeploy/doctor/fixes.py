"""The safe repairs ``doctor --fix`` makes, each one small, atomic and backed up.

Only changes with one obviously right answer are automated: ignoring a virtual environment,
moving runtime.txt to .python-version, renaming a misspelt file, re-encoding a file the buildpack
cannot read, pointing the Procfile at the app discovery found, adding gunicorn (or Flask) to
requirements.txt, and rewriting requirements.txt as ``check-reqs --write`` does (the same engine
and writer) when check-reqs found lines that fail on Heroku. Existing files are copied to
``<name>.bak`` before they are rewritten, and every
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
        if _names_in(text) & {name.lower()}:
            return None  # already there (another fix, e.g. the rewrite, added it)
        backup = _backup(project, path)
        prefix = "" if not text or text.endswith(("\n", "\r")) else "\n"
        rewrite_text(path, f"{text}{prefix}{name}\n", fmt)
        return FixApplied(finding.code, "requirements.txt", f"added {name}", backup)

    return add


def _names_in(text: str) -> set[str]:
    from packaging.utils import canonicalize_name

    names = set()
    for line in text.splitlines():
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if match and not line.lstrip().startswith(("#", "-")):
            names.add(str(canonicalize_name(match.group(1))))
    return names


def _rewrite_requirements(project: ProjectSnapshot, finding: Finding) -> FixApplied | None:
    """``check-reqs --write``: the same engine and writer (requirements.in as the source of
    truth when there is one, a backup of each file replaced, atomic writes, the file's
    encoding kept, nothing written when the content is unchanged or the app needs a package
    nothing installs). The change lists every line that moved and why."""
    from homedeploy.errors import HomedeployError
    from homedeploy.requirements.check import check_requirements
    from homedeploy.requirements.report import ADD, DROP, ERROR, REPIN

    path = project.root / "requirements.txt"
    if project.package_manager != "pip" or not path.is_file():
        return None
    try:
        report = check_requirements(path, project.root, write=True)
    except HomedeployError:
        return None
    written = [w for w in report.written if w.backup is not None or w.how != "unchanged"]
    if report.blocked or not report.wrote or not written:
        return None
    changes = []
    for verdict in report.lines:
        what = verdict.text or verdict.name or ""
        if verdict.verdict == REPIN:
            changes.append(f"{what} -> {verdict.replacement or 'a release that installs'}")
        elif verdict.verdict in (DROP, ERROR) and verdict.line is not None:
            changes.append(f"removed {what}")
        elif verdict.verdict == ADD:
            changes.append(f"added {verdict.replacement or verdict.name}")
        else:
            continue
        changes[-1] += f" ({verdict.reason})"
    backup = next(
        (w.backup for w in report.written if w.path == str(path) and w.backup is not None), None
    )
    names = " and ".join(project.relative(Path(w.path)) for w in written)
    summary = f"rewrote {names} as `homedeploy check-reqs --write` does"
    return FixApplied(
        finding.code,
        "requirements.txt",
        summary + (": " + "; ".join(changes) if changes else ""),
        project.relative(Path(backup)) if backup else None,
    )


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
    "rewrite-requirements": _rewrite_requirements,
}
"""Each fixer named in :data:`homedeploy.doctor.codes.CODES`, by name."""


def apply_fixes(project: ProjectSnapshot, findings: list[Finding]) -> list[FixApplied]:
    """Apply the safe fix for each finding that has one; returns what changed."""
    applied: list[FixApplied] = []
    done: set[tuple[str, str | None]] = set()
    for finding in findings:
        name = CODES[finding.code].fixer
        fixer = FIXERS[name] if name is not None else None
        # One rewrite of the whole file answers all of check-reqs' findings.
        key = (name or "", None) if name == "rewrite-requirements" else (finding.code, finding.path)
        if fixer is None or key in done:
            continue
        done.add(key)
        result = fixer(project, finding)
        if result is not None:
            applied.append(result)
    return applied
