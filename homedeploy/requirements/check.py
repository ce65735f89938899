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
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from homedeploy.errors import UsageError
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
    IndexSources,
    PackageIndex,
    ProjectFiles,
    pip_index_sources,
    redact,
)
from homedeploy.requirements.platform import (
    CONDA_ONLY_RE,
    OS_ONLY_RE,
    TargetPlatform,
    target_for_app,
)
from homedeploy.requirements.report import (
    ADD,
    DROP,
    ERROR,
    KEEP,
    REPIN,
    CheckReport,
    LineCause,
    LineVerdict,
    TopLevel,
    Verdict,
)
from homedeploy.requirements.resolution import REQUESTED, Resolution, resolve
from homedeploy.requirements.writer import write_requirements


class _Why(NamedTuple):
    """A reason for a verdict: the typed cause decisions use, and the text users read."""

    cause: LineCause
    text: str


_OS_TAG_RE = re.compile(r"(^|\.)(win|macosx|ios|android)")
# Source-only packages with a binary twin on the index.
BINARY_TWIN = {"psycopg2": "psycopg2-binary"}


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
        """The newest version with a wheel for the target."""
        for version in reversed(self.project.versions()):
            if self.is_usable(version):
                return version
        return None

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

    def nearest(self, version: str) -> str | None:
        """The closest version with a wheel for the target: the next newer one, else older."""
        from packaging.version import InvalidVersion, Version

        try:
            wanted = Version(version)
        except InvalidVersion:
            return self.newest
        versions = self.project.versions()
        for candidate in versions:
            if Version(candidate) > wanted and self.is_usable(candidate):
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
) -> CheckReport:
    """Judge every line of ``requirements`` for the app at ``app``; optionally write the result.

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
    parsed = read_requirements(req_path)
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
    if python:
        heroku = target_for_app(app_dir)
        if heroku.python != target.python:
            where = "its default" if heroku.origin == "default" else heroku.origin
            report.notes.append(
                f"Heroku will build this app with Python {heroku.python} ({where}), not "
                f"{target.python}: write {target.python} into .python-version to match."
            )
    sources = pip_index_sources(_file_options(parsed))
    report.sources = sources.describe()
    index = PackageIndex(sources, offline=offline)

    named_lines = [
        line
        for line in parsed.lines
        if line.name and line.kind in (REQUIREMENT, LOCAL_PATH, URL, EDITABLE)
    ]
    names_in_file = {_canonical(line.name or "") for line in named_lines}
    procfile_web = _has_web_process(app_dir)
    if not procfile_web and not any(_canonical(n.dist) == "gunicorn" for n in needs):
        needs.append(
            AppNeed(
                "gunicorn",
                "Heroku serves the app with gunicorn (no Procfile web process yet)",
                "Procfile",
            )
        )
    need_keys = {_need_key(need, names_in_file): need for need in needs}
    report.needed_names = set(need_keys)
    # What the app needs is looked up first, so the resolver can start while the (many) other
    # names of the file are looked up.
    twins = {BINARY_TWIN[key] for key in need_keys if key in BINARY_TWIN}
    first = index.projects(sorted(set(need_keys) | twins))
    assessments = {name: assess(project, target) for name, project in first.items()}

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
    resolver_lines += [entry.requirement for entry in top.values() if not entry.source_only]
    in_text = "".join(f"{text}\n" for text in resolver_lines)
    needs_resolver = any(not entry.source_only for entry in top.values())
    early = _start_fresh_resolution(in_text, target, sources, write, offline, needs_resolver)
    rest = index.projects(sorted(names_in_file))
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


def _missing_lines(
    lines: list[LineVerdict],
    need_errors: dict[str, str],
    top: dict[str, TopLevel],
    resolved: dict[str, str],
) -> list[LineVerdict]:
    """Rows for needs no line of the file covers: errors, and packages to add."""
    covered = {_canonical(v.name) for v in lines if v.name}
    rows = [
        LineVerdict(None, "", key, ERROR, message, None, "", cause="needed-uninstallable")
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
        text = path.read_bytes().decode("utf-8", errors="replace")
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
