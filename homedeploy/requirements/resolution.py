"""Pinning a set of top-level packages for the target Python and platform, with pip's resolver.

pip-tools pins for the interpreter it runs under, so it is used when that interpreter is the
target's Python (this one, or a matching one found on the machine, with pip-tools in a cached
venv). Otherwise pip itself resolves for the target: ``pip install --dry-run --report`` with
``--python-version``/``--platform``/``--abi`` and ``--only-binary=:all:``, which picks exactly
the wheels Heroku's pip would install. Either way the result is the same list of pins, kept in
the disk cache so a repeated check costs no resolver run.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.errors import CheckFailed, NetworkError
from homedeploy.project.venv import find_interpreter
from homedeploy.requirements import cache as disk_cache
from homedeploy.requirements.index import DEFAULT_TTL, IndexSources
from homedeploy.requirements.platform import TargetPlatform

CACHE_SECTION = "resolutions"
REQUESTED = "-r requirements.in"
PIP_TIMEOUT_SECONDS = 15
RESOLVER_DEADLINE = 600
_NETWORK_HINTS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Could not fetch URL",
    "ConnectTimeoutError",
    "Read timed out",
    "Connection refused",
)


@dataclass(frozen=True)
class Pin:
    """One resolved package: canonical ``name``, ``version``, and who needs it."""

    name: str
    version: str
    required_by: tuple[str, ...] = ()


@dataclass
class Resolution:
    """The pins for a requirements.in on a target, and a sentence saying how they were made."""

    pins: list[Pin]
    method: str
    compiled_text: str | None = None
    from_cache: bool = False
    ranges: dict[str, list[str]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.versions = {pin.name: pin.version for pin in self.pins}


log = logging.getLogger("homedeploy.pip")

PIP_MINIMUM = "23.1"
"""The oldest pip with what homedeploy uses (``install --dry-run --report``, stable report
format); declared in pyproject.toml too, and installed into the pip-tools venvs."""


def _own_pip_checked() -> None:
    """homedeploy resolves with the pip installed beside it; an older one is reported as such,
    so a missing pip feature is never blamed on the user's pins."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import Version

    try:
        found = version("pip")
    except PackageNotFoundError:
        found = None
    if found is None or Version(found) < Version(PIP_MINIMUM):
        raise CheckFailed(
            f"homedeploy's own pip is {found or 'missing'} at {sys.executable}; it needs pip >= "
            f"{PIP_MINIMUM} (install --dry-run --report)",
            fix=f"{sys.executable} -m pip install 'pip>={PIP_MINIMUM}', or reinstall homedeploy.",
        )


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _tool_python(interpreter: str, python: str) -> str:
    """A Python with pip-tools importable: ``interpreter`` itself, or a cached venv of it."""
    if interpreter == sys.executable:
        return interpreter
    venv = disk_cache.cache_root() / "tools" / f"pip-tools-py{python}"
    venv_python = venv / "bin" / "python"
    marker = venv / ".pip-tools-installed"
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        steps = [
            [interpreter, "-m", "venv", str(venv)],
            [
                str(venv_python),
                *("-m", "pip", "install", "--quiet"),
                *(f"pip>={PIP_MINIMUM}", "pip-tools>=7.4"),
            ],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=RESOLVER_DEADLINE)
            if done.returncode != 0:
                raise CheckFailed(
                    f"could not prepare pip-tools for Python {python}: {_pip_error(done.stderr)}",
                    fix="retry, or pass --python for an interpreter that is installed.",
                )
        marker.touch()
    return str(venv_python)


def _pip_error(stderr: str) -> str:
    """pip's ERROR lines (the reason), without its warnings and progress."""
    errors = [line[7:].strip() for line in stderr.splitlines() if line.startswith("ERROR: ")]
    if errors:
        return " ".join(errors)[:1500]
    tail = [line.strip() for line in stderr.splitlines() if line.strip()]
    return " ".join(tail[-3:])[:1500] or "no output"


def _raise_for(stderr: str, what: str) -> None:
    if any(hint in stderr for hint in _NETWORK_HINTS):
        raise NetworkError(
            f"{what} could not reach the package index: {_pip_error(stderr)}",
            fix="check the network and pip's index settings (pip config list), "
            "or use --offline after one successful run.",
        )
    raise CheckFailed(
        f"{what} found no installable set: {_pip_error(stderr)}",
        fix="loosen or remove the version in requirements.in that pip names, "
        "or choose another Python with --python.",
    )


