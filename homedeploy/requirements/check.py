"""The check-reqs engine: a verdict for every requirements line, shared by check-reqs and doctor.

One pass over a polluted freeze replaces the day of one-failure-per-push Heroku builds: read the
file (any encoding, includes), learn what the app needs (its imports, its Procfile), ask the
configured indexes about every name at once, resolve the needed set for Heroku's Python and
platform, then judge each line: keep, drop (conda-only, OS-only, local path, unused), repin (the
version is missing or has no wheel for the target), or error (the app needs it and nothing
installable exists). :mod:`homedeploy.requirements.writer` turns the result into files.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from homedeploy.errors import UsageError
from homedeploy.fileio import read_bytes
from homedeploy.requirements.app_needs import AppNeed, app_needs
from homedeploy.requirements.file import (
    EDITABLE,
    INCLUDE,
    INVALID,
    LOCAL_PATH,
    OPTION,
    REQUIREMENT,
    URL,
    RequirementLine,
    RequirementsFile,
    read_requirements,
)
from homedeploy.requirements.index import (
    RELEASES_TTL,
    IndexSources,
    PackageIndex,
    ProjectFiles,
    known_version,
    pip_index_sources,
    redact,
)
from homedeploy.requirements.metadata import DistMetadata, release_metadata
from homedeploy.requirements.platform import (
    CONDA_ONLY_RE,
    OS_ONLY_RE,
    TargetPlatform,
    target_for_app,
)
from homedeploy.requirements.provides import provided_import_names
from homedeploy.requirements.report import (
    ADD,
    DROP,
    ERROR,
    FAILS,
    FINE,
    FRAGILE,
    KEEP,
    REPIN,
    CheckReport,
    LineCause,
    LineVerdict,
    Severity,
    TopLevel,
    Verdict,
)
from homedeploy.requirements.resolution import REQUESTED, Resolution, resolve
from homedeploy.requirements.writer import write_requirements

if TYPE_CHECKING:
    from packaging.requirements import Requirement


class _Why(NamedTuple):
    """A reason for a verdict: the typed cause decisions use, and the text users read."""

    cause: LineCause
    text: str


_OS_TAG_RE = re.compile(r"(^|\.)(win|macosx|ios|android)")
# Source-only packages with a binary twin on the index.
BINARY_TWIN = {"psycopg2": "psycopg2-binary"}


PYTHON_RELEASED = {
    "3.9": "2020-10-05",
    "3.10": "2021-10-04",
    "3.11": "2022-10-24",
    "3.12": "2023-10-02",
    "3.13": "2024-10-07",
    "3.14": "2025-10-07",
}
"""When each CPython minor was released (python.org): a compiled project's sdist uploaded before
then was written against an older C API."""


class Assessment:
    """What the indexes say about one project, for the target.

    Computed lazily and from the newest version down: a freeze names projects with thousands
    of files, and most questions ("is this pin installable?", "what is the newest that is?")
    are answered after looking at a handful of versions.
    """

    def __init__(self, project: ProjectFiles, target: TargetPlatform) -> None:
        self.project = project
        self.target = target
        self.conda_only = bool(CONDA_ONLY_RE.match(project.name))
        self._usable: dict[str, bool] = {}

    @property
    def found(self) -> bool:
        return self.project.found and bool(self.project.files)

    def is_usable(self, version: str) -> bool:
        """Whether ``version`` has a non-yanked wheel that installs on the target."""
        if version not in self._usable:
            self._usable[version] = any(
                f.is_wheel
                and not f.yanked
                and self.target.wheel_fits(f.filename)
                and self.target.python_fits(f.requires_python)
                for f in self.project.files_for(version)
            )
        return self._usable[version]

    @cached_property
    def newest(self) -> str | None:
        """The newest final release with a wheel for the target (a pre-release only when the
        project has nothing else that installs)."""

        fallback = None
        for version in reversed(self.project.versions()):
            if self.is_usable(version):
                parsed = known_version(version)
                if not (parsed.is_prerelease or parsed.is_devrelease):
                    return version
                fallback = fallback or version
        return fallback

    @cached_property
    def newest_sdist(self) -> str | None:
        """The newest version with a (non-yanked) sdist that admits the target Python."""
        for version in reversed(self.project.versions()):
            files = self.project.files_for(version)
            if any(
                not f.is_wheel and not f.yanked and self.target.python_fits(f.requires_python)
                for f in files
            ):
                return version
        return None

    @cached_property
    def os_only(self) -> bool:
        """Known Windows/macOS-only, or only Windows/macOS wheels and no sdist."""
        if OS_ONLY_RE.match(self.project.name):
            return True
        wheels = [f for f in self.project.files if f.is_wheel]
        platform_only = bool(wheels) and all(
            _OS_TAG_RE.search(f.filename.rsplit("-", 1)[-1]) for f in wheels
        )
        return platform_only and self.newest_sdist is None

    @cached_property
    def compiled(self) -> bool:
        """Whether the project ships platform wheels (C extensions), judged from its files."""
        return any(f.is_wheel and not f.filename.endswith("-any.whl") for f in self.project.files)

    def source_build_fails(self, version: str) -> bool:
        """A heuristic, from the release's files: a compiled project's release with no wheel for
        the target whose wheels (if any) stop at an older Python cannot be built from source
        there either (its C code predates the target's C API: old numpy, scipy, greenlet)."""
        if not self.compiled:
            return False
        files = self.project.files_for(version)
        if not any(not f.is_wheel for f in files):
            return True  # no sdist: pip has nothing to build
        tags = {
            f.filename[:-4].split("-")[-3]
            for f in files
            if f.is_wheel and not f.filename.endswith("-any.whl")
        }
        newest = max(
            (int(tag[3:]) for part in tags for tag in part.split(".") if tag[3:].isdigit()),
            default=0,
        )
        target = int(self.target.abi[3:])
        if newest:
            return newest < target
        uploaded = self.first_upload(version)
        released = PYTHON_RELEASED.get(self.target.python)
        if uploaded and released:
            return uploaded < released  # made before the target Python existed
        return True

    def pure_fallback_only(self, version: str) -> int | None:
        """For a compiled project: the newest CPython minor ``version``'s compiled wheels are
        for, when the only wheel that fits the target is its pure-Python fallback and those
        compiled wheels stop before the target Python; None otherwise. Judged from the
        release's wheels, a heuristic: such a release predates the target Python (SQLAlchemy
        2.0.0-2.0.30 install from their pure wheel on 3.13 and fail at import)."""
        if not self.compiled:
            return None
        files = self.project.files_for(version)
        fitting = [
            f
            for f in files
            if f.is_wheel
            and not f.yanked
            and self.target.wheel_fits(f.filename)
            and self.target.python_fits(f.requires_python)
        ]
        if not fitting or any(not f.filename.endswith("-any.whl") for f in fitting):
            return None
        minors = [
            int(tag[3:])
            for f in files
            if f.is_wheel and not f.filename.endswith("-any.whl")
            for tag in f.filename[:-4].split("-")[-3].split(".")
            if tag.startswith("cp3") and tag[3:].isdigit()
        ]
        newest = max(minors, default=0)
        return newest if 0 < newest < int(self.target.abi[3:]) else None

    def native_nearby(self, version: str) -> str | None:
        """The nearest installable release (see :meth:`nearby`) that is not a compiled
        project's pure-Python fallback only (see :meth:`pure_fallback_only`)."""
        return next((v for v in self.nearby(version) if self.pure_fallback_only(v) is None), None)

    def minimal(self, version: str) -> str | None:
        """The nearest installable release to ``version`` (see :meth:`nearby`)."""
        return next(self.nearby(version), None)

    def nearby(self, version: str) -> Iterator[str]:
        """Installable final releases by nearness to ``version``: newer in the same major
        first, then older in the same major, then newer, then older; never a pre-release."""
        from packaging.version import InvalidVersion, Version

        try:
            wanted = Version(version)
        except InvalidVersion:
            if self.newest is not None:
                yield self.newest
            return
        candidates = []
        for candidate in self.project.versions():
            parsed = known_version(candidate)
            if parsed.is_prerelease or parsed.is_devrelease:
                continue
            candidates.append((parsed, candidate))
        same = [(p, c) for p, c in candidates if p.release[:1] == wanted.release[:1]]
        other = [(p, c) for p, c in candidates if p.release[:1] != wanted.release[:1]]
        ordered = [
            *(c for p, c in same if p > wanted),
            *(c for p, c in reversed(same) if p < wanted),
            *(c for p, c in other if p > wanted),
            *(c for p, c in reversed(other) if p < wanted),
        ]
        for candidate in ordered:
            if self.is_usable(candidate):
                yield candidate

    def minimal_source(self, version: str) -> str | None:
        """The nearest final release whose sdist can build on the target (for projects with no
        wheel for it at all, like psycopg2): newer in the same major first, then any newer."""
        from packaging.version import InvalidVersion, Version

        try:
            wanted = Version(version)
        except InvalidVersion:
            return None
        later = []
        for candidate in self.project.versions():
            parsed = known_version(candidate)
            if parsed <= wanted or parsed.is_prerelease or parsed.is_devrelease:
                continue
            files = self.project.files_for(candidate)
            if not any(
                not f.is_wheel and not f.yanked and self.target.python_fits(f.requires_python)
                for f in files
            ):
                continue
            if not self.source_build_fails(candidate):
                later.append((parsed.release[:1] != wanted.release[:1], parsed, candidate))
        return min(later)[2] if later else None

    def first_upload(self, version: str) -> str | None:
        times = [f.uploaded for f in self.project.files_for(version) if f.uploaded]
        return min(times) if times else None

    def released_after(self, moment: str) -> list[str]:
        """Installable final releases uploaded at or after ``moment`` (ISO 8601), oldest first."""

        found = []
        for candidate in self.project.versions():
            uploaded = self.first_upload(candidate)
            parsed = known_version(candidate)
            if uploaded is None or uploaded < moment or parsed.is_prerelease:
                continue
            if self.is_usable(candidate):
                found.append(candidate)
        return found

    def nearest(self, version: str) -> str | None:
        """The closest version with a wheel for the target: the next newer one, else older."""
        from packaging.version import InvalidVersion, Version

        try:
            wanted = Version(version)
        except InvalidVersion:
            return self.newest
        versions = self.project.versions()
        for candidate in versions:
            if known_version(candidate) > wanted and self.is_usable(candidate):
                return candidate
        return self.newest


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def assess(project: ProjectFiles, target: TargetPlatform) -> Assessment:
    """The target-specific view of a project's files."""
    return Assessment(project, target)


def _major(version: str) -> int | None:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).release[0]
    except InvalidVersion:
        return None


