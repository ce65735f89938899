"""Reading a requirements.txt the way pip does, offline, to find the lines pip would reject.

pip stops at the first line it cannot parse (``ERROR: Invalid requirement: ... (from line N of
requirements.txt)``), and Heroku reports it only after the upload. Reading the file with pip's own
rules (backslash continuations, `` #`` comments, option lines, URLs and paths) and the same PEP 508
parser (:mod:`packaging`) finds every such line at once, with its line number. It also records
which distributions are named, so doctor can tell whether gunicorn and Flask will be installed.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

COMMENT_RE = re.compile(r"(^|\s+)#.*$")
URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^(git|hg|svn|bzr)\+")
DIRECT_REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
EGG_RE = re.compile(r"[#&]egg=([A-Za-z0-9_.-]+)")
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar")

# pip's requirements-file options (pip/_internal/req/req_file.py), with whether they take a value.
GLOBAL_OPTIONS: dict[str, bool] = {
    "-r": True,
    "--requirement": True,
    "-c": True,
    "--constraint": True,
    "-e": True,
    "--editable": True,
    "-i": True,
    "--index-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "-f": True,
    "--find-links": True,
    "--pre": False,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--only-binary": True,
    "--no-binary": True,
    "--trusted-host": True,
    "--use-feature": True,
}
PER_REQUIREMENT_OPTIONS = frozenset({"--hash", "--config-settings", "--global-option"})


@dataclass(frozen=True)
class RequirementLine:
    """One logical line of a requirements file (continuations joined, comment removed)."""

    line: int
    text: str
    kind: str  # "requirement", "url", "path", "editable", "include", "option"
    name: str | None = None  # canonical distribution name when known
    has_hash: bool = False
    problem: str | None = None
    local_only: bool = False  # points at a path that exists only on this machine
    specifier: str = ""  # the version specifier of a named requirement ("==1.0.2")


@dataclass
class RequirementsFile:
    """A parsed requirements file and the files it includes (``-r other.txt``)."""

    path: Path
    lines: list[RequirementLine] = field(default_factory=list)
    includes: list[RequirementsFile] = field(default_factory=list)
    unreadable: str | None = None

    def all_lines(self) -> list[tuple[Path, RequirementLine]]:
        """Every line of this file and its includes, with the file it came from."""
        found = [(self.path, line) for line in self.lines]
        for include in self.includes:
            found.extend(include.all_lines())
        return found

    def names(self) -> set[str]:
        """Canonical names of every distribution named here or in included files."""
        return {line.name for _, line in self.all_lines() if line.name}


def _decode(raw: bytes) -> str | None:
    """Decode like pip's ``auto_decode``: honour a BOM (UTF-8/16/32), else UTF-8."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) after joining ``\\`` continuations and dropping comments."""
    result: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        if raw.endswith("\\") and not COMMENT_RE.match(raw):
            buffer.append(raw[:-1])
            continue
        buffer.append(raw)
        joined = "".join(buffer)
        buffer = []
        stripped = COMMENT_RE.sub("", joined).strip()
        if stripped:
            result.append((start, stripped))
    if buffer:
        stripped = COMMENT_RE.sub("", "".join(buffer)).strip()
        if stripped:
            result.append((start, stripped))
    return result


def _name_from_link(link: str) -> str | None:
    from packaging.utils import canonicalize_name

    match = EGG_RE.search(link)
    if match:
        return canonicalize_name(match.group(1))
    filename = link.rstrip("/").rsplit("/", 1)[-1]
    if filename.endswith(".whl"):
        return canonicalize_name(filename.split("-", 1)[0])
    return None


def _is_local_only(location: str, base: Path) -> bool:
    """A path or file: URL outside the project, which the build machine will not have."""
    if location.startswith("file:"):
        location = re.sub(r"^file:(//)?", "", location)
    if re.match(r"^[A-Za-z]:[\\/]", location):  # a Windows drive path
        return True
    path = Path(location)
    if not path.is_absolute():
        return False
    try:
        path.resolve().relative_to(base.resolve())
    except ValueError:
        return True
    return False


