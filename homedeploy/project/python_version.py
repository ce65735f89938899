"""Which Python Heroku will build an app with, read exactly as the Python buildpack reads it.

The buildpack (v351) looks at ``runtime.txt`` first (deprecated, but it wins), then a misspelt
``.python-version``, then ``.python-version``, then (Pipenv apps only) ``Pipfile.lock``'s
``python_full_version``/``python_version``, else its default major (3.14). It accepts ``N.N`` or
``N.N.N`` only, trims whitespace, drops ``#`` comments and blank lines, and rejects anything that is
not ASCII/UTF-8 text (a BOM or UTF-16 file is "Unable to read"). Reading it the same way here is
what lets homedeploy predict a build failure instead of discovering it after the push.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from homedeploy.fileio import read_bytes

DEFAULT_MAJOR = "3.14"
"""Heroku's default Python for new apps (buildpack v323 and later)."""

LATEST_PATCH: dict[str, str] = {
    "3.14": "3.14.7",
    "3.13": "3.13.15",
    "3.12": "3.12.14",
    "3.11": "3.11.16",
    "3.10": "3.10.21",
}
"""Majors the buildpack supports, with the patch release ``N.N`` resolves to."""

DEPRECATED_MAJORS = frozenset({"3.10"})

VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$")
RUNTIME_TXT_RE = re.compile(r"^python-((0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?)$")

MISSPELT_VERSION_FILES = (
    " .python-version",
    ". python-version",
    ".python_version.txt",
    ".python_version",
    ".python-version ",
    ",python-version",
    ".python-version.",
    ".python-version.py",
    ".python-version.rtf",
    ".python-version.txt",
    ".python-version.TXT",
    ".Python-version",
    ".python.version",
    ".pythonversion",
    "'.python-version'",
    "python_version.txt",
    "python_version",
    "python-version.",
    "python-version.txt",
    "python-version",
)


VersionCode = Literal[
    "python-eol",
    "python-unknown",
    "python-deprecated",
    "python-unknown-patch",
    "python-patch-outdated",
    "runtime-txt-deprecated",
    "runtime-txt-invalid",
    "python-version-encoding",
    "python-version-invalid",
    "python-version-empty",
    "python-version-multiple",
    "python-version-misspelt",
    "python-version-missing",
    "pipfile-lock-invalid",
    "pipfile-lock-version-invalid",
]
"""The problems the buildpack has with the version files (doctor reports them as build findings,
see ``homedeploy.doctor.codes``)."""


@dataclass(frozen=True)
class VersionProblem:
    """Something the buildpack would reject or warn about in the version files."""

    code: VersionCode
    severity: Literal["error", "warning"]
    message: str
    headline: str  # the buildpack's own headline, verbatim
    path: str | None = None
    line: int | None = None
    fix: str | None = None


@dataclass(frozen=True)
class RequestedPython:
    """The Python the build will use: ``major`` is ``X.Y``, ``full`` the exact patch if pinned."""

    major: str
    full: str | None
    origin: str  # ".python-version", "runtime.txt", "Pipfile.lock" or "default"
    path: str | None = None
    line: int | None = None
    problems: list[VersionProblem] = field(default_factory=list)

    @property
    def version_tuple(self) -> tuple[int, int]:
        major, minor = self.major.split(".")[:2]
        return int(major), int(minor)


def _decode_like_buildpack(raw: bytes) -> str | None:
    """Return text the buildpack can read, or None where it says "Unable to read".

    The buildpack runs ``file`` and accepts only ASCII/UTF-8 text without a BOM.
    """
    if raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _meaningful_lines(text: str) -> list[tuple[int, str]]:
    """Lines with surrounding whitespace trimmed, comments and blank lines dropped."""
    kept = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            kept.append((number, stripped))
    return kept


def _rejected(
    name: str, line: int | None, code: VersionCode, message: str, heroku: str, fix: str
) -> RequestedPython:
    """A version file the buildpack refuses: Heroku's default major, with the one error."""
    problem = VersionProblem(code, "error", message, heroku, name, line, fix)
    return RequestedPython(DEFAULT_MAJOR, None, name, name, line, [problem])


def _requested(
    version: str, name: str, line: int | None, extra: list[VersionProblem] | None = None
) -> RequestedPython:
    """What a valid ``X.Y`` or ``X.Y.Z`` in file ``name`` asks for, with the version's problems."""
    parts = version.split(".")
    return RequestedPython(
        f"{parts[0]}.{parts[1]}",
        version if len(parts) == 3 else None,
        name,
        name,
        line,
        [*_major_problems(version, name, name, line), *(extra or [])],
    )


