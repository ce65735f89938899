"""Every doctor finding code, typed, and the one registry that says what each code is.

A code is what scripts and the rest of homedeploy decide on (never the message text). Each one
belongs to a rule module, which is its stage (``doctor/rules/build.py``, ``boot.py``,
``repository.py``; ``engine.py`` adds the app-loading and check-reqs findings), has a severity,
and may have a safe fixer in ``doctor/fixes.py``. A new finding code is added here first: the
``Literal`` of its stage, then its :data:`CODES` entry; mypy then checks every rule that emits it,
and ``tests/test_doctor_codes.py`` checks the registry is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from homedeploy.project.python_version import VersionCode

Stage = Literal["build", "boot", "repository"]
"""``build``: the buildpack would fail or warn; ``boot``: the dyno would not serve;
``repository``: what git would (not) deploy."""

Severity = Literal["error", "warning"]
"""``error``: the build or the boot will fail (or the dyno would be unsafe to expose);
``warning``: it works, but something is wrong or about to break."""

BuildCode = Literal[
    VersionCode,
    "not-python-app",
    "pipfile-without-lock",
    "multiple-package-managers",
    "setup-py-only",
    "requirements-misspelt",
    "pyproject-only",
    "no-package-manager",
    "runtime-txt-uv",
    "requires-python-mismatch",
    "lock-invalid",
    "lock-without-manifest",
    "lock-out-of-date",
    "requirement-vcs-unpinned",
    "venv-in-source",
    "venv-committed",
    "heroku-python-dir",
    "requirement-invalid",
    "requirement-local-path",
    "requirement-missing-hash",
    "requirement-conflict",
    "requirement-never-installs",
    "requirements-freeze",
    # from check-reqs' verdicts (doctor/engine.py, online only)
    "check-reqs-error",
    "check-reqs-repin",
    "check-reqs-unneeded",
    "check-reqs-fragile",
    "requirement-uninstallable",
]

BootCode = Literal[
    "procfile-misnamed",
    "procfile-not-at-root",
    "procfile-missing",
    "procfile-bom",
    "procfile-invalid-line",
    "procfile-web-case",
    "procfile-no-web",
    "procfile-shell-syntax",
    "procfile-dev-server",
    "procfile-port-unknown",
    "procfile-no-target",
    "procfile-target-file",
    "procfile-module-missing",
    "procfile-target-invalid",
    "app-syntax-error",
    "procfile-attr-missing",
    "procfile-factory-not-called",
    "procfile-object-called",
    "procfile-factory-arguments",
    "gunicorn-config-missing",
    "bind-localhost",
    "hardcoded-port",
    "gunicorn-not-installed",
    "flask-not-installed",
    "import-not-installed",
    "app-run-at-import",
    "flask-debug-config",
    "flask-debug",
    # doctor/engine.py: the app loaded in the project's venv, and check-reqs' missing packages
    "app-import-failed",
    "check-reqs-add",
    # doctor/rules/config.py: config vars and data on a dyno
    "config-var-unset",
    "config-var-defaulted",
    "sqlite-on-dyno",
    "postgres-scheme",
]

RepositoryCode = Literal[
    "project-not-repo-root",
    "repo-no-commits",
    "file-untracked",
    "file-ignored",
    "file-not-committed",
    "file-uncommitted",
    "uncommitted-changes",
    "venv-not-ignored",
    "secret-committed",
    "pycache-committed",
    "sessions-committed",
    "gitignore-pattern-unmatched",
    "detached-head",
    "branch-not-main",
    "slug-too-large",
    "slug-large",
]

FindingCode = Literal[BuildCode, BootCode, RepositoryCode]

FixerName = Literal[
    "ignore-folder",
    "runtime-txt-to-python-version",
    "rename-version-file",
    "reencode-version-file",
    "rename-requirements",
    "rename-procfile",
    "strip-procfile-bom",
    "create-procfile",
    "retarget-procfile",
    "add-gunicorn",
    "add-flask",
    "rewrite-requirements",
]
"""The safe repairs of ``doctor --fix`` (``doctor/fixes.py`` maps each name to its function)."""


@dataclass(frozen=True)
class CodeInfo:
    """What a finding code is.

    ``severity`` is the one the rule gives; where ``severity_varies``, the rule picks it from the
    facts (``procfile-dev-server`` is a warning when the dev server does bind $PORT; a missing
    version is an error for uv projects). ``explains_import_failure``: the finding already says
    why gunicorn cannot load the app, so a failed load in the venv adds nothing.
    ``offline_guess``: an offline heuristic that check-reqs' verdicts replace when doctor may use
    the network.
    """

    stage: Stage
    severity: Severity
    fixer: FixerName | None = None
    severity_varies: bool = False
    explains_import_failure: bool = False
    offline_guess: bool = False


def _build(severity: Severity, fixer: FixerName | None = None, **flags: bool) -> CodeInfo:
    return CodeInfo("build", severity, fixer, **flags)


def _boot(severity: Severity, fixer: FixerName | None = None, **flags: bool) -> CodeInfo:
    return CodeInfo("boot", severity, fixer, **flags)


def _repository(severity: Severity, fixer: FixerName | None = None, **flags: bool) -> CodeInfo:
    return CodeInfo("repository", severity, fixer, **flags)


CODES: dict[FindingCode, CodeInfo] = {
    # build: detection and the package manager
    "not-python-app": _build("error"),
    "pipfile-without-lock": _build("error"),
    "multiple-package-managers": _build("error"),
    "setup-py-only": _build("error"),
    "requirements-misspelt": _build("error", "rename-requirements"),
    "pyproject-only": _build("error"),
    "no-package-manager": _build("error"),
    # build: the Python version (project/python_version.py reads it as the buildpack does)
    "pipfile-lock-invalid": _build("error"),
    "pipfile-lock-version-invalid": _build("error"),
    "python-eol": _build("error"),
    "python-unknown": _build("error"),
    "python-deprecated": _build("warning"),
    "python-unknown-patch": _build("error"),
    "python-patch-outdated": _build("warning"),
    "runtime-txt-deprecated": _build("warning", "runtime-txt-to-python-version"),
    "runtime-txt-invalid": _build("error"),
    "runtime-txt-uv": _build("error"),
    # build: uv, Poetry and Pipenv (project/package_manager.py, lock_check.py: the real tools)
    "requires-python-mismatch": _build("error", severity_varies=True),
    "lock-invalid": _build("error"),
    "lock-without-manifest": _build("error"),
    "lock-out-of-date": _build("error"),
    "python-version-encoding": _build("error", "reencode-version-file"),
    "python-version-invalid": _build("error"),
    "python-version-empty": _build("error"),
    "python-version-multiple": _build("error"),
    "python-version-misspelt": _build("error", "rename-version-file"),
    "python-version-missing": _build("warning", severity_varies=True),
    # build: what is in the source
    "venv-in-source": _build("error", "ignore-folder"),
    "venv-committed": _build("warning", "ignore-folder"),
    "heroku-python-dir": _build("error"),
    # build: requirements.txt read offline
    "requirement-invalid": _build("error"),
    "requirement-local-path": _build("error"),
    "requirement-vcs-unpinned": _build("warning"),
    "requirement-missing-hash": _build("error"),
    "requirement-conflict": _build("error"),
    "requirement-never-installs": _build("error", offline_guess=True),
    "requirements-freeze": _build("warning", offline_guess=True),
    # build: check-reqs' verdicts against the package index
    # check-reqs' codes carry the line's own severity (error: the build or boot fails as is)
    "check-reqs-error": _build("error", "rewrite-requirements"),
    "check-reqs-repin": _build("warning", "rewrite-requirements", severity_varies=True),
    "check-reqs-unneeded": _build("warning"),
    "check-reqs-fragile": _build("warning"),
    "requirement-uninstallable": _build("error", "rewrite-requirements"),
    # boot: the Procfile
    "procfile-misnamed": _boot("error", "rename-procfile"),
    "procfile-not-at-root": _boot("error"),
    "procfile-missing": _boot("error", "create-procfile"),
    "procfile-bom": _boot("error", "strip-procfile-bom"),
    "procfile-invalid-line": _boot("warning"),
    "procfile-web-case": _boot("error"),
    "procfile-no-web": _boot("error"),
    "procfile-shell-syntax": _boot("error"),
    "procfile-dev-server": _boot("error", severity_varies=True),
    "procfile-port-unknown": _boot("warning"),
    # boot: what gunicorn would load
    "procfile-no-target": _boot("error", "retarget-procfile", explains_import_failure=True),
    "procfile-target-file": _boot("error", "retarget-procfile", explains_import_failure=True),
    "procfile-module-missing": _boot("error", "retarget-procfile", explains_import_failure=True),
    "procfile-target-invalid": _boot("error", explains_import_failure=True),
    "app-syntax-error": _boot("error", explains_import_failure=True),
    "procfile-attr-missing": _boot("error", "retarget-procfile", explains_import_failure=True),
    "procfile-factory-not-called": _boot(
        "error", "retarget-procfile", explains_import_failure=True
    ),
    "procfile-object-called": _boot("error", explains_import_failure=True),
    "procfile-factory-arguments": _boot("error", explains_import_failure=True),
    # boot: gunicorn's options
    "gunicorn-config-missing": _boot("error"),
    "bind-localhost": _boot("error"),
    "hardcoded-port": _boot("error"),
    # boot: what the dyno installs
    "gunicorn-not-installed": _boot("error", "add-gunicorn", explains_import_failure=True),
    "flask-not-installed": _boot("error", "add-flask", explains_import_failure=True),
    "import-not-installed": _boot("warning", offline_guess=True, severity_varies=True),
    "check-reqs-add": _boot("error", "rewrite-requirements", severity_varies=True),
    # boot: the app's code
    "app-run-at-import": _boot("error"),
    "flask-debug-config": _boot("warning"),
    "flask-debug": _boot("error"),
    "app-import-failed": _boot("error"),
    # boot: the dyno's config vars and disk
    "config-var-unset": _boot("error", explains_import_failure=True),
    "config-var-defaulted": _boot("warning"),
    "sqlite-on-dyno": _boot("warning"),
    "postgres-scheme": _boot("warning"),
    # repository: what git would push
    "project-not-repo-root": _repository("error"),
    "repo-no-commits": _repository("error"),
    "file-untracked": _repository("error"),
    "file-ignored": _repository("error"),
    "file-not-committed": _repository("error"),
    "file-uncommitted": _repository("warning"),
    "uncommitted-changes": _repository("warning"),
    "venv-not-ignored": _repository("warning", "ignore-folder"),
    "secret-committed": _repository("warning"),
    "pycache-committed": _repository("warning"),
    "sessions-committed": _repository("warning"),
    "gitignore-pattern-unmatched": _repository("warning"),
    "detached-head": _repository("warning"),
    "branch-not-main": _repository("warning"),
    "slug-too-large": _repository("error"),
    "slug-large": _repository("warning"),
}
"""code -> stage (its rule module), severity, fixer: the one table doctor decides on."""

ALL_CODES: tuple[FindingCode, ...] = get_args(FindingCode)


EXPLAINS_IMPORT_FAILURE = frozenset(c for c, info in CODES.items() if info.explains_import_failure)
"""Boot findings that already explain why importing the app would fail."""

OFFLINE_GUESSES = frozenset(c for c, info in CODES.items() if info.offline_guess)
"""Offline heuristics that check-reqs' verdicts supersede."""
