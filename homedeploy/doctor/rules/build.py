"""Build-stage rules: what Heroku's Python buildpack (v351) would reject or warn about.

The checks follow ``bin/detect`` and ``bin/compile`` in the buildpack's order (detection, package
manager, committed virtual environments, Python version, dependency install) and use its exact
headlines, so a finding reads like the build log the user would otherwise meet after a push.
"""

from __future__ import annotations

import re

from homedeploy.doctor.codes import BuildCode, Severity
from homedeploy.doctor.findings import Finding, finding
from homedeploy.doctor.rules import Rule, in_build, source_state
from homedeploy.doctor.snapshot import DETECT_NAMES, MISSPELT_REQUIREMENTS, ProjectSnapshot

NO_PACKAGE_MANAGER = "Error: Couldn't find any supported Python package manager files."
PIP_INSTALL_FAILED = "Error: Unable to install dependencies using pip."


_build = finding  # a finding's stage comes from its code's entry in doctor/codes.py


def detection(project: ProjectSnapshot) -> list[Finding]:
    """bin/detect: nothing Python-looking at the root means the buildpack refuses the app."""
    if project.names & DETECT_NAMES:
        return []
    nested = sorted(
        name
        for name in project.names
        if (project.root / name).is_dir() and (project.root / name / "requirements.txt").is_file()
    )
    fix = "add a requirements.txt (and a Procfile) at the root of the repository."
    if nested:
        fix = (
            f"the project files are in {nested[0]}/: move them to the root, or deploy that folder "
            "as its own repository."
        )
    return [
        _build(
            "not-python-app",
            "error",
            "No Python project files at the root: the buildpack does not recognise this as a "
            "Python app (App not compatible with buildpack).",
            heroku="Error: Your app is configured to use the Python buildpack, but we couldn't "
            "find any supported Python project files.",
            fix=fix,
        )
    ]


def package_manager(project: ProjectSnapshot) -> list[Finding]:
    """Exactly one of requirements.txt, Pipfile.lock, poetry.lock, uv.lock (package_manager.sh)."""
    if not project.names & DETECT_NAMES:
        return []  # detection already failed; the buildpack never gets this far
    choice = project.manager_choice
    problem = choice.problem
    if problem is None:
        return []
    if problem.code == "no-package-manager":
        for name in MISSPELT_REQUIREMENTS:
            if project.is_file(name):
                return [
                    _build(
                        "requirements-misspelt",
                        "error",
                        f"{name!r} is not read by the buildpack; the file must be named "
                        "requirements.txt (exact case).",
                        path=name,
                        heroku=NO_PACKAGE_MANAGER,
                        fix=f"rename {name} to requirements.txt (doctor --fix does it).",
                    )
                ]
        if project.is_file("pyproject.toml"):
            return [
                _build(
                    "pyproject-only",
                    "error",
                    "pyproject.toml alone is not a package-manager file for the buildpack.",
                    path="pyproject.toml",
                    heroku=NO_PACKAGE_MANAGER,
                    fix="commit a lock file (`uv lock` or `poetry lock`), or a requirements.txt "
                    "containing `--editable .`.",
                )
            ]
    return [
        _build(
            problem.code,
            "error",
            problem.message,
            path=problem.path,
            heroku=problem.headline,
            fix=problem.fix,
        )
    ]


def python_version(project: ProjectSnapshot) -> list[Finding]:
    """runtime.txt / misspelt names / .python-version, read exactly as lib/python_version.sh."""
    if not project.names & DETECT_NAMES:
        return []  # detection failed; the buildpack never reads a version
    requested = project.requested_python
    tool = project.package_manager
    findings: list[Finding] = []
    for problem in requested.problems:
        code: BuildCode
        severity: Severity
        code, severity, heroku, message = (
            problem.code,
            problem.severity,
            problem.headline,
            problem.message,
        )
        if tool == "uv" and code == "python-version-missing":
            severity, heroku = "error", "Error: No Python version was specified."
            message = "uv projects must name their Python in a .python-version file."
        if tool == "uv" and code == "runtime-txt-deprecated":
            code, severity = "runtime-txt-uv", "error"
            heroku = "Error: The runtime.txt file isn't supported when using uv."
            message = "runtime.txt cannot be used with uv."
        findings.append(
            _build(
                code,
                severity,
                message,
                path=problem.path,
                line=problem.line,
                heroku=heroku,
                fix=problem.fix,
            )
        )
    return findings


