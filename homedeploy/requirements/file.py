"""Reading a requirements file into one record per logical line, the way pip reads it.

A polluted ``pip freeze`` arrives in every shape: UTF-16 from PowerShell's ``>``, a UTF-8 BOM, CRLF
endings, ``-r``/``-c`` includes, ``--index-url`` options, ``-e`` lines, hashes, and the
``name @ file:///...`` lines conda environments emit. Each logical line becomes a
:class:`RequirementLine` carrying its file, line number and raw text, so every verdict can point at
the exact place; nothing here raises on bad content: a line pip would reject becomes an
``invalid`` record quoting pip's reason.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homedeploy.errors import UsageError
from homedeploy.fileio import read_bytes

REQUIREMENT = "requirement"
OPTION = "option"
INCLUDE = "include"
EDITABLE = "editable"
URL = "url"
LOCAL_PATH = "local path"
INVALID = "invalid"

_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_HASH_RE = re.compile(r"\s--hash[=\s]+(\S+)")
_PER_REQ_OPTION_RE = re.compile(r"\s(--config-settings|--global-option|--install-option)[=\s]+\S+")
_URL_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_VCS_RE = re.compile(r"^(git|hg|svn|bzr)\+", re.IGNORECASE)
_EGG_RE = re.compile(r"[#&]egg=([A-Za-z0-9_.\-\[\],]+)")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tar")
_PEP263_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-_.a-zA-Z0-9]+)")

# pip's requirements-file options (pip/_internal/req/req_file.py) and whether each takes a value.
_OPTIONS_WITH_VALUE = {
    "-r": "--requirement",
    "--requirement": "--requirement",
    "-c": "--constraint",
    "--constraint": "--constraint",
    "-e": "--editable",
    "--editable": "--editable",
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "--trusted-host": "--trusted-host",
    "--only-binary": "--only-binary",
    "--no-binary": "--no-binary",
    "--use-feature": "--use-feature",
    "--config-settings": "--config-settings",
    "--global-option": "--global-option",
}
_OPTIONS_WITHOUT_VALUE = {"--no-index", "--pre", "--prefer-binary", "--require-hashes"}


@dataclass(frozen=True)
class RequirementLine:
    """One logical line of a requirements file (continuations joined, comment removed).

    ``kind`` is one of requirement, option, include, editable, url, local path or invalid.
    ``reason`` holds pip's complaint for invalid lines; ``option``/``value`` hold an option line's
    flag and argument; ``constraint`` marks lines read from a ``-c`` file.
    """

    path: Path
    line: int
    text: str
    kind: str
    name: str | None = None
    specifier: str = ""
    markers: str | None = None
    extras: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()
    url: str | None = None
    option: str | None = None
    value: str | None = None
    reason: str | None = None
    constraint: bool = False

    @property
    def is_local(self) -> bool:
        """True for paths and ``file:`` URLs, which do not exist on Heroku's build machine."""
        if self.url is None:
            return False
        return not _VCS_RE.match(self.url) and _is_local_reference(self.url)

    @property
    def pinned_version(self) -> str | None:
        """The version of an exact ``==``/``===`` pin (without wildcards), else None."""
        if self.kind != REQUIREMENT or not self.specifier:
            return None
        from packaging.specifiers import SpecifierSet

        specs = list(SpecifierSet(self.specifier))
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            return specs[0].version
        return None