def _major_problems(
    version: str, origin: str, path: str | None, line: int | None
) -> list[VersionProblem]:
    """End-of-life, unknown, deprecated and outdated-patch checks for a valid version string."""
    parts = version.split(".")
    major = f"{parts[0]}.{parts[1]}"
    problems: list[VersionProblem] = []
    # runtime.txt wants "python-X.Y"; better still is to leave it for .python-version.
    spelled = f"python-{DEFAULT_MAJOR}" if origin == "runtime.txt" else DEFAULT_MAJOR
    if (int(parts[0]), int(parts[1])) < (3, 10):
        problems.append(
            VersionProblem(
                "python-eol",
                "error",
                f"Python {major} has reached its upstream end-of-life; Heroku no longer builds it.",
                "Error: The requested Python version has reached end-of-life.",
                path,
                line,
                f"write {spelled} in {origin} (or another of {', '.join(LATEST_PATCH)}).",
            )
        )
    elif major not in LATEST_PATCH:
        problems.append(
            VersionProblem(
                "python-unknown",
                "error",
                f"Python {major} isn't a version the Heroku buildpack knows.",
                "Error: The requested Python version isn't recognised.",
                path,
                line,
                f"use one of {', '.join(LATEST_PATCH)} in {origin}.",
            )
        )
    else:
        if major in DEPRECATED_MAJORS:
            problems.append(
                VersionProblem(
                    "python-deprecated",
                    "warning",
                    f"Python {major} support is deprecated on Heroku (removed 6 January 2027).",
                    f"Warning: Support for Python {major} is deprecated!",
                    path,
                    line,
                    f"move to Python {DEFAULT_MAJOR}.",
                )
            )
        if len(parts) == 3:
            latest = LATEST_PATCH[major]
            latest_patch = int(latest.split(".")[2])
            if int(parts[2]) > latest_patch:
                problems.append(
                    VersionProblem(
                        "python-unknown-patch",
                        "error",
                        f"Python {version} is newer than any {major} release on Heroku ({latest}).",
                        "Error: The requested Python version isn't available.",
                        path,
                        line,
                        f"write just {major} so Heroku picks its latest patch.",
                    )
                )
            elif int(parts[2]) < latest_patch:
                problems.append(
                    VersionProblem(
                        "python-patch-outdated",
                        "warning",
                        f"Python {version} is pinned; {latest} is available.",
                        "Warning: A Python patch update is available!",
                        path,
                        line,
                        f"write just {major} to always get the latest patch.",
                    )
                )
    return problems


def _from_runtime_txt(path: Path) -> RequestedPython:
    name = "runtime.txt"
    deprecation = VersionProblem(
        "runtime-txt-deprecated",
        "warning",
        "runtime.txt is deprecated and takes precedence over .python-version.",
        "Warning: The runtime.txt file is deprecated.",
        name,
        None,
        "replace it with a .python-version file holding just the major version, e.g. 3.14.",
    )
    text = _decode_like_buildpack(read_bytes(path))
    lines = _meaningful_lines(text) if text is not None else []
    content = " ".join(value for _, value in lines)
    match = RUNTIME_TXT_RE.match(content)
    if text is None or match is None:
        return RequestedPython(
            DEFAULT_MAJOR,
            None,
            name,
            name,
            lines[0][0] if lines else None,
            [
                VersionProblem(
                    "runtime-txt-invalid",
                    "error",
                    f"runtime.txt must hold exactly python-X.Y (found {content!r}).",
                    "Error: Invalid Python version in runtime.txt.",
                    name,
                    lines[0][0] if lines else None,
                    "replace runtime.txt with a .python-version file containing e.g. 3.14.",
                ),
                deprecation,
            ],
        )
    version = match.group(1)
    line = lines[0][0]
    return _requested(version, name, line, [deprecation])


