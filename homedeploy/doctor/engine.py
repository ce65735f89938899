"""The doctor engine: every build, boot and repository problem of a project, found at once.

Heroku's buildpack stops at the first failure and a crashed boot only shows in ``heroku logs``;
doctor runs every rule (``homedeploy.doctor.rules``) over one :class:`ProjectSnapshot`, loads the
app in the project's venv when there is one, adds check-reqs' verdicts when the network may be
used, and with ``fix`` applies the safe repairs and checks again. ``push`` and the rehearsal use
this engine directly (commands never import each other).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from homedeploy.doctor.codes import EXPLAINS_IMPORT_FAILURE, OFFLINE_GUESSES, FindingCode, Severity
from homedeploy.doctor.findings import Finding, sort_key
from homedeploy.doctor.fixes import FixApplied, apply_fixes
from homedeploy.doctor.snapshot import ProjectSnapshot
from homedeploy.errors import UsageError

if TYPE_CHECKING:
    from homedeploy.jsonout import JsonKeys


@dataclass
class DoctorReport:
    """doctor's verdict: ``pass`` unless a finding is an error."""

    project: str
    verdict: str
    findings: list[Finding] = field(default_factory=list)
    fixes_applied: list[FixApplied] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_error]

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"

    JSON_KEYS: ClassVar[JsonKeys] = ("verdict", "findings", "fixes_applied", "notes", "project")
    """The documented ``doctor --json`` shape (plus fixes and notes)."""


def _project_dir(path: Path) -> Path:
    if not path.exists():
        raise UsageError(
            f"{path} does not exist",
            path=path,
            fix="pass the folder of your Flask app (default: the current folder).",
        )
    if not path.is_dir():
        raise UsageError(
            f"{path} is a file; doctor checks a project folder",
            path=path,
            fix=f"run `homedeploy doctor {path.parent}`.",
        )
    return path.resolve()


def _start_import_check(project: ProjectSnapshot) -> Any:
    """Begin loading the app in the project's venv (in the background); None when not possible."""
    from homedeploy.doctor.rules.boot import web_command

    web = web_command(project)
    venv = project.local_venv
    if web is None or web.gunicorn is None or venv is None:
        return None
    from homedeploy.doctor.import_check import ImportCheck

    return ImportCheck(project.root, venv, web.process.command)


def _import_findings(
    project: ProjectSnapshot, check: Any, static: list[Finding]
) -> tuple[list[Finding], list[str]]:
    result = check.result()
    if result.skipped:
        return [], [f"The app was not loaded in {result.venv}/: {result.skipped}."]
    if result.ok:
        return [], [f"The app loads in {result.venv}/ (gunicorn --check-config passed)."]
    if any(f.code in EXPLAINS_IMPORT_FAILURE for f in static):
        return [], []  # the static finding already says why
    web_line = project.procfile.web.line if project.procfile and project.procfile.web else None
    return [
        Finding(
            "app-import-failed",
            "boot",
            "error",
            f"Loading the app in {result.venv}/ failed: {result.message}",
            path="Procfile",
            line=web_line,
            heroku="H10 (App crashed)",
            fix="fix the error above (a package missing from requirements.txt, or code that "
            "fails at import); `homedeploy push --local` shows the full boot log.",
        )
    ], []


INSTALLED_BY_CODE: dict[str, str] = {
    "flask-not-installed": "flask",
    "gunicorn-not-installed": "gunicorn",
}
"""Offline findings about one distribution, void when check-reqs' resolution installs it."""

CHECK_REQS_CODES: dict[str, FindingCode] = {
    "error": "check-reqs-error",
    "repin": "check-reqs-repin",
    "add": "check-reqs-add",
    "drop": "requirement-uninstallable",
    "keep": "check-reqs-fragile",
}
"""The finding code for each check-reqs verdict that matters on Heroku."""