@dataclass
class RequirementsFile:
    """A requirements file with its includes, flattened in reading order."""

    path: Path
    encoding: str
    lines: list[RequirementLine] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def decode_requirements(raw: bytes) -> tuple[str, str]:
    """Decode bytes as pip would (BOMs, a PEP 263 coding line, else UTF-8); never raises.

    Returns ``(text, encoding)``. UTF-16 without a BOM (NUL bytes between ASCII letters) is
    recognised too, since that is what a mangled PowerShell redirect looks like.
    """
    boms = (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    )
    for bom, encoding in boms:
        if raw.startswith(bom):
            body = raw[len(bom) :]
            label = "utf-8-sig" if encoding == "utf-8-sig" else encoding.replace("-le", "")
            label = label.replace("-be", "")
            return body.decode(encoding.replace("-sig", ""), errors="replace"), label
    if len(raw) >= 4 and raw[1:2] == b"\x00" and raw[3:4] == b"\x00" and raw[0:1] != b"\x00":
        return raw.decode("utf-16-le", errors="replace"), "utf-16"
    if len(raw) >= 4 and raw[0:1] == b"\x00" and raw[2:3] == b"\x00" and raw[1:2] != b"\x00":
        return raw.decode("utf-16-be", errors="replace"), "utf-16"
    for line in raw.split(b"\n")[:2]:
        match = _PEP263_RE.match(line)
        if match:
            encoding = match.group(1).decode("ascii")
            try:
                return raw.decode(encoding), encoding
            except (LookupError, UnicodeDecodeError):
                break
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations and strip comments; returns (first line number, text)."""
    result: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.replace("\x00", "")
        if not pending:
            start = number
        if line.endswith("\\") and not _COMMENT_RE.search(line):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = _COMMENT_RE.sub("", "".join(pending)).strip()
        pending = []
        if joined:
            result.append((start, joined))
    if pending:
        joined = _COMMENT_RE.sub("", "".join(pending)).strip()
        if joined:
            result.append((start, joined))
    return result


def _split_option(text: str) -> tuple[str, str | None] | None:
    """``("--index-url", "URL")`` for an option line, in any of pip's spellings; None otherwise."""
    head, _, rest = text.partition(" ")
    if "=" in head and head.startswith("--"):
        head, _, inline = head.partition("=")
        rest = (inline + " " + rest).strip()
    elif head[:2] in {"-r", "-c", "-e", "-i", "-f"} and len(head) > 2 and not head.startswith("--"):
        rest = (head[2:] + " " + rest).strip()
        head = head[:2]
    if head in _OPTIONS_WITH_VALUE:
        return _OPTIONS_WITH_VALUE[head], rest.strip() or None
    if head in _OPTIONS_WITHOUT_VALUE:
        return head, None
    return None


def _name_from_url(url: str) -> str | None:
    """The project name in ``#egg=`` or in a wheel/sdist file name at the end of a URL or path."""
    egg = _EGG_RE.search(url)
    if egg:
        return egg.group(1).split("[")[0]
    tail = url.split("#")[0].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if tail.endswith(".whl"):
            return str(parse_wheel_filename(tail)[0])
        if tail.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(tail)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _is_local_reference(target: str) -> bool:
    return target.startswith("file:") or not _URL_SCHEME_RE.match(target)


def _looks_like_path(text: str) -> bool:
    """pip treats a line as a path when it has a path separator or ends like an archive."""
    return (
        text.startswith((".", "/", "~"))
        or "/" in text.split(";")[0].split("@")[0]
        or "\\" in text
        or text.lower().endswith(_ARCHIVE_SUFFIXES)
    )


def parse_line(path: Path, number: int, text: str, *, constraint: bool = False) -> RequirementLine:
    """Classify and parse one logical line; invalid content gives an ``invalid`` record."""
    from packaging.requirements import InvalidRequirement, Requirement

    base: dict[str, Any] = {"path": path, "line": number, "text": text, "constraint": constraint}
    if text.startswith("-"):
        split = _split_option(text)
        if split is None:
            flag = text.split()[0].split("=")[0]
            return RequirementLine(
                **base, kind=INVALID, option=flag, reason=f"no such option: {flag}"
            )
        flag, value = split
        if flag not in _OPTIONS_WITHOUT_VALUE and value is None:
            return RequirementLine(
                **base, kind=INVALID, option=flag, reason=f"{flag} option requires 1 argument"
            )
        if flag in ("--requirement", "--constraint"):
            return RequirementLine(**base, kind=INCLUDE, option=flag, value=value)
        if flag == "--editable":
            target = (value or "").strip("'\"")
            return RequirementLine(
                **base,
                kind=EDITABLE,
                option=flag,
                value=target,
                name=_name_from_url(target),
                url=target,
            )
        return RequirementLine(**base, kind=OPTION, option=flag, value=value)

    hashes = tuple(_HASH_RE.findall(" " + text))
    requirement_text = _PER_REQ_OPTION_RE.sub("", _HASH_RE.sub("", " " + text)).strip()
    if _VCS_RE.match(requirement_text) or (
        _URL_SCHEME_RE.match(requirement_text) and "@" not in requirement_text.split("://")[0]
    ):
        url = requirement_text.split(";")[0].strip()
        kind = LOCAL_PATH if url.startswith("file:") else URL
        return RequirementLine(**base, kind=kind, name=_name_from_url(url), url=url, hashes=hashes)
    if _looks_like_path(requirement_text) and "@" not in requirement_text:
        location = requirement_text.split(";")[0].strip()
        return RequirementLine(
            **base, kind=LOCAL_PATH, name=_name_from_url(location), url=location, hashes=hashes
        )
    try:
        requirement = Requirement(requirement_text)
    except InvalidRequirement as error:
        detail = str(error).splitlines()[0] if str(error) else "not a valid requirement"
        return RequirementLine(
            **base,
            kind=INVALID,
            hashes=hashes,
            reason=f"Invalid requirement: {requirement_text!r}: {detail}",
        )
    except Exception as error:  # packaging may raise other errors on odd input; never crash
        return RequirementLine(
            **base, kind=INVALID, reason=f"Invalid requirement: {requirement_text!r}: {error}"
        )
    kind = REQUIREMENT
    if requirement.url:
        kind = LOCAL_PATH if _is_local_reference(requirement.url) else URL
    return RequirementLine(
        **base,
        kind=kind,
        name=requirement.name,
        specifier=str(requirement.specifier),
        markers=str(requirement.marker) if requirement.marker is not None else None,
        extras=tuple(sorted(requirement.extras)),
        hashes=hashes,
        url=requirement.url,
    )