def _required_by(
    report: dict[str, object], target: TargetPlatform
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each installed name: the installed names requiring it, and their version ranges."""
    from packaging.requirements import InvalidRequirement, Requirement

    installs = report.get("install", [])
    assert isinstance(installs, list)
    names = {_canonical(item["metadata"]["name"]) for item in installs}
    needed_by: dict[str, list[str]] = {name: [] for name in names}
    ranges: dict[str, list[str]] = {name: [] for name in names}
    environment = target.marker_environment()
    for item in installs:
        parent = _canonical(item["metadata"]["name"])
        extras = ["", *list(item.get("requested_extras") or [])]
        for text in item["metadata"].get("requires_dist") or []:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker is not None and not any(
                requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras
            ):
                continue
            child = _canonical(requirement.name)
            if child in needed_by and parent not in needed_by[child]:
                needed_by[child].append(parent)
            if child in ranges and str(requirement.specifier):
                ranges[child].append(str(requirement.specifier))
        if item.get("requested"):
            needed_by[parent].insert(0, REQUESTED)
    return needed_by, ranges


def _resolve_with_pip(
    in_text: str, constraints: str, target: TargetPlatform, workdir: Path
) -> Resolution:
    _own_pip_checked()
    (workdir / "requirements.in").write_text(in_text, encoding="utf-8")
    report = workdir / "report.json"
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--timeout",
        str(PIP_TIMEOUT_SECONDS),
        "--retries",
        "1",
        "--report",
        str(report),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        target.python,
        "--abi",
        target.abi,
    ]
    for platform in target.platforms():
        command += ["--platform", platform]
    command += ["-r", "requirements.in"]
    if constraints:
        (workdir / "constraints.txt").write_text(constraints, encoding="utf-8")
        command += ["-c", "constraints.txt"]
    done = _run(command, workdir)
    if done.returncode != 0 or not report.exists():
        _raise_for(done.stderr, f"pip (resolving for {target.description})")
    data = json.loads(report.read_text(encoding="utf-8"))
    needed_by, ranges = _required_by(data, target)
    pins = [
        Pin(
            _canonical(item["metadata"]["name"]),
            str(item["metadata"]["version"]),
            tuple(needed_by.get(_canonical(item["metadata"]["name"]), [])),
        )
        for item in data.get("install", [])
    ]
    pins.sort(key=lambda pin: pin.name)
    return Resolution(pins, f"resolved by pip for {target.description}", ranges=ranges)


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    environment["PIP_NO_INPUT"] = "1"
    environment.pop("PIP_DEFAULT_TIMEOUT", None)
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=RESOLVER_DEADLINE,
            env=environment,
        )
        log.debug(
            "%s (exit %s)\n%s%s", shlex.join(command), done.returncode, done.stdout, done.stderr
        )
        return done
    except subprocess.TimeoutExpired:
        raise NetworkError(
            f"the resolver did not finish within {RESOLVER_DEADLINE} s",
            fix="check the network and pip's index settings (pip config list).",
        ) from None


def parse_compiled(text: str) -> list[Pin]:
    """Pins and their ``# via`` annotations from pip-compile's output."""
    pins: list[Pin] = []
    current: tuple[str, str] | None = None
    via: list[str] = []
    reading_via = False

    def flush() -> None:
        if current is not None:
            pins.append(Pin(current[0], current[1], tuple(via)))

    for raw in text.splitlines():
        line = raw.rstrip()
        if line and not line.startswith((" ", "#", "-")):
            flush()
            requirement = line.split(";")[0].split(" ")[0]
            name, _, version = requirement.partition("==")
            current = (_canonical(name.split("[")[0]), version.strip())
            via = []
            reading_via = False
        elif "# via" in line:
            rest = line.split("# via", 1)[1].strip()
            reading_via = True
            if rest:
                via.append(_via_name(rest))
        elif reading_via and line.strip().startswith("#"):
            entry = line.strip()[1:].strip()
            if entry:
                via.append(_via_name(entry))
        else:
            reading_via = False
    flush()
    return pins


def _via_name(entry: str) -> str:
    return REQUESTED if entry.startswith("-r ") else _canonical(entry.split()[0])


def _resolve_with_pip_tools(
    in_text: str, preferences: str, target: TargetPlatform, interpreter: str, workdir: Path
) -> Resolution:
    tool = _tool_python(interpreter, target.python)
    (workdir / "requirements.in").write_text(in_text, encoding="utf-8")
    output = workdir / "requirements.txt"
    # pip-compile keeps pins already in its output file when they still fit: our preferences.
    output.write_text(preferences, encoding="utf-8")
    command = [
        tool,
        "-m",
        "piptools",
        "compile",
        "--quiet",
        "--no-header",
        "--no-emit-index-url",
        "--no-emit-trusted-host",
        "--no-emit-find-links",
        "--strip-extras",
        "--pip-args",
        f"--prefer-binary --timeout {PIP_TIMEOUT_SECONDS} --retries 1",
        "--output-file",
        "requirements.txt",
        "requirements.in",
    ]
    done = _run(command, workdir)
    if done.returncode != 0:
        _raise_for(done.stderr, "pip-compile")
    text = output.read_text(encoding="utf-8")
    return Resolution(
        parse_compiled(text), f"compiled with pip-tools under {interpreter}", compiled_text=text
    )


def _fits(preference: str, fresh: Resolution) -> bool:
    """Whether ``name==version`` satisfies every range the fresh resolution's packages ask."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    name, _, version = preference.partition("==")
    try:
        wanted = Version(version)
        return all(
            SpecifierSet(spec).contains(wanted, prereleases=True)
            for spec in fresh.ranges.get(_canonical(name), [])
        )
    except (InvalidVersion, InvalidSpecifier):
        return False


def _cached_run(
    in_text: str,
    target: TargetPlatform,
    sources: IndexSources,
    preferences: list[str],
    interpreter: str | None,
    offline: bool,
) -> Resolution:
    method = f"pip-tools:{interpreter}" if interpreter else "pip-report"
    key = json.dumps(
        [
            method,
            target.python,
            target.platforms(),
            sources.index_urls,
            sources.find_links,
            in_text,
            sorted(preferences),
        ]
    )
    entry = disk_cache.read_entry(CACHE_SECTION, key)
    if entry is not None and (offline or time.time() - float(entry["fetched"]) < DEFAULT_TTL):
        pins = [Pin(name, version, tuple(via)) for name, version, via in entry["pins"]]
        return Resolution(
            pins,
            entry["method"],
            entry.get("compiled_text"),
            from_cache=True,
            ranges=entry.get("ranges") or {},
        )
    if offline:
        raise NetworkError(
            "--offline: no cached resolution for this set of packages and target",
            fix="run once without --offline to fill the cache.",
        )
    with tempfile.TemporaryDirectory(prefix="homedeploy-resolve-") as folder:
        workdir = Path(folder)
        constraints = "".join(f"{pin}\n" for pin in preferences)
        if interpreter:
            result = _resolve_with_pip_tools(in_text, constraints, target, interpreter, workdir)
        else:
            result = _resolve_with_pip(in_text, constraints, target, workdir)
    disk_cache.write_entry(
        CACHE_SECTION,
        key,
        {
            "fetched": time.time(),
            "method": result.method,
            "compiled_text": result.compiled_text,
            "ranges": result.ranges,
            "pins": [[pin.name, pin.version, list(pin.required_by)] for pin in result.pins],
        },
    )
    return result


def resolve(
    in_text: str,
    target: TargetPlatform,
    sources: IndexSources,
    *,
    preferences: list[str],
    use_pip_tools: bool,
    offline: bool,
) -> Resolution:
    """Pin ``in_text`` (a requirements.in) for ``target``.

    The newest installable set is resolved first. ``preferences`` (``name==version`` pins from
    the user's file that suit the target) are then kept where they fit that set's version
    ranges, so a sound hand-pinned file stays as it is and an old pin never drags a newer
    top-level package back. ``use_pip_tools`` asks for pip-compile under a matching interpreter
    when one is installed. Results are cached; ``offline`` answers from the cache only.
    """
    interpreter = None
    if use_pip_tools:
        found = find_interpreter(target.python)
        interpreter = found.path if found.matches else None
    fresh = _cached_run(in_text, target, sources, [], interpreter, offline)
    # pip-compile applies preferences itself; pip's constraints are hard, so pre-filter them.
    wanted = [
        pin
        for pin in preferences
        if _canonical(pin.partition("==")[0]) in fresh.versions
        and (interpreter or _fits(pin, fresh))
    ]
    differing = [
        pin
        for pin in wanted
        if fresh.versions.get(_canonical(pin.partition("==")[0])) != pin.partition("==")[2]
    ]
    if not differing:
        return fresh
    try:
        return _cached_run(in_text, target, sources, sorted(wanted), interpreter, offline)
    except CheckFailed:
        return fresh


def resolve_constrained(
    in_text: str,
    constraints: list[str],
    target: TargetPlatform,
    sources: IndexSources,
    *,
    offline: bool,
) -> Resolution:
    """Pin ``in_text`` for ``target`` with ``constraints`` (``name==version``) held exactly, by
    pip for the target. Raises :class:`CheckFailed` with pip's reason when they cannot hold."""
    return _cached_run(in_text, target, sources, sorted(constraints), None, offline)