def requires_python(project: ProjectSnapshot) -> list[Finding]:
    """The manifest's Python requirement against the Python the buildpack picks.

    uv refuses (``uv sync`` errors: "...incompatible with the project's Python requirement");
    Poetry should too (python-poetry/poetry#10226 makes it use another Python instead, which is
    no better); Pipenv's ``--deploy`` warns about ``[requires] python_version``.
    """
    tool = project.package_manager
    wanted = project.requires_python
    if tool not in ("uv", "poetry", "pipenv") or wanted is None:
        return []
    requested = project.requested_python
    if any(p.severity == "error" for p in requested.problems):
        return []  # the version itself is rejected first
    from homedeploy.project.package_manager import INSTALL_FAILED
    from homedeploy.project.python_version import LATEST_PATCH

    resolved = requested.full or LATEST_PATCH.get(requested.major)
    if resolved is None or wanted.admits(resolved):
        return []
    origin = requested.origin if requested.origin != "default" else "Heroku's default"
    if tool == "uv":
        return [
            _build(
                "requires-python-mismatch",
                "error",
                f"The Python request from {origin} resolved to Python {resolved}, which is "
                f"incompatible with the project's Python requirement: `{wanted.written}` (from "
                f"`{wanted.field}`); uv stops the build.",
                heroku=INSTALL_FAILED["uv"],
                fix=f"write a version that {wanted.written} admits into .python-version (`uv "
                "python pin`), or widen requires-python and run `uv lock`.",
                path=wanted.path,
                line=wanted.line,
            )
        ]
    if tool == "poetry":
        return [
            _build(
                "requires-python-mismatch",
                "error",
                f"Heroku builds with Python {resolved} ({origin}), which {wanted.field} "
                f"`{wanted.written}` excludes; Poetry cannot install the project for it.",
                heroku=INSTALL_FAILED["poetry"],
                fix=f"write a version that {wanted.written} admits into .python-version, or "
                "widen the requirement and run `poetry lock`.",
                path=wanted.path,
                line=wanted.line,
            )
        ]
    return [
        _build(
            "requires-python-mismatch",
            "warning",
            f'Your Pipfile requires "python_version" {wanted.written}, but Heroku builds with '
            f"Python {resolved} ({origin}); `pipenv install --deploy` warns and may abort.",
            heroku=INSTALL_FAILED["pipenv"],
            fix="make Pipfile's [requires] python_version match .python-version, then run "
            "`pipenv lock`.",
            path=wanted.path,
            line=wanted.line,
        )
    ]


def lock_file(project: ProjectSnapshot) -> list[Finding]:
    """The lock must parse and match its manifest: the buildpack installs with ``--locked`` /
    ``--deploy`` / ``poetry sync``, which abort otherwise. Decided by the real tool."""
    tool = project.package_manager
    if tool not in ("uv", "poetry", "pipenv"):
        return []
    from homedeploy.project.lock_check import STALE, UNKNOWN
    from homedeploy.project.package_manager import INSTALL_FAILED, LOCK_FILE, MANIFEST

    lock = LOCK_FILE[tool]  # type: ignore[index]
    locked = project.locked
    heroku = INSTALL_FAILED[tool]  # type: ignore[index]
    if locked is not None and locked.error:
        if tool == "pipenv" and project.requested_python.origin == "Pipfile.lock":
            return []  # already reported as "Can't parse Pipfile.lock"
        return [
            _build(
                "lock-invalid",
                "error",
                f"{locked.error}.",
                path=lock,
                heroku=heroku,
                fix=f"regenerate it with `{_lock_command(tool)}` and commit it.",
            )
        ]
    manifest = MANIFEST[tool]  # type: ignore[index]
    if not project.is_file(manifest):
        return [
            _build(
                "lock-without-manifest",
                "error",
                f"{lock} is committed without {manifest}; {tool} cannot install from it.",
                path=lock,
                heroku=heroku,
                fix=f"commit {manifest} too.",
            )
        ]
    status = project.lock_status
    if status is None or status.state == UNKNOWN:
        return []
    if status.state == STALE:
        return [
            _build(
                "lock-out-of-date",
                "error",
                f"{lock} is out of date with {manifest} ({status.how}): {status.message}",
                path=lock,
                heroku=heroku,
                fix=f"run `{_lock_command(tool)}` and commit {lock} "
                "(`homedeploy check-reqs --write` does it for Heroku's Python).",
            )
        ]
    return []