def _check_reqs_findings(
    project: ProjectSnapshot,
) -> tuple[list[Finding], list[str], set[str]] | None:
    """check-reqs' per-line verdicts as build findings (only when the network may be used).

    The finding's severity is the line's own (``error``: the build or the boot fails as the
    file stands; ``warning``: it works but is fragile), so a doctor ``pass`` means the build
    installs; lines that do no harm (an unused line of a curated file) are no finding. Also
    returns the names the resolved set installs. None when check-reqs could not run (the notes
    say why); then the offline heuristics stay.
    """
    from homedeploy.errors import HomedeployError
    from homedeploy.project.package_manager import INSTALL_FAILED, MANIFEST
    from homedeploy.requirements.check import check_requirements
    from homedeploy.requirements.report import ADD, DROP, FAILS, FINE, KEEP, REPIN

    tool = project.package_manager
    locked = project.locked
    try:
        if tool == "pip" and project.requirements is not None:
            report = check_requirements(project.root / "requirements.txt", project.root)
        elif locked is not None and not locked.error:  # uv, Poetry, Pipenv: the locked set
            report = check_requirements(locked.path, project.root, parsed=locked.as_requirements())
        else:
            return [], [], set()
    except HomedeployError:
        return None
    findings: list[Finding] = []
    dropped = []
    heroku = INSTALL_FAILED[tool]  # type: ignore[index]
    manifest = "requirements.txt" if tool == "pip" else MANIFEST[tool]  # type: ignore[index]
    for verdict in report.lines:
        if tool != "pip" and verdict.verdict == DROP and verdict.cause == "no-wheel":
            findings.append(  # the lock installs it all the same: a source build on Heroku
                Finding(
                    "check-reqs-repin",
                    "build",
                    "warning",
                    f"{verdict.text!r}: {verdict.reason}; the lock installs it anyway, so the "
                    "build compiles it from source.",
                    path=verdict.file or manifest,
                    line=verdict.line,
                    fix=f"allow a newer release in {manifest} and re-lock "
                    "(`homedeploy check-reqs --write` upgrades it).",
                )
            )
            continue
        if verdict.severity == FINE:
            continue
        if verdict.verdict == DROP and verdict.severity != FAILS:
            dropped.append(verdict)
            continue
        path = verdict.file or manifest
        severity: Severity = "error" if verdict.severity == FAILS else "warning"
        what = verdict.text or verdict.name or ""
        if verdict.verdict == ADD:
            findings.append(
                Finding(
                    CHECK_REQS_CODES[ADD],
                    "boot",
                    severity,
                    f"{verdict.name or verdict.text} is needed but not installed: "
                    f"{verdict.reason}.",
                    path=manifest,
                    heroku="H10 (App crashed)",
                    fix=f"add {verdict.replacement or verdict.name} to {manifest}"
                    + ("." if tool == "pip" else " and re-lock."),
                )
            )
            continue
        if verdict.replacement:
            fix = f"{'pin' if verdict.verdict == REPIN else 'use'} {verdict.replacement}"
        elif verdict.verdict == DROP:
            fix = "delete the line (`homedeploy check-reqs --write` rewrites the file)."
        elif verdict.verdict == KEEP:
            fix = "none needed; a release with a wheel for Heroku's Python builds faster."
        else:
            fix = f"`homedeploy check-reqs --write` rewrites {manifest}."
        findings.append(
            Finding(
                CHECK_REQS_CODES[verdict.verdict],
                "build",
                severity,
                f"{what!r}: {verdict.reason}.",
                path=path,
                line=verdict.line,
                heroku=heroku if severity == "error" else None,
                fix=fix,
            )
        )
    if dropped:
        sample = ", ".join(v.name or v.text for v in dropped[:8])
        more = f" and {len(dropped) - 8} more" if len(dropped) > 8 else ""
        findings.append(
            Finding(
                "check-reqs-unneeded",
                "build",
                "warning",
                f"{len(dropped)} more line(s) install nothing the app needs ({sample}{more}); "
                "each one is another chance for the build to fail.",
                path=dropped[0].file or manifest,
                line=dropped[0].line,
                heroku=None,  # they install: a warning predicts no build failure
                fix="`homedeploy check-reqs --write` rewrites requirements.txt to what the app "
                "needs (the old file is kept as .bak)."
                if tool == "pip"
                else f"remove what the app does not use from {manifest}, then re-lock "
                "(`homedeploy check-reqs --write`).",
            )
        )
    judged = f"check-reqs judged {len(report.lines)} line(s) for Python {report.python}"
    installed = {pin.partition("==")[0] for pin in report.pins}
    return findings, [judged + " against the package indexes pip is configured with."], installed


