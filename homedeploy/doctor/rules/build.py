"""Build-stage rules: what Heroku's Python buildpack (v351) would reject or warn about.

The checks follow ``bin/detect`` and ``bin/compile`` in the buildpack's order (detection, package
manager, committed virtual environments, Python version, dependency install) and use its exact
headlines, so a finding reads like the build log the user would otherwise meet after a push.
"""

from __future__ import annotations

import json

from homedeploy.doctor.codes import BuildCode, Severity, Stage
from homedeploy.doctor.findings import Finding
from homedeploy.doctor.rules import Rule, in_build, source_state
from homedeploy.doctor.snapshot import DETECT_NAMES, MISSPELT_REQUIREMENTS, ProjectSnapshot

NO_PACKAGE_MANAGER = "Error: Couldn't find any supported Python package manager files."
PIP_INSTALL_FAILED = "Error: Unable to install dependencies using pip."
STAGE: Stage = "build"


def _build(
    code: BuildCode,
    severity: Severity,
    message: str,
    *,
    path: str | None = None,
    line: int | None = None,
    heroku: str | None = None,
    fix: str | None = None,
) -> Finding:
    return Finding(code, STAGE, severity, message, path, line, heroku, fix)


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
    if project.is_file("Pipfile") and not project.is_file("Pipfile.lock"):
        return [
            _build(
                "pipfile-without-lock",
                "error",
                "Pipfile has no Pipfile.lock; the buildpack installs only from the lock file.",
                path="Pipfile",
                heroku="Error: No 'Pipfile.lock' found!",
                fix="run `pipenv lock` and commit Pipfile.lock (or delete Pipfile and use "
                "requirements.txt).",
            )
        ]
    found = project.package_managers
    if len(found) > 1:
        listed = ", ".join(f"{name} ({tool})" for name, tool in found)
        return [
            _build(
                "multiple-package-managers",
                "error",
                f"Several package-manager files: {listed}; the buildpack needs exactly one.",
                path=found[1][0],
                heroku="Error: Multiple Python package manager files were found.",
                fix="keep the one you use and delete the others (a requirements.txt generated "
                "from a lock file must not be committed beside it).",
            )
        ]
    if found:
        return []
    if project.is_file("setup.py"):
        return [
            _build(
                "setup-py-only",
                "error",
                "Only setup.py: the buildpack no longer installs a project from setup.py alone.",
                path="setup.py",
                heroku="Error: Implicit setup.py file support has been sunset.",
                fix="add a requirements.txt containing the line `--editable .`.",
            )
        ]
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
            "no-package-manager",
            "error",
            "No requirements.txt, Pipfile.lock, poetry.lock or uv.lock at the root.",
            heroku=NO_PACKAGE_MANAGER,
            fix="write a requirements.txt listing what the app imports "
            "(`homedeploy check-reqs` turns a pip freeze into one).",
        )
    ]


def _pipfile_lock_version(project: ProjectSnapshot) -> list[Finding]:
    """Pipenv apps with no version file: the buildpack reads python_(full_)version from the lock."""
    from homedeploy.project.python_version import VERSION_RE, version_problems

    text = project.read_text("Pipfile.lock")
    try:
        data = json.loads(text or "")
    except ValueError as error:
        return [
            _build(
                "pipfile-lock-invalid",
                "error",
                f"Pipfile.lock is not valid JSON ({error}).",
                path="Pipfile.lock",
                heroku="Error: Can't parse Pipfile.lock.",
                fix="run `pipenv lock` again and commit the result.",
            )
        ]
    requires = data.get("_meta", {}).get("requires", {}) if isinstance(data, dict) else {}
    version = requires.get("python_full_version") or requires.get("python_version")
    if not version:
        return []
    if not isinstance(version, str) or not VERSION_RE.match(version):
        return [
            _build(
                "pipfile-lock-version-invalid",
                "error",
                f"Pipfile.lock asks for Python {version!r}; wildcards aren't supported.",
                path="Pipfile.lock",
                heroku="Error: Invalid Python version in Pipfile.lock.",
                fix="set python_version in Pipfile to X.Y and run `pipenv lock`.",
            )
        ]
    return [
        _build(p.code, p.severity, p.message, path="Pipfile.lock", heroku=p.headline, fix=p.fix)
        for p in version_problems(version, "Pipfile.lock", "Pipfile.lock")
    ]


def python_version(project: ProjectSnapshot) -> list[Finding]:
    """runtime.txt / misspelt names / .python-version, read exactly as lib/python_version.sh."""
    if not project.names & DETECT_NAMES:
        return []  # detection failed; the buildpack never reads a version
    requested = project.requested_python
    tool = project.package_manager
    findings: list[Finding] = []
    if tool == "pipenv" and requested.origin == "default":
        return _pipfile_lock_version(project)
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
    requirement_lines,
    never_installs_on_heroku,
    whole_environment_freeze,
)