def _lock_command(tool: str) -> str:
    return {"uv": "uv lock", "poetry": "poetry lock", "pipenv": "pipenv lock"}.get(tool, tool)


def committed_virtualenvs(project: ProjectSnapshot) -> list[Finding]:
    """.venv/ or venv/ with pyvenv.cfg in the source fail the build; any other venv bloats it."""
    findings: list[Finding] = []
    for rel in project.virtualenvs:
        state = source_state(project, rel)
        if not in_build(state):
            continue
        buildpack_checked = (
            rel in (".venv", "venv") and (project.root / rel / "pyvenv.cfg").is_file()
        )
        where = "is committed" if state in ("committed", "staged") else "is in the source folder"
        if buildpack_checked:
            findings.append(
                _build(
                    "venv-in-source",
                    "error",
                    f"The virtual environment {rel}/ {where}; the buildpack refuses to build "
                    "over it.",
                    path=f"{rel}/",
                    heroku=f"Error: Existing '{rel}/' directory found.",
                    fix=_venv_fix(rel, state),
                )
            )
        else:
            findings.append(
                _build(
                    "venv-committed",
                    "warning",
                    f"A virtual environment {where}: it is built for this machine, does not "
                    "run on a dyno, and inflates the slug.",
                    path=f"{rel}/",
                    fix=_venv_fix(rel, state),
                )
            )
    return findings


def _venv_fix(rel: str, state: str) -> str:
    fix = f"add /{rel}/ to .gitignore (doctor --fix does it)"
    if state in ("committed", "staged"):
        fix += f", then `git rm -r --cached {rel}` and commit"
    return fix + "."


def heroku_python_dir(project: ProjectSnapshot) -> list[Finding]:
    """A .heroku/python in the source collides with the Python the buildpack installs."""
    target = project.root / ".heroku" / "python"
    if not (target.exists() or target.is_symlink()):
        return []
    if not in_build(source_state(project, ".heroku/python")):
        return []
    return [
        _build(
            "heroku-python-dir",
            "error",
            ".heroku/python is in the source; the buildpack installs Python there itself.",
            path=".heroku/python",
            heroku="Error: Existing '.heroku/python/' directory found.",
            fix="delete .heroku/python from the repository (`git rm -r --cached .heroku/python`) "
            "and ignore it.",
        )
    ]