def read_requirements(path: Path) -> RequirementsFile:
    """Read ``path`` and everything it includes; raises :class:`UsageError` if it is unreadable.

    Includes are resolved relative to the including file (as pip does); a file already being
    read, or one that cannot be opened, becomes an ``invalid`` line instead of an exception, so
    one bad include does not hide the rest of the report.
    """
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        raise UsageError(
            f"no requirements file at {path}",
            path=path,
            fix="pass the file to check (homedeploy check-reqs path/to/requirements.txt), "
            "or --app for the app folder holding requirements.txt.",
        ) from None
    except IsADirectoryError:
        raise UsageError(
            f"{path} is a folder, not a requirements file",
            path=path,
            fix="pass the requirements file itself, or the folder with --app.",
        ) from None
    except OSError as error:
        raise UsageError(
            f"cannot read {path}: {error.strerror}", path=path, fix="check the file's permissions."
        ) from None
    text, encoding = decode_requirements(raw)
    result = RequirementsFile(path=path, encoding=encoding)
    _read_into(result, path, text, constraint=False, stack=[path.resolve()])
    return result


def _read_into(
    result: RequirementsFile, path: Path, text: str, *, constraint: bool, stack: list[Path]
) -> None:
    result.files.append(path)
    for number, logical in logical_lines(text):
        parsed = parse_line(path, number, logical, constraint=constraint)
        if parsed.kind != INCLUDE:
            result.lines.append(parsed)
            continue
        target = _include_target(path, parsed.value or "")
        if target is None:
            result.lines.append(parsed)  # a URL include: reported, not followed
            continue
        if target.resolve() in stack:
            result.lines.append(
                _invalid(parsed, f"include cycle: {parsed.value} is already being read")
            )
            continue
        try:
            included_raw = read_bytes(target)
        except OSError as error:
            result.lines.append(
                _invalid(
                    parsed,
                    f"Could not open requirements file: [Errno {error.errno}] "
                    f"{error.strerror}: {parsed.value!r}",
                )
            )
            continue
        result.lines.append(parsed)
        included_text, _ = decode_requirements(included_raw)
        _read_into(
            result,
            target,
            included_text,
            constraint=constraint or parsed.option == "--constraint",
            stack=[*stack, target.resolve()],
        )


def _include_target(including: Path, value: str) -> Path | None:
    """The file an include names, relative to the including file; None for remote URLs."""
    value = value.strip().strip("'\"")
    try:
        parts = shlex.split(value)
    except ValueError:
        parts = [value]
    value = parts[0] if parts else value
    if _URL_SCHEME_RE.match(value) and not value.startswith("file:"):
        return None
    if value.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        value = unquote(urlsplit(value).path)
    try:
        candidate = Path(value).expanduser()
    except RuntimeError:  # ~user of an unknown user: pip fails to open it the same way
        candidate = Path(value)
    return candidate if candidate.is_absolute() else including.parent / candidate


def _invalid(parsed: RequirementLine, reason: str) -> RequirementLine:
    from dataclasses import replace

    return replace(parsed, kind=INVALID, reason=reason)