def _from_python_version(path: Path) -> RequestedPython:
    name = ".python-version"
    text = _decode_like_buildpack(read_bytes(path))
    if text is None:
        return _rejected(
            name,
            None,
            "python-version-encoding",
            ".python-version is not plain UTF-8 text (a byte-order mark or UTF-16).",
            "Error: Unable to read .python-version.",
            "save it as UTF-8 without BOM (homedeploy doctor --fix rewrites it).",
        )
    lines = _meaningful_lines(text)
    invalid = [(n, v) for n, v in lines if not VERSION_RE.match(v)]
    if invalid:
        number, value = invalid[0]
        return _rejected(
            name,
            number,
            "python-version-invalid",
            f"{value!r} is not a version the buildpack accepts (only X.Y or X.Y.Z).",
            "Error: Invalid Python version in .python-version.",
            f"write just the major version, e.g. {DEFAULT_MAJOR}.",
        )
    if not lines:
        return _rejected(
            name,
            None,
            "python-version-empty",
            ".python-version holds no version (empty or only comments).",
            "Error: No Python version found in .python-version.",
            f"write the major version, e.g. {DEFAULT_MAJOR}.",
        )
    if len(lines) > 1:
        return _rejected(
            name,
            lines[1][0],
            "python-version-multiple",
            "Several versions found: " + ", ".join(v for _, v in lines) + ".",
            "Error: Multiple Python versions found in .python-version.",
            "keep exactly one version line.",
        )
    number, version = lines[0]
    return _requested(version, name, number)


def _from_pipfile_lock(path: Path) -> RequestedPython | None:
    """Pipenv apps without a version file: ``_meta.requires.python_full_version``, else
    ``python_version`` (read with jq by the buildpack, only when no version file exists)."""
    import json

    name = "Pipfile.lock"
    try:
        data = json.loads(read_bytes(path).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        return _rejected(
            name,
            None,
            "pipfile-lock-invalid",
            f"Pipfile.lock is not valid JSON ({error}).",
            "Error: Can't parse Pipfile.lock.",
            "run `pipenv lock` again and commit the result.",
        )
    meta = data.get("_meta", {}) if isinstance(data, dict) else {}
    requires = meta.get("requires", {}) if isinstance(meta, dict) else {}
    if not isinstance(requires, dict):
        return None
    version = requires.get("python_full_version") or requires.get("python_version")
    if not version:
        return None
    field_name = "python_full_version" if requires.get("python_full_version") else "python_version"
    if not isinstance(version, str) or not VERSION_RE.match(version):
        return _rejected(
            name,
            None,
            "pipfile-lock-version-invalid",
            f"Pipfile.lock asks for Python {version!r} ({field_name}); wildcards aren't supported.",
            "Error: Invalid Python version in Pipfile.lock.",
            f"set {field_name} in Pipfile's [requires] to X.Y and run `pipenv lock`.",
        )
    return _requested(version, name, None)


def misspelt_version_file(project_dir: Path) -> str | None:
    """The first misspelt ``.python-version`` name present, as the buildpack checks them."""
    for candidate in MISSPELT_VERSION_FILES:
        if (project_dir / candidate).is_file():
            return candidate
    return None


def requested_python(project_dir: Path) -> RequestedPython:
    """Resolve the Python version Heroku will use for ``project_dir`` (first match wins)."""
    runtime_txt = project_dir / "runtime.txt"
    if runtime_txt.is_file():
        return _from_runtime_txt(runtime_txt)
    misspelt = misspelt_version_file(project_dir)
    if misspelt is not None:
        return _rejected(
            misspelt,
            None,
            "python-version-misspelt",
            f"The version file is named {misspelt!r}; the buildpack reads .python-version.",
            "Error: Your .python-version file is spelled incorrectly.",
            f"rename {misspelt!r} to .python-version.",
        )
    version_file = project_dir / ".python-version"
    if version_file.is_file():
        return _from_python_version(version_file)
    if (project_dir / "Pipfile.lock").is_file():
        from homedeploy.project.package_manager import choose_manager

        if choose_manager(project_dir).tool == "pipenv":
            from_lock = _from_pipfile_lock(project_dir / "Pipfile.lock")
            if from_lock is not None:
                return from_lock
    return RequestedPython(
        DEFAULT_MAJOR,
        None,
        "default",
        None,
        None,
        [
            VersionProblem(
                "python-version-missing",
                "warning",
                f"No Python version is specified; Heroku will use its default ({DEFAULT_MAJOR}).",
                "Warning: No Python version was specified.",
                None,
                None,
                f"add a .python-version file containing {DEFAULT_MAJOR}.",
            )
        ],
    )


def version_problems(
    version: str, origin: str, path: str | None = None, line: int | None = None
) -> list[VersionProblem]:
    """End-of-life/unknown/deprecated/patch checks for a version read elsewhere (Pipfile.lock)."""
    return _major_problems(version, origin, path, line)