def requirement_lines(project: ProjectSnapshot) -> list[Finding]:
    """Lines pip would reject (with line numbers), paths only this machine has, hash gaps."""
    from homedeploy.requirements.file import EDITABLE, INVALID, LOCAL_PATH, REQUIREMENT, URL

    if project.package_manager != "pip":
        return []
    requirements = project.requirements
    if requirements is None:
        return []
    findings: list[Finding] = []
    for line in requirements.lines:
        if line.kind == INVALID:
            findings.append(
                _build(
                    "requirement-invalid",
                    "error",
                    f"pip rejects this line: {line.reason}.",
                    path=project.relative(line.path),
                    line=line.line,
                    heroku=PIP_INSTALL_FAILED,
                    fix="correct or delete the line (`homedeploy check-reqs --write` rewrites "
                    "the file).",
                )
            )
        elif line.url and is_vcs_url(line.url):
            unpinned = vcs_unpinned(line.url)
            if unpinned:
                findings.append(_vcs_warning(project.relative(line.path), line.line, line.text))
        elif line.kind in (LOCAL_PATH, EDITABLE) and line.url:
            problem = project.local_reference_problem(line.url)  # pip resolves from the root
            if problem:
                findings.append(
                    _build(
                        "requirement-local-path",
                        "error",
                        f"{line.text!r} cannot be installed on Heroku: {problem} (typical of a "
                        "conda `pip freeze`).",
                        path=project.relative(line.path),
                        line=line.line,
                        heroku=PIP_INSTALL_FAILED,
                        fix="replace it with the plain name and version, e.g. `name==1.2.3`.",
                    )
                )
    named = [
        line
        for line in requirements.lines
        if line.kind in (REQUIREMENT, URL, LOCAL_PATH) and not line.constraint
    ]
    if any(line.hashes for line in named):
        for line in named:
            if not line.hashes:
                findings.append(
                    _build(
                        "requirement-missing-hash",
                        "error",
                        f"{line.text!r} has no --hash while other lines do; pip then requires "
                        "hashes on every line.",
                        path=project.relative(line.path),
                        line=line.line,
                        heroku=PIP_INSTALL_FAILED,
                        fix="regenerate the file with `pip-compile --generate-hashes`.",
                    )
                )
    pins: dict[str, tuple[str, int]] = {}
    for line in named:
        version = line.pinned_version
        if not line.name or version is None:
            continue
        key = line.name.lower().replace("_", "-").replace(".", "-")
        earlier = pins.get(key)
        if earlier and earlier[0] != version:
            findings.append(
                _build(
                    "requirement-conflict",
                    "error",
                    f"{line.name} is pinned twice (=={earlier[0]} at line {earlier[1]} and "
                    f"=={version}); pip cannot install both.",
                    path=project.relative(line.path),
                    line=line.line,
                    heroku=PIP_INSTALL_FAILED,
                    fix="keep one pin.",
                )
            )
        else:
            pins.setdefault(key, (version, line.line))
    return findings


_VCS_PREFIX_RE = re.compile(r"^(git|hg|svn|bzr)\+", re.IGNORECASE)
_COMMIT_RE = re.compile(r"^[0-9a-f]{7,40}$")


def is_vcs_url(url: str) -> bool:
    """``git+https://...`` and friends: pip clones them (git is on Heroku's build image)."""
    return bool(_VCS_PREFIX_RE.match(url.strip()))


def vcs_unpinned(url: str) -> bool:
    """Whether a VCS URL names no commit (``@<sha>``): a branch or tag can move under you."""
    from urllib.parse import urlsplit

    path = urlsplit(_VCS_PREFIX_RE.sub("", url.strip())).path
    if "@" not in path:
        return True
    return not _COMMIT_RE.match(path.rsplit("@", 1)[1])


def _vcs_warning(path: str, line: int | None, text: str) -> Finding:
    return _build(
        "requirement-vcs-unpinned",
        "warning",
        f"{text!r} installs from a VCS branch or tag, not a commit: each build may get "
        "different code (pip clones it on Heroku; git is there).",
        path=path,
        line=line,
        fix="pin the commit: `git+https://...@<full commit hash>#egg=<name>`.",
    )


def locked_sources(project: ProjectSnapshot) -> list[Finding]:
    """VCS and local-path records of a uv/Poetry/Pipenv lock, judged as pip treats them."""
    locked = project.locked
    if locked is None or locked.error:
        return []
    from homedeploy.project.locked import PATH_SOURCE, VCS

    findings: list[Finding] = []
    for package in locked.packages:
        where = project.relative(package.path)
        if package.source == VCS and package.url and vcs_unpinned(package.url):
            findings.append(_vcs_warning(where, package.line, package.requirement_text()))
        elif package.source == PATH_SOURCE and package.url:
            problem = project.local_reference_problem(package.url)
            if problem:
                findings.append(
                    _build(
                        "requirement-local-path",
                        "error",
                        f"{package.name} is locked from {package.url!r}, which Heroku's build "
                        f"cannot see: {problem}.",
                        path=where,
                        line=package.line,
                        heroku=f"Error: Unable to install dependencies using {locked.tool}.",
                        fix="commit that folder inside the project, or depend on a released "
                        "version from the package index.",
                    )
                )
    return findings