def collect_findings(project: ProjectSnapshot) -> tuple[list[Finding], list[str]]:
    """Run every rule on ``project``; returns findings (stage order) and notes."""
    from homedeploy.doctor.rules import boot, build, config, repository

    notes: list[str] = []
    check = _start_import_check(project)
    findings: list[Finding] = []
    for rule in (*build.RULES, *boot.RULES, *config.RULES):
        findings.extend(rule(project))
    if project.worktree is None:
        notes.append(
            "Not a git repository: repository checks were skipped. Heroku deploys what git "
            "has committed; run `git init` and commit the app."
        )
    else:
        for rule in repository.RULES:
            findings.extend(rule(project))
    if not project.offline:
        checked = _check_reqs_findings(project)
        if checked is None:
            notes.append(
                "check-reqs could not judge requirements.txt against the package index (see "
                "`homedeploy check-reqs`); offline checks only."
            )
        else:
            online, online_notes, installed = checked
            if online_notes:  # check-reqs' verdicts supersede the offline guesses
                findings = [f for f in findings if f.code not in OFFLINE_GUESSES]
            # Installed as a dependency (Flask under Flask-WTF) is installed.
            findings = [f for f in findings if INSTALLED_BY_CODE.get(f.code, "") not in installed]
            findings.extend(online)
            notes.extend(online_notes)
    if check is not None:
        imported, import_notes = _import_findings(project, check, findings)
        findings.extend(imported)
        notes.extend(import_notes)
    status = project.lock_status if project.package_manager in ("uv", "poetry", "pipenv") else None
    if status is not None and status.state != "stale":
        said = "matches its manifest" if status.state == "fresh" else "was not checked"
        detail = f": {status.message}" if status.message and status.state != "fresh" else ""
        notes.append(f"The lock file {said} ({status.how}){detail}.")
    for problem in project.discovery.problems:
        notes.append(f"{problem.path}:{problem.line or '?'}: {problem.message} (file skipped).")
    findings.sort(key=sort_key)
    return findings, notes


def run_doctor(path: Path, *, offline: bool = True, fix: bool = False) -> DoctorReport:
    """Check the project at ``path``; with ``fix``, apply the safe fixes first and check again."""
    root = _project_dir(path)
    applied: list[FixApplied] = []
    project = ProjectSnapshot(root, offline=offline)
    findings, notes = collect_findings(project)
    rounds = 0
    while fix and rounds < 3:
        rounds += 1
        changes = apply_fixes(project, findings)
        if not changes:
            break
        applied.extend(changes)
        project = ProjectSnapshot(root, offline=offline)
        findings, notes = collect_findings(project)
    verdict = "fail" if any(f.is_error for f in findings) else "pass"
    return DoctorReport(str(root), verdict, findings, applied, notes)


def collect_build_errors(folder: Path) -> list[Finding]:
    """Build-stage errors only (what the buildpack rejects before installing), for the rehearsal's
    exported commit, which is not a git repository."""
    from homedeploy.doctor.rules import build

    project = ProjectSnapshot(folder.resolve(), offline=True)
    findings = [finding for rule in build.RULES for finding in rule(project)]
    return [finding for finding in findings if finding.is_error]


def run_doctor_on_commit(export: Path, worktree: Path) -> DoctorReport:
    """doctor on what ``git push`` delivers: the build, boot and config rules read ``export`` (the
    tree of the commit being pushed, unpacked by ``git archive``), the repository rules read the
    working tree's git state, and the app is loaded from the export with the working tree's venv.
    A fix that was never committed is therefore not counted as a fix."""
    from homedeploy.doctor.rules import boot, build, config, repository

    commit = ProjectSnapshot(export.resolve(), offline=True)
    local = ProjectSnapshot(worktree.resolve(), offline=True)
    commit.config_dir = local.root  # .env is never committed; `config push` sends the local one
    commit.__dict__["local_venv"] = local.local_venv
    check = _start_import_check(commit)
    findings: list[Finding] = []
    notes: list[str] = []
    for rule in (*build.RULES, *boot.RULES, *config.RULES):
        findings.extend(rule(commit))
    if local.worktree is not None:
        for rule in repository.RULES:
            findings.extend(rule(local))
    if check is not None:
        imported, import_notes = _import_findings(commit, check, findings)
        findings.extend(imported)
        notes.extend(import_notes)
    findings.sort(key=sort_key)
    verdict = "fail" if any(f.is_error for f in findings) else "pass"
    return DoctorReport(str(local.root), verdict, findings, [], notes)