def _requirement_line(number: int, text: str, base: Path) -> RequirementLine:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    words = text.split()
    spec_words: list[str] = []
    has_hash = False
    for index, word in enumerate(words):
        if word.startswith("-"):
            option = word.split("=", 1)[0]
            if option not in PER_REQUIREMENT_OPTIONS:
                return RequirementLine(
                    number, text, "requirement", problem=f"pip does not accept {option!r} here"
                )
            has_hash = has_hash or option == "--hash" or any(w.startswith("--hash") for w in words)
            break
        spec_words.append(words[index])
    spec = " ".join(spec_words)
    if URL_RE.match(spec):
        local = spec.startswith("file:") and _is_local_only(spec, base)
        return RequirementLine(
            number, text, "url", _name_from_link(spec), has_hash, local_only=local
        )
    looks_like_path = spec.startswith((".", "/", "~")) or (
        "/" in spec and "@" not in spec and ";" not in spec
    )
    direct_reference = DIRECT_REFERENCE_RE.match(spec) is not None
    if not direct_reference and (looks_like_path or spec.endswith(ARCHIVE_SUFFIXES)):
        local = _is_local_only(spec, base)
        problem = None
        if not local and not (base / spec).exists():
            problem = f"the path {spec!r} does not exist in the project"
        return RequirementLine(
            number, text, "path", _name_from_link(spec), has_hash, problem, local_only=local
        )
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as error:
        reason = str(error).splitlines()[0]
        return RequirementLine(
            number, text, "requirement", problem=f"Invalid requirement: {reason}"
        )
    local = bool(requirement.url and _is_local_only(requirement.url, base))
    return RequirementLine(
        number,
        text,
        "requirement",
        canonicalize_name(requirement.name),
        has_hash,
        local_only=local,
        specifier=str(requirement.specifier),
    )


def _option_line(
    number: int, text: str, base: Path, seen: set[Path]
) -> tuple[RequirementLine, RequirementsFile | None]:
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    option, _, inline = words[0].partition("=")
    if not option.startswith("--") and len(option) > 2 and option[:2] in GLOBAL_OPTIONS:
        option, inline = option[:2], words[0][2:]  # "-rbase.txt", "-e."
    if option not in GLOBAL_OPTIONS:
        return RequirementLine(number, text, "option", problem=f"no such option: {option}"), None
    takes_value = GLOBAL_OPTIONS[option]
    value = inline or (words[1] if len(words) > 1 else "")
    if takes_value and not value:
        return RequirementLine(number, text, "option", problem=f"{option} needs a value"), None
    if option in ("-e", "--editable"):
        inner = _requirement_line(number, value, base)
        if inner.kind == "requirement" and inner.problem is None:
            problem = f"{value!r} is not a path or VCS URL that can be installed in editable mode"
            return RequirementLine(number, text, "editable", inner.name, problem=problem), None
        name = inner.name
        if inner.kind == "path" and inner.problem is None and not inner.local_only:
            target = base / value
            if not ((target / "setup.py").is_file() or (target / "pyproject.toml").is_file()):
                problem = f"{value!r} has no setup.py or pyproject.toml to install"
                return RequirementLine(number, text, "editable", name, problem=problem), None
        return (
            RequirementLine(
                number, text, "editable", name, problem=inner.problem, local_only=inner.local_only
            ),
            None,
        )
    if option in ("-r", "--requirement", "-c", "--constraint"):
        target = (base / value).resolve()
        if not target.is_file():
            return (
                RequirementLine(
                    number,
                    text,
                    "include",
                    problem=f"Could not open requirements file: {value} does not exist",
                ),
                None,
            )
        included = None
        if option in ("-r", "--requirement") and target not in seen:
            included = read_requirements(target, _seen=seen)
        return RequirementLine(number, text, "include"), included
    return RequirementLine(number, text, "option"), None


def read_requirements(path: Path, *, _seen: set[Path] | None = None) -> RequirementsFile:
    """Parse ``path`` (and files it includes with ``-r``) without touching the network."""
    seen = _seen if _seen is not None else set()
    seen.add(path.resolve())
    result = RequirementsFile(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        result.unreadable = f"cannot read {path.name}: {error.strerror}"
        return result
    if b"\x00" in raw and not raw.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        result.unreadable = f"{path.name} contains NUL bytes; it is not a text file pip can read"
        return result
    text = _decode(raw)
    if text is None:
        result.unreadable = f"{path.name} is not UTF-8 text"
        return result
    base = path.parent
    for number, line in logical_lines(text):
        if line.startswith("-"):
            parsed, included = _option_line(number, line, base, seen)
            result.lines.append(parsed)
            if included is not None:
                result.includes.append(included)
        else:
            result.lines.append(_requirement_line(number, line, base))
    return result