def never_installs_on_heroku(project: ProjectSnapshot) -> list[Finding]:
    """Lines known to fail on Heroku without asking the index: conda-only and OS-only packages.

    These are the lines that broke the homedataflask builds one push at a time (conda,
    anaconda-*, mkl-fft, appnope, pywin32, ...). A platform marker that excludes Linux (e.g.
    ``pywin32; sys_platform == "win32"``) makes such a line harmless, so markers are evaluated
    for Heroku's platform first. With the network, check-reqs' verdicts replace this guess.
    """
    if project.package_manager != "pip" or project.requirements is None:
        return []
    from packaging.utils import canonicalize_name

    from homedeploy.requirements.file import REQUIREMENT
    from homedeploy.requirements.platform import CONDA_ONLY_RE, OS_ONLY_RE, TargetPlatform

    target = TargetPlatform(project.requested_python.major)
    findings: list[Finding] = []
    for line in project.requirements.lines:
        if line.kind != REQUIREMENT or not line.name or line.constraint:
            continue
        name = str(canonicalize_name(line.name))
        if CONDA_ONLY_RE.match(name):
            why = "is a conda package: pip finds no such distribution (or version) on the index"
        elif OS_ONLY_RE.match(name):
            why = "only installs on Windows or macOS, and Heroku builds on Linux"
        else:
            continue
        if not target.marker_holds(line.markers):
            continue
        findings.append(
            _build(
                "requirement-never-installs",
                "error",
                f"{line.text!r} {why}.",
                path=project.relative(line.path),
                line=line.line,
                heroku="No matching distribution found (Error: Unable to install dependencies "
                "using pip.)",
                fix="delete the line (`homedeploy check-reqs --write` rewrites the file to what "
                "the app needs).",
            )
        )
    return findings


FREEZE_MIN_LINES = 40


def whole_environment_freeze(project: ProjectSnapshot) -> list[Finding]:
    """A freeze of a whole (Anaconda) environment: hundreds of pins the app never imports."""
    if project.package_manager != "pip" or project.requirements is None:
        return []
    from homedeploy.requirements.file import REQUIREMENT

    pinned = [line for line in project.requirements.lines if line.kind == REQUIREMENT]
    if len(pinned) < FREEZE_MIN_LINES:
        return []
    if "# via" in (project.read_text("requirements.txt") or ""):
        return []  # compiled by pip-tools/uv: every pin is there for a reason
    from homedeploy.requirements.app_needs import app_needs

    needs = {need.dist.lower() for need in app_needs(project.root) if not need.optional}
    if len(needs) * 10 > len(pinned):
        return []
    return [
        _build(
            "requirements-freeze",
            "warning",
            f"{len(pinned)} pinned packages, but the code needs "
            f"{len(needs)} ({', '.join(sorted(needs)) or 'none'}): it looks like a `pip freeze` "
            "of a whole environment. Every extra line can stop the build (conda-only packages, "
            "old pins without wheels for Heroku's Python), one failure per push.",
            path="requirements.txt",
            heroku=PIP_INSTALL_FAILED,
            fix="`homedeploy check-reqs --app . --write` rewrites it to what the app needs.",
        )
    ]


RULES: tuple[Rule, ...] = (
    detection,
    package_manager,
    heroku_python_dir,
    committed_virtualenvs,
    python_version,
    requires_python,
    lock_file,
    locked_sources,
    requirement_lines,
    never_installs_on_heroku,
    whole_environment_freeze,
)