def _is_prerelease(version: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        parsed = Version(version)
    except InvalidVersion:
        return True
    return parsed.is_prerelease or parsed.is_devrelease


def _is_stale(version: str, assessment: Assessment) -> bool:
    """A pin a major release (or a CalVer year) behind the newest installable version."""
    newest = assessment.newest
    if newest is None:
        return False
    pinned, latest = _major(version), _major(newest)
    return pinned is not None and latest is not None and pinned < latest


def _pin_problem(
    line: RequirementLine, assessment: Assessment, target: TargetPlatform
) -> _Why | None:
    """Why an exact pin cannot stay, or None when it installs on the target as it is."""
    version = line.pinned_version
    if version is None:
        return None
    name = line.name or ""
    versions = assessment.project.versions()
    if not assessment.project.files_for(version):
        newest = versions[-1] if versions else "none"
        conda = " (a conda-only release)" if assessment.conda_only else ""
        return _Why(
            "version-not-on-index",
            f"{name} {version} is not on the package index{conda}; newest there: {newest}",
        )
    if assessment.is_usable(version):
        if _is_stale(version, assessment):
            return _Why(
                "stale-major",
                f"{name} {version} is a major release behind {assessment.newest}, the newest "
                f"with a wheel for the target (releases that old predate Python {target.python})",
            )
        return None
    files = assessment.project.files_for(version)
    if all(not target.python_fits(f.requires_python) for f in files):
        return _Why(
            "requires-python",
            f"{name} {version} does not support Python {target.python} (Requires-Python)",
        )
    nearest = assessment.nearest(version)
    hint = f"; nearest with one: {nearest}" if nearest else ""
    return _Why(
        "no-wheel",
        f"{name} {version} has no wheel for {target.description} "
        f"(pip would build it from source){hint}",
    )


def _unusable_reason(
    name: str, assessment: Assessment | None, target: TargetPlatform
) -> _Why | None:
    """Why nothing of ``name`` can be installed on the target, or None when something can."""
    if assessment is None or not assessment.found:
        conda = " (a conda-only package)" if assessment and assessment.conda_only else ""
        if assessment is None or CONDA_ONLY_RE.match(_canonical(name)):
            conda = " (a conda-only package)"
        return _Why("not-on-index", f"{name} is not on the package index at all{conda}")
    if assessment.os_only:
        return _Why("os-only", f"{name} is only for Windows or macOS; Heroku runs Linux")
    if all(item.yanked for item in assessment.project.files):
        conda = " (a conda-only package)" if assessment.conda_only else ""
        return _Why("all-yanked", f"every release of {name} on the package index is yanked{conda}")
    if assessment.newest is None and assessment.newest_sdist is None:
        return _Why("no-release-installs", f"no release of {name} installs on {target.description}")
    return None


def _need_key(need: AppNeed, names_in_file: set[str]) -> str:
    """The distribution a need refers to, preferring the spelling the file already uses."""
    candidates = [_canonical(need.dist)]
    if need.import_name:
        candidates.append(_canonical(need.import_name.split(".")[0]))
    for candidate in candidates:
        if candidate in names_in_file:
            return candidate
    return candidates[0]


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _inside(location: str, base_dir: Path, app_dir: Path) -> bool:
    """Whether a local path requirement points into the app folder (present on Heroku)."""
    from urllib.parse import unquote, urlsplit

    raw = unquote(urlsplit(location).path) if location.startswith("file:") else location
    candidate = Path(raw).expanduser()
    if not candidate.is_absolute():
        candidate = base_dir / candidate
    try:
        candidate.resolve().relative_to(app_dir.resolve())
    except ValueError:
        return False
    return True


_NAMED_KINDS = (REQUIREMENT, LOCAL_PATH, URL, EDITABLE)


def _file_options(requirements: RequirementsFile) -> list[tuple[str, str | None]]:
    return [
        (line.option, line.value)
        for line in requirements.lines
        if line.kind == OPTION and line.option is not None
    ]


def _remote_option(line: RequirementLine) -> bool:
    """Index options that mean the same on Heroku (http URLs), as opposed to local folders."""
    if line.option in ("--index-url", "--extra-index-url", "--find-links"):
        return bool(line.value and re.match(r"^https?://", line.value))
    return line.option in ("--trusted-host", "--pre", "--prefer-binary")


def check_requirements(
    requirements: Path | None = None,
    app: Path | None = None,
    *,
    python: str | None = None,
    write: bool = False,
    offline: bool = False,
    parsed: RequirementsFile | None = None,
) -> CheckReport:
    """Judge every line of ``requirements`` for the app at ``app``; optionally write the result.

    ``parsed`` stands in for reading ``requirements``: a uv/Poetry/Pipenv lock's records as
    requirement lines (:meth:`homedeploy.project.locked.LockedSet.as_requirements`).

    Raises :class:`UsageError` for unreadable input and :class:`NetworkError` when an index is
    unreachable (or, ``offline``, not cached); all findings are returned in the report.
    """
    app_dir = app if app is not None else (requirements.parent if requirements else Path("."))
    if not app_dir.is_dir():
        raise UsageError(
            f"the app folder {app_dir} does not exist",
            path=app_dir,
            fix="pass the folder holding the app's Python files with --app.",
        )
    req_path = requirements if requirements is not None else app_dir / "requirements.txt"
    source_in = app_dir / "requirements.in"
    preferences_from_txt: list[str] = []
    from_in = (
        parsed is None
        and write
        and source_in.is_file()
        and req_path.name == "requirements.txt"
        and req_path.resolve().parent == app_dir.resolve()
    )
    if from_in:
        # The user's source of truth: its pins and ranges are judged; the old requirements.txt
        # only says which versions to prefer.
        with contextlib.suppress(UsageError):
            preferences_from_txt = [
                f"{_canonical(line.name or '')}=={line.pinned_version}"
                for line in read_requirements(req_path).lines
                if line.name and line.pinned_version
            ]
        req_path = source_in
    if parsed is None:
        parsed = read_requirements(req_path)
    sources = pip_index_sources(_file_options(parsed))
    index = PackageIndex(sources, offline=offline)
    # Every named line is looked up sooner or later; a freeze's hundreds of pages start now,
    # while the app is read (a "does this release exist" answer may come from a day-old page;
    # a stricter look-up later asks again).
    index.prefetch(
        [line.name for line in parsed.lines if line.name and line.kind in _NAMED_KINDS],
        stale_ok=RELEASES_TTL,
    )
    try:
        return _check(
            parsed,
            req_path,
            app_dir,
            python,
            write,
            offline,
            from_in,
            sources,
            index,
            preferences_from_txt,
        )
    finally:
        index.close()


def _check(
    parsed: RequirementsFile,
    req_path: Path,
    app_dir: Path,
    python: str | None,
    write: bool,
    offline: bool,
    from_in: bool,
    sources: IndexSources,
    index: PackageIndex,
    preferences_from_txt: list[str],
) -> CheckReport:
    target = target_for_app(app_dir, python)
    needs = app_needs(app_dir)
    report = CheckReport(
        target.python,
        target.platform_tag,
        target.origin,
        req_path,
        app_dir,
        parsed.encoding,
    )
    if from_in:
        report.source_of_truth = "requirements.in"
        report.notes.append(
            "requirements.in is the source of truth: its lines were judged and requirements.txt "
            "is compiled from it (edit requirements.in, then run check-reqs --write)."
        )
    if python:
        heroku = target_for_app(app_dir)
        if heroku.python != target.python:
            where = "its default" if heroku.origin == "default" else heroku.origin
            report.notes.append(
                f"Heroku will build this app with Python {heroku.python} ({where}), not "
                f"{target.python}: write {target.python} into .python-version to match."
            )
    report.sources = sources.describe()
    if not _has_web_process(app_dir) and not any(_canonical(n.dist) == "gunicorn" for n in needs):
        needs.append(
            AppNeed(
                "gunicorn",
                "Heroku serves the app with gunicorn (no Procfile web process yet)",
                "Procfile",
            )
        )
    if not from_in and is_environment_freeze(parsed, needs):
        report.mode = "freeze"
        report.notes.append(
            f"{req_path.name} looks like a freeze of a whole environment: it is pruned to what "
            "the app's processes need and what those packages depend on."
        )
        return _check_freeze(parsed, report, needs, target, sources, index, write, offline)
    top, resolution, resolved = _check_curated(
        parsed, report, needs, target, sources, index, offline, preferences_from_txt, write
    )
    report.requirements_in = [entry.requirement for entry in top.values()]
    report.top_level_reasons = {entry.requirement: entry.why for entry in top.values()}
    report.pins = [f"{name}=={version}" for name, version in sorted(resolved.items())]
    if write and not report.blocked:
        write_requirements(report, top, resolution, resolved, target)
    return report


def _extra_needs(
    needs: list[AppNeed],
    assessments: dict[str, Assessment],
    pinned: dict[str, str],
    index: PackageIndex,
    target: TargetPlatform,
) -> list[AppNeed]:
    """Everything else the extras the app uses require, from the package's own metadata at the
    version that installs: a Procfile's ``-k gevent`` uses gunicorn's ``gevent`` extra, which
    since gunicorn 27 also brings packaging (its gevent worker imports it at module level), so
    installing gevent alone fails the boot with No module named 'packaging'."""
    found: list[AppNeed] = []
    have = {_canonical(need.dist) for need in needs}
    for need in needs:
        if need.extra_of is None:
            continue
        package, extra = need.extra_of
        key = _canonical(package)
        assessment = assessments.get(key)
        version = pinned.get(key) or (assessment.newest if assessment is not None else None)
        if version is None:
            continue
        metadata = None
        with contextlib.suppress(Exception):  # a metadata look-up never fails the check
            metadata = release_metadata(index, key, version)
        if metadata is None:
            continue
        base = {_canonical(r.name) for r in metadata.requirements(target)}
        for requirement in metadata.requirements(target, (extra,)):
            child = _canonical(requirement.name)
            if child in have or child in base or child == key:
                continue
            have.add(child)
            found.append(
                AppNeed(
                    requirement.name,
                    f"{package} {version}'s {extra!r} extra requires it ({need.why})",
                    need.source,
                    certainty=need.certainty,
                    optional=need.optional,
                    extra_of=need.extra_of,
                )
            )
    return found


def _check_freeze(
    parsed: RequirementsFile,
    report: CheckReport,
    needs: list[AppNeed],
    target: TargetPlatform,
    sources: IndexSources,
    index: PackageIndex,
    write: bool,
    offline: bool,
) -> CheckReport:
    """A whole-environment freeze: keep the closure of what the app's processes need."""
    named_lines = [
        line
        for line in parsed.lines
        if line.name and line.kind in (REQUIREMENT, LOCAL_PATH, URL, EDITABLE)
    ]
    names_in_file = {_canonical(line.name or "") for line in named_lines}
    candidates = sorted(names_in_file - {_canonical(n.dist) for n in needs})
    need_keys: dict[str, AppNeed] = {}
    for need in needs:
        provider = _provider_key(need, names_in_file, index, candidates)
        need_keys[provider or _need_key(need, names_in_file)] = need
    report.needed_names = set(need_keys)
    # What the app needs is looked up first, so the resolver can start while the (many) other
    # names of the file are looked up.
    twins = {BINARY_TWIN[key] for key in need_keys if key in BINARY_TWIN}
    first = index.projects(sorted(set(need_keys) | twins))
    assessments = {name: assess(project, target) for name, project in first.items()}
    pinned = {
        _canonical(line.name or ""): line.pinned_version
        for line in named_lines
        if line.pinned_version
    }
    more = _extra_needs(needs, assessments, pinned, index, target)
    if more:
        needs = [*needs, *more]
        for need in more:
            need_keys[_need_key(need, names_in_file)] = need
        report.needed_names = set(need_keys)
        extra = index.projects(sorted({_canonical(need.dist) for need in more}))
        assessments.update({name: assess(project, target) for name, project in extra.items()})

    line_for: dict[str, RequirementLine] = {}
    for line in named_lines:
        line_for.setdefault(_canonical(line.name or ""), line)
    top, need_errors = _top_level_set(need_keys, names_in_file, line_for, assessments, target)

    report.requirements_in = [entry.requirement for entry in top.values()]
    report.top_level_reasons = {entry.requirement: entry.why for entry in top.values()}
    report.index_options = [
        line.text for line in parsed.lines if line.kind == OPTION and _remote_option(line)
    ]
    resolver_lines = list(report.index_options)
    # pip evaluates markers for its own interpreter; these already hold on the target.
    resolver_lines += [
        entry.requirement.split(";")[0].strip() for entry in top.values() if not entry.source_only
    ]
    in_text = "".join(f"{text}\n" for text in resolver_lines)
    needs_resolver = any(not entry.source_only for entry in top.values())
    early = _start_fresh_resolution(in_text, target, sources, write, offline, needs_resolver)
    # The rest of a freeze only asks "does this release exist, with a wheel?": a day-old page
    # answers that (what the app needs was looked up fresh above).
    rest = index.projects(sorted(names_in_file), stale_ok=RELEASES_TTL)
    assessments.update({name: assess(project, target) for name, project in rest.items()})
    if early is not None:
        early.join()
    preferences = _preferences(named_lines, assessments)
    resolution: Resolution | None = None
    if needs_resolver:
        resolution = resolve(
            in_text,
            target,
            sources,
            preferences=preferences,
            use_pip_tools=write,
            offline=offline,
        )
        resolution = _verified(resolution, index, target, sources, resolver_lines, offline)
        report.method = resolution.method
    resolved = dict(resolution.versions) if resolution else {}
    for key, entry in top.items():
        if entry.source_only:
            resolved[key] = entry.source_only

    for line in parsed.lines:
        report.lines.append(
            _judge(line, report, assessments, resolved, top, need_errors, target, resolution)
        )
    for line, verdict in zip(parsed.lines, report.lines, strict=True):
        verdict.severity = _freeze_severity(line, verdict, assessments, target, report.app_dir)
    report.lines.extend(_missing_lines(report.lines, need_errors, top, resolved))
    report.pins = [f"{name}=={version}" for name, version in sorted(resolved.items())]
    if need_errors:
        report.blocked = "the app needs packages that nothing on the index installs: " + ", ".join(
            sorted(need_errors)
        )
    if write:
        if report.blocked:
            return report
        write_requirements(report, top, resolution, resolved, target)
    return report


def _top_level_set(
    need_keys: dict[str, AppNeed],
    names_in_file: set[str],
    line_for: dict[str, RequirementLine],
    assessments: dict[str, Assessment],
    target: TargetPlatform,
) -> tuple[dict[str, TopLevel], dict[str, str]]:
    """requirements.in: what the app needs, spelt as the file spells it, with its extras.

    Returns the top-level entries by canonical name, and the needs nothing installs on the
    target (name -> message), which block ``--write``.
    """
    top: dict[str, TopLevel] = {}
    need_errors: dict[str, str] = {}
    for key, need in need_keys.items():
        if need.optional and key not in names_in_file:
            continue  # guarded by try/except ImportError: the app runs without it
        source = line_for.get(key)
        if source is not None and not target.marker_holds(source.markers, source.extras):
            continue  # the file already limits it to other platforms; pip skips it on Heroku
        assessment = assessments.get(key)
        problem = _unusable_reason(need.dist, assessment, target)
        if problem:
            if not need.optional:
                need_errors[key] = f"{problem.text}, but the app needs it ({need.why})"
            continue
        if assessment is not None and assessment.newest is None:
            twin = BINARY_TWIN.get(key)
            if twin and twin in assessments and assessments[twin].newest is not None:
                display = line_for[twin].name or twin if twin in line_for else twin
                top[_canonical(display)] = TopLevel(display, display, need.why, replaces=key)
            else:
                top[key] = TopLevel(
                    need.dist, need.dist, need.why, source_only=assessment.newest_sdist
                )
            continue
        display = source.name if source is not None and source.name else need.dist
        top[_canonical(display)] = TopLevel(display, _requirement_text(display, source), need.why)
    return top, need_errors


def _requirement_text(display: str, source: RequirementLine | None) -> str:
    """A requirements.in line: the name with the file's extras, ranges and markers (no ``==``:
    exact pins belong in requirements.txt)."""
    requirement = display
    if source is not None and source.kind == REQUIREMENT:
        if source.extras:
            requirement += "[" + ",".join(source.extras) + "]"
        if source.specifier and source.pinned_version is None:
            requirement += source.specifier
        if source.markers:
            requirement += f"; {source.markers}"
    return requirement


def _preferences(
    named_lines: list[RequirementLine], assessments: dict[str, Assessment]
) -> list[str]:
    """The file's exact pins that still suit the target (installable, not a major behind)."""
    preferences = []
    for line in named_lines:
        version = line.pinned_version
        key = _canonical(line.name or "")
        assessment = assessments.get(key)
        if not version or assessment is None:
            continue
        if assessment.is_usable(version) and not _is_stale(version, assessment):
            preferences.append(f"{key}=={version}")
    return preferences


def _freeze_severity(
    line: RequirementLine,
    verdict: LineVerdict,
    assessments: dict[str, Assessment],
    target: TargetPlatform,
    app_dir: Path,
) -> Severity:
    """What the line does to a Heroku build as it stands (see :data:`report.Severity`)."""
    if verdict.verdict == KEEP:
        return FINE
    if verdict.verdict == ERROR:
        return FAILS
    if line.kind == OPTION:
        return FRAGILE
    if line.kind in (LOCAL_PATH, EDITABLE, URL):
        local_outside = line.is_local and not _inside(line.url or "", line.path.parent, app_dir)
        return FAILS if local_outside else FRAGILE
    key = _canonical(line.name or "")
    assessment = assessments.get(key)
    if not target.marker_holds(line.markers, line.extras):
        return FINE
    if _unusable_reason(line.name or key, assessment, target):
        return FAILS
    version = line.pinned_version
    if version and assessment is not None:
        return (
            _pin_state(version, assessment, target)[1]
            if not assessment.is_usable(version)
            else FRAGILE
        )
    return FRAGILE


def _missing_lines(
    lines: list[LineVerdict],
    need_errors: dict[str, str],
    top: dict[str, TopLevel],
    resolved: dict[str, str],
) -> list[LineVerdict]:
    """Rows for needs no line of the file covers: errors, and packages to add."""
    covered = {_canonical(v.name) for v in lines if v.name}
    rows = [
        LineVerdict(None, "", key, ERROR, message, None, "", FAILS, cause="needed-uninstallable")
        for key, message in need_errors.items()
        if key not in covered
    ]
    for key, entry in top.items():
        if key not in covered:
            pin = resolved.get(key)
            replacement = f"{entry.name}=={pin}" if pin else entry.name
            rows.append(
                LineVerdict(
                    None,
                    "",
                    entry.name,
                    ADD,
                    f"not in the file, but {entry.why}",
                    replacement,
                    "",
                    FAILS,
                    cause="missing",
                )
            )
    return rows


def _start_fresh_resolution(
    in_text: str,
    target: TargetPlatform,
    sources: IndexSources,
    write: bool,
    offline: bool,
    wanted: bool,
) -> threading.Thread | None:
    """Run the preference-free resolution in the background; it lands in the resolver cache.

    Errors are left for the foreground call to raise again (it repeats the work).
    """
    if not wanted or offline:
        return None

    def work() -> None:
        with contextlib.suppress(Exception):
            resolve(in_text, target, sources, preferences=[], use_pip_tools=write, offline=False)

    thread = threading.Thread(target=work, name="homedeploy-resolve", daemon=True)
    thread.start()
    return thread


def _has_web_process(app_dir: Path) -> bool:
    path = app_dir / "Procfile"
    try:
        text = read_bytes(path).decode("utf-8", errors="replace")
    except OSError:
        return False
    return any(line.strip().startswith("web:") for line in text.splitlines())


def _verified(
    resolution: Resolution,
    index: PackageIndex,
    target: TargetPlatform,
    sources: IndexSources,
    resolver_lines: list[str],
    offline: bool,
) -> Resolution:
    """Check that every pin has a wheel for the target; re-resolve with pip if one has not.

    pip-compile under a local interpreter resolves for this machine, which may accept wheels
    Heroku does not (a newer glibc); pip's target-aware resolution cannot.
    """
    projects = index.projects([pin.name for pin in resolution.pins])
    for pin in resolution.pins:
        files = projects[pin.name].files_for(pin.version)
        if not any(f.is_wheel and target.wheel_fits(f.filename) for f in files):
            if resolution.compiled_text is None:
                return resolution
            return resolve(
                "".join(f"{text}\n" for text in resolver_lines),
                target,
                sources,
                preferences=[],
                use_pip_tools=False,
                offline=offline,
            )
    return resolution


def _judge(
    line: RequirementLine,
    report: CheckReport,
    assessments: dict[str, Assessment],
    resolved: dict[str, str],
    top: dict[str, TopLevel],
    need_errors: dict[str, str],
    target: TargetPlatform,
    resolution: Resolution | None,
) -> LineVerdict:
    """The verdict for one line of the user's file."""
    where = _relative(line.path, report.requirements_path.parent)
    verdict = LineVerdict(line.line, line.text, line.name, KEEP, "", None, where, cause="needed")

    def decide(
        kind: Verdict, cause: LineCause, reason: str, replacement: str | None = None
    ) -> LineVerdict:
        verdict.verdict, verdict.cause, verdict.reason = kind, cause, reason
        verdict.replacement = replacement
        return verdict

    if line.kind == INVALID:
        return decide(ERROR, "pip-rejects", f"pip rejects line {line.line}: {line.reason}")
    if line.kind == INCLUDE:
        return decide(KEEP, "include", f"includes {line.value}; its lines are judged one by one")
    if line.kind == OPTION:
        if _remote_option(line) or line.option in ("--require-hashes", "--only-binary"):
            return decide(KEEP, "pip-option", f"pip option {line.option}, valid on Heroku too")
        if line.option in ("--find-links", "--extra-index-url", "--index-url"):
            return decide(
                DROP,
                "local-index",
                f"{line.option} {redact(line.value or '')} is a folder on this machine; "
                "Heroku's build cannot see it",
            )
        return decide(KEEP, "pip-option", f"pip option {line.option}")
    key = _canonical(line.name) if line.name else None
    if key is None:
        if line.is_local and _inside(line.url or "", line.path.parent, report.app_dir):
            return decide(
                KEEP, "app-folder-path", "a path inside the app folder, which Heroku has too"
            )
        return decide(
            DROP, "local-path", f"a local path ({line.url}); Heroku's build cannot see it"
        )
    assessment = assessments.get(key)
    used = key in resolved or key in top
    pin = resolved.get(key)
    replacement = f"{line.name}=={pin}" if pin else None
    if key in need_errors:
        return decide(ERROR, "needed-uninstallable", need_errors[key])
    twin_of = {entry.replaces: entry for entry in top.values() if entry.replaces}
    if key in twin_of and line.kind == REQUIREMENT:
        twin = twin_of[key]
        twin_pin = resolved.get(_canonical(twin.name))
        return decide(
            REPIN,
            "binary-twin",
            f"{line.name} has no wheel for {target.description} (a source build that needs "
            f"build tools); {twin.name} is the same package with wheels; {twin.why}",
            f"{twin.name}=={twin_pin}" if twin_pin else twin.name,
        )
    if line.constraint and not used:
        return decide(DROP, "unused-constraint", "a constraint on a package the app does not use")
    if line.kind in (LOCAL_PATH, EDITABLE, URL):
        if line.is_local and not _inside(line.url or "", line.path.parent, report.app_dir):
            if used:
                return decide(
                    REPIN,
                    "local-path",
                    f"a local path ({line.url}), which Heroku's build cannot see; the index has it",
                    replacement,
                )
            unused = _why_unused(line, assessment, target)
            return decide(
                DROP,
                unused.cause,
                f"a local path ({line.url}), e.g. from a conda build folder; {unused.text}",
            )
        if used:
            return decide(KEEP, "url", "installed from its URL on Heroku too")
        return decide(DROP, *_why_unused(line, assessment, target))
    if not target.marker_holds(line.markers, line.extras):
        if key in report.needed_names:
            return decide(
                KEEP,
                "marker-excludes-target",
                f"its marker ({line.markers}) excludes Heroku, so pip skips it there",
            )
        return decide(
            DROP,
            "marker-excludes-target",
            f"its marker ({line.markers}) excludes {target.description}; not needed there",
        )
    if not used:
        return decide(DROP, *_why_unused(line, assessment, target))
    why = _why_used(key, top, resolution)
    if assessment is not None and key in top and top[key].source_only:
        return decide(
            KEEP,
            "source-only",
            f"{why}; no wheel for {target.description} in any release, so Heroku builds "
            f"{top[key].source_only} from source",
            replacement if line.pinned_version != top[key].source_only else None,
        )
    problem = _pin_problem(line, assessment, target) if assessment is not None else None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        satisfied = pin is None or SpecifierSet(line.specifier).contains(pin, prereleases=True)
    except InvalidSpecifier:
        satisfied = False
    if satisfied and problem is None:
        return decide(KEEP, "needed", why)
    if problem is None:
        problem = _Why(
            "conflict", f"{line.name} {line.specifier} conflicts with the set that installs"
        )
    return decide(REPIN, problem.cause, f"{problem.text}; {why}", replacement)


def _why_used(key: str, top: dict[str, TopLevel], resolution: Resolution | None) -> str:
    if key in top:
        return top[key].why
    if resolution is not None:
        for pin in resolution.pins:
            if pin.name == key:
                parents = [p for p in pin.required_by if p != REQUESTED]
                if parents:
                    return "needed by " + ", ".join(parents)
    return "needed by the app's packages"


def _why_unused(
    line: RequirementLine, assessment: Assessment | None, target: TargetPlatform
) -> _Why:
    """The most useful reason to drop a line the app does not need."""
    name = line.name or ""
    if assessment is not None and assessment.found and line.kind == REQUIREMENT:
        problem = _pin_problem(line, assessment, target)
        if problem is not None and problem.cause == "version-not-on-index":
            return _Why(problem.cause, f"{problem.text}; the app does not use it")
    unusable = _unusable_reason(name, assessment, target)
    if unusable is not None:
        return _Why(unusable.cause, f"{unusable.text}; the app does not use it")
    if assessment is not None and line.kind == REQUIREMENT:
        problem = _pin_problem(line, assessment, target)
        if problem is not None and problem.cause == "no-wheel":
            return _Why(problem.cause, f"{problem.text}; the app does not use it anyway")
    return _Why(
        "unused", "not used by the app (nothing imports it, and no needed package depends on it)"
    )


FREEZE_MIN_LINES = 40
_CONDA_BUILD_PATH_RE = re.compile(r"/(croot|conda-bld|feedstock_root|opt/conda)/")


def is_environment_freeze(requirements: RequirementsFile, needs: list[AppNeed]) -> bool:
    """Whether a file is a freeze of a whole environment rather than a curated list.

    A freeze: a conda build path (``pkg @ file:///croot/...``, never written by hand), or at
    least 40 exact pins, not compiled (pip-tools' and uv's ``# via`` mark every pin as there
    for a reason), and ten or more times as many pins as the app's processes and imports need.
    A heuristic, so it errs towards "curated", where nothing that installs is dropped.
    """
    conda_paths = sum(
        1
        for line in requirements.lines
        if line.url and line.kind in (LOCAL_PATH, URL) and _CONDA_BUILD_PATH_RE.search(line.url)
    )
    if conda_paths:
        return True
    pinned = [
        line
        for line in requirements.lines
        if line.kind == REQUIREMENT and not line.constraint and line.pinned_version
    ]
    if len(pinned) < FREEZE_MIN_LINES:
        return False
    try:
        text = read_bytes(requirements.path).decode("utf-8", errors="replace")
    except OSError:
        text = ""
    if "# via" in text:
        return False
    wanted = {_canonical(need.dist) for need in needs if not need.optional}
    return len(wanted) * 10 <= len(pinned)


def _provider_key(
    need: AppNeed,
    names_in_file: set[str],
    index: PackageIndex,
    candidates: list[str],
) -> str | None:
    """The file's distribution that provides an imported module, by name, by the known
    alternatives, then by the candidates' own wheel file lists (``linebot`` -> line-bot-sdk)."""
    for name in (need.dist, *need.alternatives):
        if _canonical(name) in names_in_file:
            return _canonical(name)
    if need.import_name is None:
        return None
    top = need.import_name.split(".")[0]
    if _canonical(top) in names_in_file:
        return _canonical(top)
    squashed = re.sub(r"[^a-z0-9]", "", top.lower())
    for candidate in candidates:
        plain = re.sub(r"[^a-z0-9]", "", candidate)
        if squashed[:4] not in plain and plain[:4] not in squashed:
            continue  # only distributions whose name resembles the import are opened
        with contextlib.suppress(Exception):
            names = provided_import_names(index, candidate)
            if names and top in names:
                return candidate
    return None


def _transitive_covers(key: str, resolution: Resolution | None) -> list[str]:
    """The packages in the resolved set that require ``key`` (empty: only the app asks)."""
    if resolution is None:
        return []
    for pin in resolution.pins:
        if pin.name == key:
            return [parent for parent in pin.required_by if parent != REQUESTED]
    return []


class _Plan:
    """What the curated check intends for one line before the resolver speaks."""

    def __init__(self, line: RequirementLine, key: str) -> None:
        self.line = line
        self.key = key
        self.verdict: Verdict = KEEP
        self.reason = ""
        self.severity: Severity = FINE
        self.resolve = True
        self.constraint: str | None = None
        self.moved_from: str | None = None
        self.move_reason = ""
        self.cause: LineCause | None = None  # None: decided by the resolution (needed/unused)
        self.repinned_text: str | None = None  # a source-only repin, written as it is

    @property
    def constraint_version(self) -> str | None:
        return self.constraint.partition("==")[2] if self.constraint else None


def _requirement_for_resolver(
    line: RequirementLine, pin: str | None = None, *, markers: bool = False
) -> str:
    """The line as a requirement; ``markers`` keeps its environment marker. pip evaluates
    markers for the interpreter it runs under, not for ``--python-version``, so the resolver
    gets lines whose marker was already found true for the target, without it."""
    text = line.name or ""
    if line.extras:
        text += "[" + ",".join(line.extras) + "]"
    if pin:
        text += f"=={pin}"
    elif line.specifier and line.pinned_version is None:
        text += line.specifier
    if markers and line.markers:
        text += f"; {line.markers}"
    return text


def _pin_state(
    version: str, assessment: Assessment, target: TargetPlatform
) -> tuple[_Why | None, Severity]:
    """Why a pin cannot stay and how bad that is on Heroku; (None, info) when it installs."""
    name = assessment.project.name
    files = assessment.project.files_for(version)
    if not files:
        newest = assessment.newest or "none"
        conda = " (a conda-only release)" if assessment.conda_only else ""
        return _Why(
            "version-not-on-index",
            f"{name} {version} is not on the package index{conda}; newest there: {newest}",
        ), FAILS
    if assessment.is_usable(version):
        minor = assessment.pure_fallback_only(version)
        if minor is None:
            return None, FINE
        return _Why(
            "no-wheel",
            f"{name} {version} installs on {target.description} only from its pure-Python "
            f"wheel; its compiled wheels stop at Python 3.{minor}, so the release predates "
            f"Python {target.python} (judged from the release's wheels)",
        ), FRAGILE
    if all(not target.python_fits(f.requires_python) for f in files):
        return _Why(
            "requires-python",
            f"{name} {version} does not support Python {target.python} (Requires-Python)",
        ), FAILS
    if assessment.source_build_fails(version):
        return _Why(
            "no-wheel",
            f"{name} {version} has no wheel for {target.description}, and its C extensions "
            f"predate Python {target.python}, so building it from source fails there (judged "
            "from the release's wheels)",
        ), FAILS
    return _Why(
        "no-wheel",
        f"{name} {version} has no wheel for {target.description}; Heroku builds it from source",
    ), FRAGILE


def _check_curated(
    parsed: RequirementsFile,
    report: CheckReport,
    needs: list[AppNeed],
    target: TargetPlatform,
    sources: IndexSources,
    index: PackageIndex,
    offline: bool,
    preferences: list[str],
    use_pip_tools: bool = False,
) -> tuple[dict[str, TopLevel], Resolution | None, dict[str, str]]:
    """Judge a curated file: every line that installs on the target stays; a pin that cannot
    install moves to the nearest release that can; the app's needs that nothing in the file
    (or what it pulls in) installs are added. Returns the top-level set, the resolution and
    the resolved versions for the writer."""
    named = [
        line
        for line in parsed.lines
        if line.name and line.kind in (REQUIREMENT, LOCAL_PATH, URL, EDITABLE)
    ]
    names_in_file = {_canonical(line.name or "") for line in named}
    runtime_needs = [need for need in needs if not need.optional]
    wanted = set(names_in_file) | {_canonical(need.dist) for need in runtime_needs}
    projects = index.projects(sorted(wanted))
    assessments = {name: assess(project, target) for name, project in projects.items()}
    pins_in_file = {
        _canonical(line.name or ""): line.pinned_version for line in named if line.pinned_version
    }
    more = _extra_needs(runtime_needs, assessments, pins_in_file, index, target)
    if more:
        needs, runtime_needs = [*needs, *more], [*runtime_needs, *more]
        extra = index.projects(sorted({_canonical(need.dist) for need in more}))
        assessments.update({name: assess(project, target) for name, project in extra.items()})
    report.needed_names = {_canonical(need.dist) for need in runtime_needs}

    needed = {_canonical(need.dist): need for need in runtime_needs}
    for need in runtime_needs:
        for alternative in need.alternatives:
            needed.setdefault(_canonical(alternative), need)
    need_errors: dict[str, str] = {}
    plans: list[_Plan] = []
    for line in named:
        key = _canonical(line.name or "")
        plan = _Plan(line, key)
        plans.append(plan)
        assessment = assessments.get(key)
        if not target.marker_holds(line.markers, line.extras):
            plan.reason = f"its marker ({line.markers}) excludes Heroku, so pip skips it there"
            plan.cause = "marker-excludes-target"
            plan.resolve = False
            continue
        if line.kind in (LOCAL_PATH, EDITABLE, URL):
            plan.resolve = False
            if line.is_local and not _inside(line.url or "", line.path.parent, report.app_dir):
                plan.verdict, plan.severity = DROP, FAILS
                plan.reason = f"a local path ({line.url}), which Heroku's build cannot see"
                plan.cause = "local-path"
                if assessment is not None and assessment.newest is not None:
                    plan.verdict = REPIN
                    plan.reason += "; the index has it"
                    plan.resolve = True
            else:
                plan.reason = "installed from its URL or path on Heroku too"
                plan.cause = "url" if not line.is_local else "app-folder-path"
            continue
        problem = _unusable_reason(line.name or key, assessment, target)
        if problem:
            plan.verdict, plan.severity, plan.resolve = DROP, FAILS, False
            plan.reason = f"{problem.text}; pip stops the build at this line"
            plan.cause = problem.cause
            wanted_by = needed.get(key)
            if wanted_by is not None:
                plan.verdict = ERROR
                plan.reason = f"{problem.text}, but the app needs it ({wanted_by.why})"
                plan.cause = "needed-uninstallable"
                need_errors[key] = plan.reason
            continue
        version = line.pinned_version
        if version is None and assessment is not None and assessment.newest is None:
            # No release has a wheel (psycopg2): pip builds the newest sdist; the resolver,
            # which only takes wheels, leaves it out.
            twin = BINARY_TWIN.get(key)
            plan.severity, plan.resolve, plan.cause = FRAGILE, False, "source-only"
            plan.reason = (
                f"no release of {line.name} has a wheel for {target.description}; "
                + (f"Heroku builds {assessment.newest_sdist} from source")
                + (f" ({twin} is the same package with wheels)" if twin else "")
            )
            continue
        if version is None or assessment is None:
            continue
        state, severity = _pin_state(version, assessment, target)
        if state is None and _moved_off_a_broken_start(plan, version, assessment, needed, index):
            continue
        if state is None:
            plan.constraint = f"{key}=={version}"
            if _is_stale(version, assessment):
                plan.reason = (
                    f"kept as pinned (it installs; {assessment.newest} is the newest, a major "
                    "release newer)"
                )
            continue
        why = state.text
        plan.cause = state.cause
        if severity == FRAGILE:
            # A pure-Python sdist: old ones can fail to build on a new Python (dominate 2.3.1's
            # setup.py imports `imp`), so the nearest release of the same major with a wheel
            # is taken when there is one.
            nearby = assessment.native_nearby(version)
            if nearby is not None and _major(nearby) == _major(version):
                plan.constraint = f"{key}=={nearby}"
                plan.moved_from, plan.severity = version, FRAGILE
                plan.move_reason = f"{why}, which can fail for a release that old"
                continue
            # None: the pin stays. pip's target-aware resolution only takes wheels, so this
            # line is left out of it.
            twin = BINARY_TWIN.get(key)
            if twin:
                why += f" ({twin} is the same package with wheels)"
            plan.severity, plan.reason, plan.resolve = FRAGILE, why, False
            continue
        moved = assessment.native_nearby(version) or assessment.minimal(version)
        if moved is None:
            source = assessment.minimal_source(version)
            twin = BINARY_TWIN.get(key)
            hint = f"; {twin} is the same package with wheels" if twin else ""
            if source is not None:
                # Builds from source on Heroku; pip's wheel-only resolution cannot take it.
                plan.verdict, plan.severity, plan.resolve = REPIN, FAILS, False
                plan.constraint = f"{key}=={source}"
                plan.reason = f"{why}; nearest that builds there: {source}{hint}"
                plan.repinned_text = _requirement_for_resolver(line, source, markers=True)
                continue
            plan.verdict, plan.severity, plan.resolve = ERROR, FAILS, False
            plan.reason = f"{why}, and no release of it installs there{hint}"
            continue
        plan.constraint = f"{key}=={moved}"
        plan.moved_from, plan.move_reason, plan.severity = version, why, severity

    # The app's needs the file does not name directly.
    candidates = sorted(names_in_file - {_canonical(n.dist) for n in needs})
    extra_requirements: dict[str, AppNeed] = {}
    for need in runtime_needs:
        if _provider_key(need, names_in_file, index, candidates) is not None:
            continue
        key = _canonical(need.dist)
        assessment = assessments.get(key)
        problem = _unusable_reason(need.dist, assessment, target)
        if problem:
            if need.certainty == "certain":
                need_errors[key] = f"{problem.text}, but the app needs it ({need.why})"
            continue
        extra_requirements[key] = need

    addition_text: dict[str, str] = {}
    for key, (need, text) in _undeclared_startup_needs(
        plans, runtime_needs, names_in_file, index, target
    ).items():
        extra_requirements[key] = need
        addition_text[key] = text

    resolver_lines = [
        line.text for line in parsed.lines if line.kind == OPTION and _remote_option(line)
    ]
    report.index_options = list(resolver_lines)
    resolution: Resolution | None = None
    if any(plan.resolve for plan in plans) or extra_requirements:
        resolution = _resolve_minimal(
            resolver_lines,
            [addition_text.get(key, need.dist) for key, need in extra_requirements.items()],
            plans,
            assessments,
            target,
            sources,
            index,
            offline,
            preferences,
            use_pip_tools,
            set(needed),
        )
        report.method = resolution.method
    resolved = dict(resolution.versions) if resolution else {}
    for plan in plans:
        # A line left out of the resolution (a source-only pin) that the resolved set installs
        # anyway, as another package's dependency: one version only, the resolved one.
        if plan.resolve or plan.verdict != KEEP or plan.key not in resolved:
            continue
        if plan.cause == "marker-excludes-target":
            continue
        plan.resolve = True
        got, pinned = resolved[plan.key], plan.line.pinned_version
        if pinned and got != pinned:
            needing = ", ".join(_transitive_covers(plan.key, resolution)) or "the resolved set"
            plan.moved_from, plan.severity = pinned, FAILS
            plan.move_reason = (
                f"{plan.line.name} {pinned} (a source build) does not fit what {needing} "
                f"require(s); the resolved set installs {got}"
            )
            plan.constraint = f"{plan.key}=={got}"

    top: dict[str, TopLevel] = {}
    for plan in plans:
        line, key = plan.line, plan.key
        if plan.verdict in (DROP, ERROR):
            continue
        if plan.resolve and key not in resolved:
            # Never lose a line the resolver left out: it is written as it was.
            top[key] = TopLevel(line.name or key, line.text, "kept as written", verbatim=True)
            report.notes.append(
                f"{line.text} is kept as written: the resolved set does not include it."
            )
        elif plan.resolve:
            if key not in needed and _transitive_covers(key, resolution):
                continue  # a dependency of another line: requirements.txt pins it
            pin = resolved.get(key) if line.pinned_version else None
            requirement = _requirement_for_resolver(line, pin, markers=True)
            top[key] = TopLevel(
                line.name or key, requirement, _curated_why(key, needs, resolution).text
            )
        elif not plan.resolve:
            top[key] = TopLevel(
                line.name or key,
                plan.repinned_text or line.text,
                plan.reason or "kept as written",
                verbatim=True,
            )
    for key, need in extra_requirements.items():
        if _transitive_covers(key, resolution):
            continue
        top[key] = TopLevel(need.dist, addition_text.get(key, need.dist), need.why)

    plan_of = {id(plan.line): plan for plan in plans}
    for line in parsed.lines:
        report.lines.append(
            _curated_verdict(
                line, plan_of.get(id(line)), report, resolved, needs, resolution, target
            )
        )
    covered = {_canonical(v.name) for v in report.lines if v.name}
    for key, message in need_errors.items():
        if key not in covered:
            report.lines.append(
                LineVerdict(
                    None, "", key, ERROR, message, None, "", FAILS, cause="needed-uninstallable"
                )
            )
    for key, need in extra_requirements.items():
        if key in covered:
            continue
        parents = _transitive_covers(key, resolution)
        if parents:
            report.notes.append(
                f"{need.dist} ({need.why}) is not in the file, but {', '.join(parents)} "
                "installs it."
            )
            continue
        pin = resolved.get(key)
        add_severity: Severity = FAILS if need.certainty == "certain" else FRAGILE
        how = "" if need.certainty == "certain" else " (only when that code runs)"
        report.lines.append(
            LineVerdict(
                None,
                "",
                need.dist,
                ADD,
                f"not in the file, but {need.why}{how}",
                f"{need.dist}=={pin}" if pin else need.dist,
                "",
                add_severity,
                cause="missing",
            )
        )
    if need_errors:
        report.blocked = "the app needs packages that nothing on the index installs: " + ", ".join(
            sorted(need_errors)
        )
    return top, resolution, resolved


SETUPTOOLS_FOR = ((3, 10), (3, 12))
"""The Pythons Heroku's buildpack installs setuptools for (``lib/pip.sh``)."""


SIX_CHECKS = 8
"""Releases whose wheels are read, nearest first, for one that starts (see below)."""


def _moved_off_a_broken_start(
    plan: _Plan,
    version: str,
    assessment: Assessment,
    needed: dict[str, AppNeed],
    index: PackageIndex,
) -> bool:
    """Move a pin a Procfile process runs off a release that installs but cannot start on the
    target: one whose wheel ships a six older than 1.16 and imports its ``moves`` at module
    level, which fails on Python 3.12+ (gunicorn 19.x: ``No module named 'gunicorn.six.moves'``;
    read from the wheels, :func:`.startup_imports.vendored_six_break`). The nearest release
    whose wheel does not is taken; with none among the nearest few, the line is an error."""
    from homedeploy.requirements.startup_imports import SIX_BROKEN_FROM, vendored_six_break

    need = needed.get(plan.key)
    target = assessment.target
    if need is None or not need.from_process or target.version_tuple < SIX_BROKEN_FROM:
        return False
    broken = None
    with contextlib.suppress(Exception):  # reading a wheel never fails the check
        broken = vendored_six_break(index, plan.key, version)
    if broken is None:
        return False
    six_version, six_module, file, line = broken
    name = plan.line.name or plan.key
    why = (
        f"{name} {version} installs but cannot start on Python {target.python}: it ships its "
        f"own six {six_version} ({six_module}) and imports {six_module}.moves at module level "
        f"({file}:{line}; read from its wheel), which fails from Python 3.12 on with No "
        f"module named '{six_module}.moves' (six fixed it in 1.16)"
    )
    plan.cause, plan.severity = "fails-at-start", FAILS

    def starts(candidate: str) -> bool:
        try:
            return vendored_six_break(index, plan.key, candidate) is None
        except Exception:  # a wheel that cannot be read is not taken as the fix
            return False

    candidates = list(assessment.nearby(version))
    same = [c for c in candidates if _major(c) == _major(version)]
    newest_same = max(same, key=known_version, default=None)
    if newest_same is not None and not starts(newest_same):
        # A copy of six stays in a project for a whole major release (gunicorn 19.0-19.10):
        # when the newest of the major still has it, the nearest fix is in a later major.
        candidates = [c for c in candidates if _major(c) != _major(version)]
    for candidate in candidates[:SIX_CHECKS]:
        if starts(candidate):
            plan.constraint = f"{plan.key}=={candidate}"
            plan.moved_from, plan.move_reason = version, why
            return True
    plan.verdict, plan.resolve = ERROR, False
    plan.reason = f"{why}; none of the {SIX_CHECKS} nearest releases that install starts there"
    return True


def _undeclared_startup_needs(
    plans: list[_Plan],
    needs: list[AppNeed],
    names_in_file: set[str],
    index: PackageIndex,
    target: TargetPlatform,
) -> dict[str, tuple[AppNeed, str]]:
    """setuptools, when a pinned release a Procfile process runs imports pkg_resources at
    module level (gunicorn 19) and nothing else installs it on the target: read from the
    release's own code (:mod:`.startup_imports`). Returns key -> (need, requirement text)."""
    from homedeploy.requirements.startup_imports import newest_providing, startup_imports

    low, high = SETUPTOOLS_FOR
    if "setuptools" in names_in_file or low <= target.version_tuple <= high:
        return {}
    processes = {_canonical(need.dist): need for need in needs if need.from_process}
    for plan in plans:
        need = processes.get(plan.key)
        version = plan.constraint_version
        if need is None or version is None or not plan.resolve:
            continue
        hits = None
        with contextlib.suppress(Exception):  # reading a wheel never fails the check
            hits = startup_imports(index, plan.key, version)
        if not hits:
            continue
        where = ", ".join(f"{file}:{line}" for file, line in hits[:3])
        name = plan.line.name or plan.key
        chosen = None
        with contextlib.suppress(Exception):
            chosen = newest_providing(index, "setuptools", "pkg_resources")
        why = (
            f"{name} {version} imports pkg_resources at module level ({where}; read from its "
            f"wheel), which only setuptools provides; {name}'s Requires-Dist does not name "
            f"setuptools and Heroku installs it only for Python {low[0]}.{low[1]}-"
            f"{high[0]}.{high[1]}, so on {target.python} the process running it fails with "
            "No module named 'pkg_resources'"
        )
        text = f"setuptools<={chosen}" if chosen else "setuptools"
        if chosen:
            why += f" (setuptools {chosen} is the newest release that still ships it)"
        return {"setuptools": (AppNeed("setuptools", why, need.source), text)}
    return {}


def _curated_why(key: str, needs: list[AppNeed], resolution: Resolution | None) -> _Why:
    """Why a curated file's line is there: ``needed`` (the app or a needed package asks for
    it, in the text) or ``unused`` (only the file names it)."""
    for need in needs:
        if _canonical(need.dist) == key or key in (_canonical(a) for a in need.alternatives):
            return _Why("needed", need.why)
    parents = _transitive_covers(key, resolution)
    if parents:
        return _Why("needed", "needed by " + ", ".join(parents))
    return _Why("unused", "listed in the file (nothing the app runs imports it)")


def _curated_verdict(
    line: RequirementLine,
    plan: _Plan | None,
    report: CheckReport,
    resolved: dict[str, str],
    needs: list[AppNeed],
    resolution: Resolution | None,
    target: TargetPlatform,
) -> LineVerdict:
    where = _relative(line.path, report.requirements_path.parent)
    verdict = LineVerdict(line.line, line.text, line.name, KEEP, "", None, where, cause="needed")
    if plan is None:
        if line.kind == INVALID:
            verdict.verdict, verdict.severity, verdict.cause = ERROR, FAILS, "pip-rejects"
            verdict.reason = f"pip rejects line {line.line}: {line.reason}"
        elif line.kind == INCLUDE:
            verdict.reason = f"includes {line.value}; its lines are judged one by one"
            verdict.cause = "include"
        elif line.kind == OPTION:
            verdict.cause = "pip-option"
            if _remote_option(line) or line.option in ("--require-hashes", "--only-binary"):
                verdict.reason = f"pip option {line.option}, valid on Heroku too"
            elif line.option in ("--find-links", "--extra-index-url", "--index-url"):
                verdict.verdict, verdict.severity, verdict.cause = DROP, FRAGILE, "local-index"
                verdict.reason = (
                    f"{line.option} {redact(line.value or '')} is a folder on this machine; "
                    "Heroku's build cannot see it"
                )
            else:
                verdict.reason = f"pip option {line.option}"
        elif line.is_local and not _inside(line.url or "", line.path.parent, report.app_dir):
            verdict.verdict, verdict.severity = DROP, FAILS
            verdict.reason = f"a local path ({line.url}); Heroku's build cannot see it"
            verdict.cause = "local-path"
        else:
            verdict.reason = "a path inside the app folder, which Heroku has too"
            verdict.cause = "app-folder-path"
        return verdict
    key = plan.key
    pin = resolved.get(key)
    verdict.severity = plan.severity
    used = _curated_why(key, needs, resolution)
    why = used.text
    verdict.cause = plan.cause or used.cause
    if plan.verdict in (DROP, ERROR) or not plan.resolve:
        verdict.verdict = plan.verdict
        verdict.reason = plan.reason or why
        if plan.verdict == REPIN and plan.repinned_text:
            verdict.replacement = plan.repinned_text
        elif plan.verdict == REPIN and pin:
            verdict.replacement = f"{line.name}=={pin}"
        return verdict
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        satisfied = pin is None or SpecifierSet(line.specifier).contains(pin, prereleases=True)
    except InvalidSpecifier:
        satisfied = False
    if line.constraint and pin is None:
        verdict.reason = "a constraint on a package nothing installs here; harmless"
        verdict.cause = "unused-constraint"
        return verdict
    if satisfied and plan.verdict == KEEP:
        verdict.reason = plan.reason or why
        if verdict.cause not in ("needed", "unused", "no-wheel"):
            verdict.cause = "needed"
        return verdict
    verdict.verdict = REPIN
    verdict.replacement = f"{line.name}=={pin}" if pin else None
    if plan.moved_from:
        forced = plan.move_reason
        if pin and pin != plan.constraint_version:
            forced += f"; moved further to {pin} to fit the rest of the set"
        nearest = "starts there" if plan.cause == "fails-at-start" else "installs"
        verdict.reason = f"{forced}; nearest that {nearest}: {pin}; {why}"
    else:
        verdict.reason = f"{line.name}{line.specifier} cannot be installed with the rest " + (
            f"({plan.move_reason}); {why}" if plan.move_reason else f"of the file; {why}"
        )
        verdict.cause = "conflict"
        if verdict.severity == FINE:
            verdict.severity = FAILS
    del target
    return verdict


def _resolve_minimal(
    options: list[str],
    additions: list[str],
    plans: list[_Plan],
    assessments: dict[str, Assessment],
    target: TargetPlatform,
    sources: IndexSources,
    index: PackageIndex,
    offline: bool,
    preferences: list[str],
    use_pip_tools: bool,
    app_keys: set[str],
) -> Resolution:
    """Resolve the file's lines with its installable pins held exactly, so nothing that
    installs moves. When the held pins cannot all install together pip's own message is kept
    on the lines that had to move, and the pins become preferences instead. A framework moved
    across a major release takes its pinned dependents along (see :func:`_follow_framework`).
    """
    from homedeploy.errors import CheckFailed

    def run(hold: bool) -> Resolution:
        lines = list(options)
        for plan in plans:
            if plan.resolve:
                pin = plan.constraint_version if hold else None
                lines.append(_requirement_for_resolver(plan.line, pin))
        lines += additions
        soft = [] if hold else [p.constraint for p in plans if p.resolve and p.constraint]
        result = resolve(
            "".join(f"{line}\n" for line in lines),
            target,
            sources,
            preferences=soft + preferences,
            use_pip_tools=use_pip_tools,
            offline=offline,
        )
        return _verified(result, index, target, sources, lines, offline)

    def settle(result: Resolution, error: CheckFailed) -> None:
        """The pins pip could not hold together moved: say so, and treat them as moved."""
        conflict = f"pip cannot install the file's pins together ({error.message})"
        for plan in plans:
            wanted, got = plan.constraint_version, result.versions.get(plan.key)
            if wanted and got and got != wanted and not plan.moved_from:
                plan.moved_from = plan.line.pinned_version or wanted
                plan.move_reason = conflict
                plan.severity = FAILS
                plan.constraint = f"{plan.key}=={got}"

    def attempt() -> Resolution:
        try:
            return run(hold=True)
        except CheckFailed as error:
            result = run(hold=False)
            settle(result, error)
            return result

    _metadata_moves(plans, assessments, index, target, app_keys)
    resolution = attempt()
    for _ in range(2):  # a framework's move can move its extensions, which can move others
        if not _follow_framework(resolution, plans, assessments, app_keys):
            break
        resolution = attempt()
    return resolution


MAX_CANDIDATES = 48
"""Releases of one package whose metadata is read when looking for the nearest that fits."""
METADATA_ROUNDS = 50
"""Moves one metadata pass may make (each move is one pin; the loop stops when none is left)."""


class _Pins:
    """The file's held pins as the metadata pass sees them (see :func:`_metadata_moves`)."""

    def __init__(self, plans: list[_Plan], index: PackageIndex) -> None:
        self.index = index
        self.plans = {p.key: p for p in plans if p.resolve and p.constraint_version}
        self._metadata: dict[tuple[str, str], DistMetadata | None] = {}
        self.first_reasons = {key: plan.move_reason for key, plan in self.plans.items()}

    def metadata(self, key: str, version: str) -> DistMetadata | None:
        if (key, version) not in self._metadata:
            found = None
            with contextlib.suppress(Exception):  # a metadata look-up never fails the check
                found = release_metadata(self.index, key, version)
            self._metadata[(key, version)] = found
        return self._metadata[(key, version)]

    def version(self, key: str) -> str:
        return self.plans[key].constraint_version or ""


def _move(
    plan: _Plan,
    version: str,
    cause: LineCause,
    why: str,
    pins: _Pins,
    severity: Severity = FAILS,
) -> None:
    """Hold ``plan`` at ``version``; its reason keeps why it first had to move (the file's pin
    cannot install) and says what forced the last move of this pass."""
    plan.moved_from = plan.moved_from or plan.line.pinned_version or plan.constraint_version
    plan.constraint = f"{plan.key}=={version}"
    before = pins.first_reasons.get(plan.key, "")
    plan.move_reason = f"{before}; then {why}" if before else why
    if plan.severity != FAILS:
        plan.severity = severity
    if plan.cause is None or cause == "invalid-metadata":
        plan.cause = cause


def _choose(
    plan: _Plan,
    pins: _Pins,
    assessment: Assessment | None,
    fits: Callable[[DistMetadata, str], bool],
    worth: Callable[[str], bool] | None = None,
) -> str | None:
    """The nearest installable release of ``plan``'s package to its original pin whose
    metadata is valid and ``fits``; None when none of the nearest few does."""
    origin = plan.line.pinned_version or plan.constraint_version
    if assessment is None or origin is None:
        return None
    current = plan.constraint_version
    count = 0
    for candidate in assessment.nearby(origin):
        if candidate == current or (worth is not None and not worth(candidate)):
            continue  # ``worth`` rules a release out without reading its metadata
        count += 1
        if count > MAX_CANDIDATES:
            break
        metadata = pins.metadata(plan.key, candidate)
        if metadata is not None and not metadata.invalid and fits(metadata, candidate):
            return candidate
    return None


def _names(metadata: DistMetadata, key: str, target: TargetPlatform) -> list[Requirement]:
    return [r for r in metadata.requirements(target) if _canonical(r.name) == key]


def _in_range(requirement: Requirement, metadata: DistMetadata, version: str) -> bool:
    return requirement.specifier.contains(version, prereleases=True)


def _version_in_range(requirement: Requirement, version: str) -> bool:
    return requirement.specifier.contains(version, prereleases=True)


def _accepts(
    key: str, version: str, target: TargetPlatform, metadata: DistMetadata, candidate: str
) -> bool:
    """Whether ``metadata``'s Requires-Dist on ``key`` (if any) admits ``version``."""
    return all(
        r.specifier.contains(version, prereleases=True) for r in _names(metadata, key, target)
    )


def _metadata_moves(
    plans: list[_Plan],
    assessments: dict[str, Assessment],
    index: PackageIndex,
    target: TargetPlatform,
    app_keys: set[str],
) -> bool:
    """Move the fewest held pins, by the releases' own Requires-Dist, so the set installs.

    pip's refusal of a held set names one pin and drops the rest; read from the metadata
    (PEP 658 files), the reasons are exact: a pinned release whose metadata pip rejects
    (celery 4.4.1's ``pytz (>dev)``) moves to the nearest release with valid metadata; a pin
    outside a range another held pin requires moves into it (or, when it was itself forced to
    move, the pin requiring it moves to a release that accepts it); and a package a moved pin
    carried across a major version takes along the held pins that require it and predate
    that major (release dates break the tie: Jinja2 2.10 with MarkupSafe 3 fails to import).
    Pins that install together stay. Returns whether any pin moved.
    """
    pins = _Pins(plans, index)
    changed = False
    for plan in pins.plans.values():
        metadata = pins.metadata(plan.key, pins.version(plan.key))
        if metadata is None or not metadata.invalid:
            continue
        name, old = plan.line.name or plan.key, pins.version(plan.key)
        choice = _choose(plan, pins, assessments.get(plan.key), lambda m, v: True)
        if choice is None:
            continue
        _move(
            plan,
            choice,
            "invalid-metadata",
            f"{name} {old} declares Requires-Dist '{metadata.invalid[0]}', which pip (24.1 and "
            f"later, as on Heroku) rejects as invalid metadata; {choice} is the nearest release "
            "whose metadata is valid",
            pins,
        )
        changed = True
    for _ in range(METADATA_ROUNDS):
        moved = _conflict_moves(pins, assessments, target) or _major_moves(
            pins, assessments, target, app_keys
        )
        if not moved:
            break
        changed = True
    return changed


def _conflict_moves(
    pins: _Pins, assessments: dict[str, Assessment], target: TargetPlatform
) -> bool:
    for key, plan in pins.plans.items():
        version = pins.version(key)
        metadata = pins.metadata(key, version)
        if metadata is None:
            continue
        for requirement in metadata.requirements(target, plan.line.extras):
            other_key = _canonical(requirement.name)
            other = pins.plans.get(other_key)
            if other is None or other_key == key:
                continue
            held = pins.version(other_key)
            if requirement.specifier.contains(held, prereleases=True):
                continue
            name, other_name = plan.line.name or key, other.line.name or other_key
            moved = f" (moved from {plan.moved_from})" if plan.moved_from else ""
            requires = f"{name} {version}{moved} requires {requirement}"
            # Move the required pin into the range, unless it was itself forced to move: then
            # the pin requiring it moves to a release that accepts it.
            if not other.moved_from or plan.moved_from:
                choice = _choose(
                    other,
                    pins,
                    assessments.get(other_key),
                    partial(_in_range, requirement),
                    partial(_version_in_range, requirement),
                )
                if choice is not None:
                    _move(
                        other, choice, "follows-dependency", f"{requires}; nearest: {choice}", pins
                    )
                    return True
            choice = _choose(
                plan,
                pins,
                assessments.get(key),
                partial(_accepts, other_key, held, target),
            )
            if choice is not None:
                _move(
                    plan,
                    choice,
                    "follows-dependency",
                    f"{requires}, but {other_name} is held at {held}; {choice} is the nearest "
                    f"release of {name} that accepts it",
                    pins,
                )
                return True
    return False


def _major_moves(
    pins: _Pins, assessments: dict[str, Assessment], target: TargetPlatform, app_keys: set[str]
) -> bool:
    """One dependent of a package a moved pin carried across a major version moves to its
    nearest release made after that major. When the package is a framework the app imports
    or runs, the old dependent fails (Flask-Login 0.4 under Flask 3): an error; for a package
    only other packages use (MarkupSafe under Jinja2) the dates are a hint, not a certainty
    (Jinja2 3.1.2 works with MarkupSafe 3): a warning, and the reason says it is judged from
    release dates."""
    for key, plan in pins.plans.items():
        new = pins.version(key)
        if not plan.moved_from:
            continue
        old_major, new_major = _major(plan.moved_from), _major(new)
        if old_major is None or new_major is None or new_major <= old_major:
            continue
        assessment = assessments.get(key)
        if assessment is None:
            continue
        first = next(
            (
                v
                for v in assessment.project.versions()
                if _major(v) == new_major and not _is_prerelease(v)
            ),
            None,
        )
        moment = assessment.first_upload(first) if first else None
        if moment is None:
            continue  # no release dates: the name-based fallback after resolution decides
        for other_key, other in pins.plans.items():
            if other_key == key or other.moved_from:
                continue
            held = pins.version(other_key)
            metadata = pins.metadata(other_key, held)
            other_assessment = assessments.get(other_key)
            if metadata is None or other_assessment is None:
                continue
            if not _names(metadata, key, target):
                continue
            uploaded = other_assessment.first_upload(held)
            if uploaded is None or uploaded >= moment:
                continue

            def made_for(
                m: DistMetadata,
                v: str,
                a: Assessment = other_assessment,
                required: str = key,
                held_new: str = new,
                since: str = moment,
            ) -> bool:
                when = a.first_upload(v)
                accepts = all(
                    r.specifier.contains(held_new, prereleases=True)
                    for r in _names(m, required, target)
                )
                return accepts and when is not None and when >= since

            def late(v: str, a: Assessment = other_assessment, since: str = moment) -> bool:
                when = a.first_upload(v)
                return when is not None and when >= since

            choice = _choose(other, pins, other_assessment, made_for, late)
            if choice is None:
                continue
            name, other_name = plan.line.name or key, other.line.name or other_key
            _move(
                other,
                choice,
                "follows-dependency",
                f"{name} moves from {plan.moved_from} to {new}, a new major release, and "
                f"{other_name} {held} (which requires {name}) predates it; {choice} is its "
                f"nearest release made after {name} {first}"
                + ("" if key in app_keys else " (judged from release dates, a heuristic)"),
                pins,
                FAILS if key in app_keys else FRAGILE,
            )
            return True
    return False


def _follow_framework(
    resolution: Resolution,
    plans: list[_Plan],
    assessments: dict[str, Assessment],
    app_keys: set[str],
) -> bool:
    """Move the pinned dependents of a framework that crossed a major release.

    Flask 0.12 moving to 3.x leaves Flask-Login 0.4.0 installable (its Requires-Dist has no
    upper bound) yet broken (``cannot import name '_request_ctx_stack'``). Who depends on the
    framework comes from the resolved set's Requires-Dist; which release of each dependent suits
    the new major comes from upload dates: the first release made after the framework's first
    release of that major (release dates are a tie-breaker the index provides, PEP 700).
    Returns whether a dependent moved (then the set is resolved again).
    """
    by_key = {plan.key: plan for plan in plans}
    changed = False
    for plan in plans:
        if not plan.moved_from:
            continue
        if plan.key not in app_keys:
            continue  # a framework is something the app itself imports or runs
        new = resolution.versions.get(plan.key)
        old_major, new_major = _major(plan.moved_from), _major(new or "")
        if new is None or old_major is None or new_major is None or new_major <= old_major:
            continue
        framework = assessments.get(plan.key)
        if framework is None:
            continue
        first = next((v for v in framework.project.versions() if _major(v) == new_major), None)
        moment = framework.first_upload(first) if first else None
        moved_pin = next((p for p in resolution.pins if p.name == plan.key), None)
        dependents = [
            parent
            for parent in (moved_pin.required_by if moved_pin else ())
            if parent in by_key and parent in app_keys
        ]
        # Extensions left out of the resolution (source-only pins) cannot show Requires-Dist;
        # their name says whose extension they are (Flask-Mail), a heuristic.
        dependents += [
            other.key
            for other in plans
            if not other.resolve
            and other.verdict == KEEP
            and other.line.pinned_version
            and other.key.startswith(plan.key + "-")
            and other.key not in dependents
        ]
        for name in dependents:
            dependent = by_key[name]
            assessment = assessments.get(name)
            pinned = dependent.constraint_version or dependent.line.pinned_version
            if assessment is None or pinned is None or dependent.moved_from:
                continue
            choices = assessment.released_after(moment) if moment else []
            if choices and choices[0] == pinned:
                continue
            pinned_upload = assessment.first_upload(pinned)
            if moment and pinned_upload and pinned_upload >= moment:
                continue  # already a release made for the new major
            choice = choices[0] if choices else assessment.newest
            if choice is None or choice == pinned:
                continue
            dependent.constraint = f"{name}=={choice}"
            dependent.resolve = True
            dependent.verdict = KEEP  # decided again once resolved
            dependent.moved_from = pinned
            dependent.severity = FAILS
            dependent.move_reason = (
                f"{plan.line.name} moves from {plan.moved_from} to {new}, a new major release, "
                f"and {dependent.line.name} {pinned} predates it"
                + (
                    f" ({choice} is its first release after {plan.line.name} {first})"
                    if choices
                    else ""
                )
            )
            changed = True
    return changed
