"""Rendering: the typed result objects of every command, shown with rich (plain text in a pipe).

``cli.py`` wires options to use cases and hands what they return to a ``render_*`` function here;
``--json`` goes through :mod:`homedeploy.jsonout` instead. rich is imported on first use and the
result classes only for the type checker, so importing this module costs nothing at start-up.
Nothing here decides anything: it writes text from facts the results carry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.console import Console

    from homedeploy.commands.addons import AddonCreated, AddonDestroyed, AddonsReport
    from homedeploy.commands.apps import AppsReport
    from homedeploy.commands.config import (
        ConfigPlan,
        ConfigPushResult,
        ConfigReport,
        ConfigSetResult,
        ConfigValue,
    )
    from homedeploy.commands.init import InitResult
    from homedeploy.commands.ps import MaintenanceReport, PsReport, RestartReport
    from homedeploy.commands.push import PushEvent, PushReport
    from homedeploy.commands.push_fix import FixPlan
    from homedeploy.commands.releases import ReleasesReport
    from homedeploy.commands.rollback import RollbackReport
    from homedeploy.commands.run import RunStarted
    from homedeploy.commands.scale import ScaleReport
    from homedeploy.commands.serve import ServePlan
    from homedeploy.doctor.engine import DoctorReport
    from homedeploy.doctor.findings import Finding
    from homedeploy.errors import HomedeployError
    from homedeploy.requirements.report import CheckReport, LineVerdict
    from homedeploy.runtime.rehearsal import RehearsalReport
    from homedeploy.runtime.serving import ServeReport

_consoles: dict[bool, Console] = {}


def console(stderr: bool = False) -> Console:
    """A shared rich Console (stdout, or stderr for progress and errors), created on first use."""
    if stderr not in _consoles:
        from rich.console import Console

        _consoles[stderr] = Console(stderr=stderr, highlight=False, soft_wrap=True)
    return _consoles[stderr]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _short(line: str, width: int = 90) -> str:
    line = line.strip()
    return _escape(line if len(line) <= width else line[: width - 1] + "…")


def self_command() -> str:
    """How the user can run homedeploy again from their shell: ``homedeploy`` when that is on
    PATH (and is this one), else the full path of the script that is running."""
    import shutil
    import sys
    from pathlib import Path

    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    on_path = shutil.which("homedeploy")
    if script is None or script.name != "homedeploy":
        return "homedeploy" if on_path else f"{sys.executable} -m homedeploy"
    if on_path and Path(on_path).resolve() == script:
        return "homedeploy"
    return str(script)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


# --- errors and progress ---


def render_error(error: HomedeployError) -> None:
    """what, where (file:line) and the fix, on stderr."""
    err = console(stderr=True)
    where = f"{_escape(error.location)}: " if error.location else ""
    err.print(f"[bold red]error:[/] {where}{_escape(error.message)}")
    if error.fix:
        err.print(f"  [bold]fix:[/] {_escape(error.fix)}")


def render_interrupted() -> None:
    console(stderr=True).print("[yellow]interrupted[/]")


QUIET, NORMAL, VERBOSE = -1, 0, 1
_verbosity = NORMAL


def set_verbosity(level: int) -> None:
    """``-q`` (QUIET): no progress or chatter on stderr, only results and errors. ``-v``
    (VERBOSE): progress lines stay on screen (pip's own output among them) and homedeploy's
    log records (each Heroku API call, without secrets) go to stderr."""
    global _verbosity
    _verbosity = level
    if level >= VERBOSE:
        import logging

        from rich.logging import RichHandler

        handler = RichHandler(
            console=console(stderr=True), show_time=False, show_path=False, markup=False
        )
        logger = logging.getLogger("homedeploy")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)


def verbosity() -> int:
    return _verbosity


def _nothing(line: str) -> None:
    del line


@contextmanager
def status(title: str) -> Iterator[Callable[[str], None]]:
    """A transient status line on stderr (only on a terminal); yields a function that shows a
    line of detail in it. ``-q``: nothing; ``-v``: every detail line is also kept."""
    if _verbosity <= QUIET:
        yield _nothing
        return
    err = console(stderr=True)
    with err.status(title) as shown:

        def detail(line: str) -> None:
            if _verbosity >= VERBOSE:
                err.print(f"[dim]{_escape(line.rstrip())}[/]")
            shown.update(f"[dim]{_short(line)}[/]")

        yield detail


@contextmanager
def steps_status(title: str) -> Iterator[tuple[Callable[[str], None], Callable[[str], None]]]:
    """Like :func:`status`, and also yields ``step``, which keeps a line printed above it."""
    if _verbosity <= QUIET:
        yield _nothing, _nothing
        return
    err = console(stderr=True)
    with err.status(title) as shown:

        def step(line: str) -> None:
            err.print(f"[dim]  {_escape(line)}[/]")
            shown.update(_escape(line))

        def detail(line: str) -> None:
            if _verbosity >= VERBOSE:
                err.print(f"[dim]    {_escape(line.rstrip())}[/]")
            shown.update(f"[dim]{_short(line)}[/]")

        yield step, detail


# --- init ---

_INIT_TITLES = {
    "scaffold": "Scaffolded a new Flask app",
    "adopt": "Adopted the existing Flask app",
    "example": "Copied the homedata dashboard example",
}
_ACTION_STYLES = {"created": "green", "replaced": "yellow", "updated": "yellow", "kept": "dim"}


def render_init(result: InitResult) -> None:
    out = console()
    out.print(f"[bold green]{_INIT_TITLES[result.mode]}[/] in {_escape(result.project)}")
    if result.app_target:
        out.print(f"  app: [bold]{_escape(result.app_target)}[/]")
    if result.procfile_command:
        out.print(f"  web: {_escape(result.procfile_command)}")
    for action in result.files:
        if result.mode == "example" and action.action == "created" and "/" in action.path:
            continue
        extra = f" (backup: {action.backup})" if action.backup else ""
        extra += f" - {action.note}" if action.note else ""
        style = _ACTION_STYLES.get(action.action, "")
        out.print(f"  [{style}]{action.action:>8}[/] {_escape(action.path)}{_escape(extra)}")
    if result.mode == "example":
        nested = sum(1 for a in result.files if a.action == "created" and "/" in a.path)
        out.print(f"  [green] created[/] {nested} more files in subfolders")
    for problem in result.source_problems:
        where = f"{problem.path}:{problem.line}" if problem.line else problem.path
        out.print(f"  [yellow]skipped[/] {_escape(where)}: {_escape(problem.message)}")
    git = result.git
    if git is not None and git.committed:
        out.print(f"  git: initialized on branch {git.branch}, first commit {git.commit}")
    if result.venv is not None:
        interp = result.venv.interpreter
        match = "matches" if interp.matches else f"not {interp.requested}: none is installed"
        out.print(
            f"  .venv: Python {interp.version} ({_escape(interp.path)}; {match}), "
            f"built in {result.venv.seconds:.1f} s"
        )
    for note in result.notes:
        out.print(f"  [yellow]note:[/] {_escape(note)}")
    out.print(f"\nNext: [bold]{_escape(self_command())} serve {_escape(result.project)} --check[/]")


# --- serve ---


def warm_serve_report() -> None:
    """Import the report's rendering modules while the app boots (they cost ~40 ms)."""
    import rich.markup
    import rich.table  # noqa: F401

    console()


def render_serve_start(plan: ServePlan) -> None:
    """What ``serve`` runs, in which environment, with which .env keys (never values)."""
    err = console(stderr=True)
    err.print(f"[bold]web:[/] {_escape(plan.command)}  [dim]({_escape(plan.source)})[/]")
    err.print(f"[dim]using {_escape(plan.environment)}; PORT={plan.port}[/]")
    if plan.dotenv_keys:
        err.print(f"[dim].env loaded: {_escape(', '.join(plan.dotenv_keys))}[/]")


def render_serving(port: int, seconds: float) -> None:
    console(stderr=True).print(
        f"[bold green]Serving on http://127.0.0.1:{port}/[/] "
        f"(bound in {seconds:.2f} s). Press Ctrl-C to stop."
    )


def render_stopped() -> None:
    console(stderr=True).print("[dim]stopped[/]")


def render_serve_report(plan: ServePlan, report: ServeReport) -> None:
    from rich.table import Table

    out = console()
    out.print(f"[bold]web:[/] {_escape(plan.command)}  [dim]({_escape(plan.source)})[/]")
    out.print(f"[dim]using {_escape(report.environment)}; PORT={report.port}[/]")
    if report.boot_seconds is not None:
        out.print(f"booted (port bound) in [bold]{report.boot_seconds:.2f} s[/]")
    if report.probes:
        table = Table(box=None, pad_edge=False)
        table.add_column("path")
        table.add_column("status", justify="right")
        table.add_column("ms", justify="right")
        for probe in report.probes:
            status = str(probe.status) if probe.status is not None else _escape(probe.error or "-")
            style = "green" if probe.ok else "red"
            millis = f"{probe.seconds * 1000:.1f}"
            table.add_row(_escape(probe.path), f"[{style}]{status}[/]", millis)
        out.print(table)
    if report.stop is not None:
        how = "cleanly" if report.stop.clean else "only after SIGKILL"
        out.print(f"stopped {how} in {report.stop.seconds:.2f} s after SIGTERM")
    if report.problems:
        for problem in report.problems:
            out.print(f"[bold red]problem:[/] {_escape(problem)}")
        out.print("[bold]last log lines:[/]")
        for line in report.log_tail:
            out.print(f"  [dim]{_escape(line)}[/]")
        out.print("[bold red]serve --check failed[/]")
    else:
        out.print("[bold green]ok[/]: the app answers the way a Heroku dyno would serve it")


# --- check-reqs ---

_VERDICT_STYLE = {
    "keep": "green",
    "drop": "yellow",
    "repin": "cyan",
    "error": "bold red",
    "add": "magenta",
}


_CAUSE_PHRASES: dict[str, str] = {
    "needed": "install on Heroku, and the app needs them",
    "unused": "not used by the app",
    "unused-constraint": "constraints on nothing the app uses",
    "not-on-index": "not on the package index at all (conda-only, or private); unused",
    "version-not-on-index": "these versions are not on the package index (conda-only releases)",
    "os-only": "only for Windows or macOS (Heroku runs Linux); not used by the app",
    "local-path": "paths on this machine, which Heroku's build cannot see",
    "marker-excludes-target": "their environment markers are false on Heroku",
    "all-yanked": "every release is yanked",
    "no-release-installs": "no release installs on the target",
    "no-wheel": "not used by the app (and no wheel for the target either)",
    "requires-python": "not used by the app (and not for the target Python either)",
    "stale-major": "not used by the app",
    "conflict": "not used by the app (and their pins conflict)",
    "url": "installed from their URLs",
    "pip-option": "pip options that work on Heroku too",
}
GROUP_AT = 4
"""Lines with the same verdict and cause are one row from this many on (``--all``: never)."""
GROUP_NAMES = 12
BREAK_AT = 28
"""A requirement longer than this may break before its version, so no word is ever split."""


def _requirement_cell(text: str) -> str:
    """The line as written; a long one gets a break opportunity before its version."""
    if len(text) <= BREAK_AT or " " in text:
        return _escape(text)
    for operator in ("===", "==", ">=", "<=", "~=", "!=", "@", ">", "<", ";"):
        index = text.find(operator)
        if index > 0:
            return _escape(f"{text[:index]} {text[index:]}")
    return _escape(text)


def _check_reqs_rows(report: CheckReport, *, every_line: bool) -> list[list[str]]:
    files = {v.file for v in report.lines if v.file}
    groups: dict[tuple[str, str], list[LineVerdict]] = {}
    if not every_line:
        for verdict in report.lines:
            if verdict.replacement or verdict.verdict in ("error", "add", "repin"):
                continue
            if verdict.cause in _CAUSE_PHRASES:
                groups.setdefault((verdict.verdict, verdict.cause), []).append(verdict)
    grouped = {
        id(v): key for key, members in groups.items() if len(members) >= GROUP_AT for v in members
    }
    rows: list[list[str]] = []
    shown: set[tuple[str, str]] = set()
    for verdict in report.lines:
        style = _VERDICT_STYLE.get(verdict.verdict, "")
        key = grouped.get(id(verdict))
        if key is not None:
            if key in shown:
                continue
            shown.add(key)
            members = groups[key]
            names = [m.name or m.text for m in members]
            listed = ", ".join(names[:GROUP_NAMES])
            if len(names) > GROUP_NAMES:
                listed += f", ... (+{len(names) - GROUP_NAMES}; --all lists every line)"
            rows.append(
                [
                    "",
                    _escape(listed),
                    f"[{style}]{verdict.verdict}[/]",
                    _escape(f"{len(members)} lines: {_CAUSE_PHRASES[key[1]]}"),
                ]
            )
            continue
        where = "" if verdict.line is None else str(verdict.line)
        if len(files) > 1 and verdict.file:
            where = f"{verdict.file}:{where}"
        reason = verdict.reason
        if verdict.replacement:
            reason = f"→ {verdict.replacement}: {reason}"
        rows.append(
            [
                where,
                _requirement_cell(verdict.text or verdict.name or ""),
                f"[{style}]{verdict.verdict}[/]",
                _escape(reason),
            ]
        )
    return rows


def render_check_reqs(report: CheckReport, *, every_line: bool = False) -> None:
    """The verdicts; lines sharing a verdict and cause are one row unless ``every_line``."""
    out = console()
    origin = report.python_origin if report.python_origin != "default" else "its default"
    out.print(
        f"[bold]{_escape(str(report.requirements_path))}[/] ({_escape(report.encoding)}) for "
        f"[bold]CPython {report.python}[/] on Heroku ({report.platform}; Python from "
        f"{_escape(origin)})"
    )
    columns = [
        Column("line", justify="right", style="dim"),
        Column("requirement", wrap=True),
        Column("verdict"),
        Column("reason", wrap=True),
    ]
    print_table(columns, _check_reqs_rows(report, every_line=every_line))

    def say(text: str) -> None:  # sentences wrap between words at the terminal's width
        out.print(text, soft_wrap=False)

    counts = report.counts()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    say(f"\n[bold]{len(report.lines)} lines:[/] {summary or 'none'}")
    if report.requirements_in:
        say(
            "[bold]The app needs:[/] "
            + ", ".join(
                f"{_escape(r)} [dim]({_escape(report.top_level_reasons.get(r, ''))})[/]"
                for r in report.requirements_in
            ),
        )
    if report.method:
        say(
            f"[bold]Pins:[/] {len(report.pins)} packages, {_escape(report.method)}",
        )
    for note in report.notes:
        say(f"[yellow]note:[/] {_escape(note)}")
    if report.blocked:
        say(f"[bold red]Nothing written:[/] {_escape(report.blocked)}")
    for written in report.written:
        if written.how == "unchanged":
            out.print(f"[dim]unchanged[/] {_escape(written.path)}")
            continue
        backup = f" (old file kept as {_escape(written.backup)})" if written.backup else ""
        say(f"[green]wrote[/] {_escape(written.path)}{backup}: {_escape(written.how)}")
    if not report.written and not report.blocked:
        if report.problems and report.manager in ("uv", "poetry", "pipenv"):
            say(
                f"Run with [bold]--write[/] to re-lock with {report.manager} itself, or "
                "[bold]--to requirements[/] to convert the project to requirements.txt."
            )
        elif report.problems:
            say(
                "Run with [bold]--write[/] to write requirements.in and a requirements.txt "
                "that installs on Heroku."
            )
        else:
            say("[green]Every line installs on Heroku as it is.[/]")


# --- doctor ---

_STAGE_TITLES = {
    "build": "Build (Heroku's Python buildpack)",
    "boot": "Boot (the web dyno)",
    "repository": "Repository (what git push delivers)",
}


def _finding_groups(findings: list[Finding]) -> list[list[Finding]]:
    """Findings of one rule in one file with the same Heroku outcome, as one group (in the
    order the first of each appears); the rest alone."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for finding in findings:
        key: tuple[object, ...] = (finding.code, finding.severity, finding.path, finding.heroku)
        if finding.path is None or finding.line is None:
            key = (id(finding),)
        groups.setdefault(key, []).append(finding)
    return list(groups.values())


def render_doctor(report: DoctorReport) -> None:
    out = console()
    out.print(f"[bold]homedeploy doctor[/] {_escape(report.project)}")
    for change in report.fixes_applied:
        backup = f" (backup: {_escape(change.backup)})" if change.backup else ""
        out.print(f"  [green]fixed[/] {_escape(change.path)}: {_escape(change.change)}{backup}")
    for stage, title in _STAGE_TITLES.items():
        findings = [f for f in report.findings if f.stage == stage]
        if not findings:
            continue
        out.print(f"\n[bold underline]{title}[/]")
        for group in _finding_groups(findings):
            first = group[0]
            colour = "red" if first.is_error else "yellow"
            if len(group) == 1:
                where = f" [cyan]{_escape(first.location)}[/]" if first.location else ""
                out.print(
                    f"  [bold {colour}]{first.severity:<7}[/]{where} {_escape(first.message)} "
                    f"[dim]({first.code})[/]"
                )
            else:  # one rule, many lines: the file once, then each line with its own text
                where = f" [cyan]{_escape(first.path)}[/]" if first.path else ""
                out.print(
                    f"  [bold {colour}]{first.severity:<7}[/]{where} {len(group)} lines "
                    f"[dim]({first.code})[/]"
                )
                same_fix = len({f.fix for f in group}) == 1
                for finding in group:
                    line = f"{finding.line:>5}" if finding.line is not None else "     "
                    out.print(f"   [cyan]{line}[/] {_escape(finding.message)}")
                    if finding.fix and not same_fix:
                        out.print(f"           [bold]fix:[/] {_escape(finding.fix)}")
            if first.heroku:
                out.print(f"           [dim]Heroku:[/] {_escape(first.heroku)}")
            if first.fix and (len(group) == 1 or len({f.fix for f in group}) == 1):
                out.print(f"           [bold]fix:[/] {_escape(first.fix)}")
    for note in report.notes:
        out.print(f"\n[dim]note: {_escape(note)}[/]")
    errors, warnings = len(report.errors), len(report.warnings)
    if report.ok:
        tail = f" ({_plural(warnings, 'warning')})" if warnings else ""
        out.print(f"\n[bold green]pass[/]: nothing would stop the build or the boot{tail}.")
    else:
        out.print(
            f"\n[bold red]fail[/]: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}: "
            "this deploy would fail."
        )


# --- push --local (the rehearsal) and push ---


def render_rehearsal(report: RehearsalReport) -> None:
    out = console()
    out.print(
        f"[bold]homedeploy push --local[/] {_escape(report.project)} (commit {report.commit})"
    )
    if report.python:
        python = f"Python {report.python}"
        if report.python_exact:
            python += f" (Heroku's {report.python_heroku}, from {report.python_source})"
        elif report.python_heroku:
            python += f" [bold yellow](APPROXIMATE: Heroku uses {report.python_heroku})[/]"
        if report.build_seconds is not None:
            built = f" from {report.build_from}" if report.build_from else ""
            if report.build_command:
                built = f" by {report.build_command}"
            what = "build reused (inputs unchanged)" if report.build_reused else "clean venv"
            out.print(f"  build  {report.build_seconds:6.1f} s   {what}{built}, {python}")
        else:
            out.print(f"  python {python}")
    if report.config:
        names = ", ".join(f"{name} ({source})" for name, source in sorted(report.config.items()))
        out.print(f"  config {_escape(names)}  [dim](values not shown)[/]")
    for service in report.services:
        if service.state == "started":
            kept = (
                ", its data kept from the last rehearsal (--fresh-addons: empty)"
                if service.kept
                else ""
            )
            out.print(
                f"  add-on {_escape(service.addon)}: {_escape(service.version or '')} on "
                f"127.0.0.1:{service.port}, {_escape(service.variable)} set "
                f"({service.seconds or 0:.1f} s){kept}"
            )
            if service.detail:
                out.print(f"  [dim]note: {_escape(service.detail)}[/]")
        else:
            out.print(
                f"  add-on {_escape(service.addon)}: [yellow]{_escape(service.state)}[/] "
                f"{_escape(service.detail or '')}"
            )
    if report.release is not None:
        out.print(
            f"  release `{_escape(report.release.command)}`: {_escape(report.release.state)} "
            f"in {report.release.seconds or 0:.1f} s"
        )
    if report.boot_seconds is not None:
        out.print(f"  boot   {report.boot_seconds:6.2f} s   bound $PORT (R10 limit 60 s)")
    for probe in [*report.probes, *report.routes]:
        status = probe.status if probe.status is not None else probe.error
        via = f" (via {' -> '.join(probe.redirects)})" if probe.redirects else ""
        out.print(
            f"  GET {_escape(probe.path)} -> {_escape(str(status))}{_escape(via)} in "
            f"{probe.seconds:.3f} s"
        )
    if report.routes_note:
        out.print(f"  [dim]{_escape(report.routes_note)}[/]")
    for process in report.processes:
        out.print(
            f"  {_escape(process.name)}: {_escape(process.state)} for {process.seconds or 0:.0f} s"
        )
    if report.rss_bytes:
        used = report.rss_bytes / 1024 / 1024
        out.print(f"  memory {used:6.0f} MB of 512 MB (eco/basic dyno, WEB_CONCURRENCY=2)")
    if report.stop_seconds is not None:
        out.print(f"  stop   {report.stop_seconds:6.2f} s   after SIGTERM (R12 limit 30 s)")
    for note in report.notes:
        style = "bold yellow" if note.startswith("APPROXIMATE") else "dim"
        out.print(f"  [{style}]note: {_escape(note)}[/]")
    if report.ok and report.url:
        out.print(f"\n[bold green]serving[/] at {report.url} (pid {report.pid})")
        out.print(f"  log: {_escape(report.log_file or '')}")
        workdir = _escape(report.workdir or "")
        out.print(f"  stop it with: kill -TERM -{report.pid}; then rm -r {workdir}")
        return
    if report.ok:
        approximate = "" if report.python_exact else " (approximate: another Python)"
        out.print(
            "\n[bold green]pass[/]: the committed app builds from scratch and runs like its "
            f"dynos{approximate}."
        )
        return
    err = console(stderr=True)
    heroku = f" [dim](on Heroku: {_escape(report.heroku)})[/]" if report.heroku else ""
    reason, message = _escape(f"[{report.reason}]"), _escape(report.message or "")
    label = "not rehearsed" if report.verdict == "not rehearsed" else "fail"
    colour = "yellow" if label == "not rehearsed" else "red"
    err.print(f"[bold {colour}]{label}[/] {reason}: {message}{heroku}")
    if report.cause is not None:
        err.print(f"  [bold]cause:[/] {_escape(report.cause.exception)}")
        if report.cause.location:
            code = f": {report.cause.source}" if report.cause.source else ""
            err.print(f"  [bold]at:[/] {_escape(report.cause.location)}{_escape(code)}")
    if report.fix:
        err.print(f"  [bold]fix:[/] {_escape(report.fix)}")
    if report.log_tail:
        err.print("[dim]--- log (last lines) ---[/]")
        for line in report.log_tail[-25:]:
            err.print(f"[dim]{_escape(line)}[/]")


def render_push_event(event: PushEvent) -> None:
    """Live progress on stderr: steps, build phases, remote lines (dim), problems."""
    text = _escape(event.text)
    styles = {
        "step": f"[bold cyan]==>[/] [bold]{text}[/]",
        "done": f"    [green]✓[/] {text}",
        "note": f"    [yellow]note:[/] {text}",
        "warning": f"    [yellow]![/] {text}",
        "phase": f"    [bold magenta]»[/] [magenta]{text}[/]",
        "build-error": f"    [bold red]✗ {text}[/]",
        "error": f"    [bold red]✗[/] {text}",
        "remote": f"      [dim]{text}[/]",
    }
    if _verbosity <= QUIET and event.kind not in ("build-error", "error", "warning"):
        return
    console(stderr=True).print(styles.get(event.kind, text))


def render_push(report: PushReport) -> None:
    if report.ok:
        version = f" v{report.release_version}" if report.release_version else ""
        console().print(
            f"[bold green]deployed[/] {_escape(report.app or '')}{version}: "
            f"{_escape(report.web_url or '')} answered HTTP {report.http_status}"
        )
        return
    err = console(stderr=True)
    err.print(
        f"[bold red]push failed[/] ({_escape(report.failed_step or '?')}): "
        f"{_escape(report.failure or '')}"
    )
    if report.build is not None and report.build.cause:
        err.print(f"  [bold]cause:[/] {_escape(report.build.cause)}")
    if report.explanation:
        err.print(f"  [bold]why:[/] {_escape(report.explanation)}")
    if report.fix:
        err.print(f"  [bold]fix:[/] {_escape(report.fix)}")
    if report.rolled_back_to:
        err.print(f"  [yellow]rolled back to v{report.rolled_back_to}[/]")
    if report.log_tail:
        err.print("  [bold]last log lines:[/]")
        for line in report.log_tail:
            err.print(f"    [dim]{_escape(line)}[/]")


# --- Heroku management ---


def render_apps(report: AppsReport) -> None:
    out = console()
    if not report.apps:
        out.print(f"{_escape(report.account)} has no apps yet: homedeploy push --create")
        return
    rows = [
        [
            _escape(app.name),
            app.region or "",
            _escape(app.web_url or ""),
            _timestamp(app.released_at) or "-",
        ]
        for app in report.apps
    ]
    columns = [Column("name"), Column("region"), Column("web URL"), Column("released")]
    print_table(columns, rows, title=f"Apps of {_escape(report.account)}")


def _timestamp(value: str | None) -> str | None:
    """``2024-01-01T12:00:00Z`` -> ``2024-01-01 12:00`` (UTC): one unbreakable cell, shorter."""
    if not value:
        return None
    return value.replace("T", " ")[:16]


def render_config(report: ConfigReport) -> None:
    out = console()
    out.print(f"[bold]{_escape(report.app)} config vars[/]")
    if not report.vars:
        out.print("  (none)")
    for key, value in report.vars.items():
        out.print(f"  {_escape(key)}: {_escape(value)}")
    if not report.revealed and report.vars:
        out.print("[dim](values hidden; --reveal shows them)[/]")


def render_config_plan(plan: ConfigPlan, *, reveal: bool) -> None:
    """What ``config push`` would change (values masked unless ``reveal``)."""
    out = console()
    for note in plan.skipped:
        out.print(f"[yellow]skipped[/] {_escape(note)}")
    if not plan.changes:
        out.print(f"{_escape(plan.app)} already has every value in {_escape(str(plan.env_file))}")
        return
    out.print(f"[bold]Changes to {_escape(plan.app)}[/] from {_escape(str(plan.env_file))}:")
    for change in plan.changes:
        where = f"line {change.line}" if change.line else ""
        sign = "[green]+[/]" if change.action == "add" else "[yellow]~[/]"
        detail = change.shown(reveal=reveal)
        out.print(f"  {sign} {_escape(change.key)} = {_escape(detail)} [dim]{where}[/]")
    if plan.unchanged:
        out.print(f"  [dim]unchanged: {_escape(', '.join(plan.unchanged))}[/]")


def render_nothing_changed() -> None:
    console().print("nothing changed")


def render_config_push(result: ConfigPushResult) -> None:
    version = f", v{result.release}" if result.release else ""
    console().print(
        f"Setting {_escape(', '.join(result.applied))} and restarting "
        f"{_escape(result.app)}... done{version}"
    )


def render_scale(report: ScaleReport) -> None:
    out = console()
    if not report.formation:
        out.print(
            f"No process types on {report.app}.\nAdd a Procfile with a web: line and "
            "`homedeploy push`."
        )
        return
    text = " ".join(f"{f.type}={f.quantity}:{f.size or '?'}" for f in report.formation)
    if report.changed:
        out.print(f"Scaling dynos... done, now running {text}")
    else:
        out.print(text)


def render_releases(report: ReleasesReport) -> None:
    rows = []
    for release in report.releases:
        status = release.status + (" (current)" if release.current else "")
        if release.status == "failed":
            status = f"[red]{status}[/]"
        rows.append(
            [
                f"v{release.version}",
                status,
                _escape(release.description),
                _escape(release.user or ""),
                _timestamp(release.created_at) or "",
            ]
        )
    columns = [
        Column("version"),
        Column("status", wrap=True),
        Column("description", wrap=True),
        Column("by"),
        Column("created"),
    ]
    print_table(columns, rows, title=f"{_escape(report.app)} releases")


def render_rollback(report: RollbackReport) -> None:
    out = console()
    out.print(f"Rolling back {report.app} to v{report.target}... done, v{report.new_version}")
    out.print(f"[yellow]{report.warning}[/]")
    out.print(f"To undo, run: {report.undo}")


# --- Heroku day-to-day: config set/unset/get, ps, restart, maintenance, run, addons ---


def _plain() -> bool:
    """Plain text (no box characters): not a terminal, or NO_COLOR set."""
    import os

    return bool(os.environ.get("NO_COLOR")) or not console().is_terminal


def _longest_word(text: str) -> int:
    from rich.text import Text

    plain = Text.from_markup(text).plain
    return max((len(word) for word in plain.split()), default=0)


def _cell_width(text: str) -> int:
    from rich.text import Text

    return max((len(line) for line in Text.from_markup(text).plain.splitlines()), default=0)


@dataclass(frozen=True)
class Column:
    """A table column: ``wrap`` ones break between words, others never break."""

    name: str
    wrap: bool = False
    justify: Literal["left", "right"] = "left"
    style: str | None = None


def print_table(
    columns: list[Column], rows: list[list[str]], *, title: str | None = None, stderr: bool = False
) -> None:
    """A table that fits the terminal without breaking a word or a URL.

    Every column gets at least its longest unbreakable piece (the whole cell for non-wrapping
    columns, the longest word for the others). When even that does not fit the width (a
    narrow terminal, ``COLUMNS=80``), each row is printed as a small block of ``name: value``
    lines instead. Plain mode (a pipe, ``NO_COLOR``) draws no box characters.
    """
    from rich import box
    from rich.table import Table

    out = console(stderr)
    plain = _plain()
    minimums, naturals = [], []
    for index, column in enumerate(columns):
        cells = [row[index] for row in rows] + [column.name]
        naturals.append(max(_cell_width(cell) for cell in cells))
        minimums.append(naturals[-1] if not column.wrap else max(_longest_word(c) for c in cells))
    # between two columns: the padding on each side, plus the box's divider when drawn
    available = out.width - (2 if plain else 3) * (len(columns) - 1)
    if sum(minimums) > available:
        if title:
            out.print(f"[bold]{title}[/]")
        for row in rows:
            out.print(f"[bold]{row[0]}[/]")
            for column, cell in zip(columns[1:], row[1:], strict=True):
                if cell:
                    out.print(f"  {column.name}: {cell}")
        return
    wrapping = sum(1 for column in columns if column.wrap) or 1
    share = available // wrapping  # no single wrapping column takes the whole line
    naturals = [
        min(n, max(m, share)) if c.wrap else n
        for n, m, c in zip(naturals, minimums, columns, strict=True)
    ]
    widths = list(naturals)
    excess = sum(widths) - available
    slack = sum(n - m for n, m in zip(naturals, minimums, strict=True))
    if excess > 0 and slack > 0:
        for index, (natural, minimum) in enumerate(zip(naturals, minimums, strict=True)):
            cut = -(-excess * (natural - minimum) // slack)  # rounded up: never too wide
            widths[index] = max(minimum, natural - cut)
    table = Table(
        title=title,
        title_justify="left",
        box=None if plain else box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        padding=(0, 1),
    )
    for column, width in zip(columns, widths, strict=True):
        table.add_column(
            column.name,
            width=width,
            no_wrap=not column.wrap,
            overflow="fold" if column.wrap else "ignore",
            justify=column.justify,
            style=column.style,
        )
    for row in rows:
        table.add_row(*row)
    out.print(table)


def render_config_set(result: ConfigSetResult) -> None:
    out = console()
    version = f", v{result.release}" if result.release else ""
    out.print(
        f"Setting {_escape(', '.join(result.vars))} and restarting {_escape(result.app)}... "
        f"done{version}"
    )
    for key, value in result.vars.items():
        out.print(f"  {_escape(key)}: {_escape(value)}")


def render_config_unset(result: ConfigSetResult) -> None:
    if result.missing:
        console(stderr=True).print(
            f"[yellow]not set on {_escape(result.app)}:[/] {_escape(', '.join(result.missing))}"
        )
    if result.vars:
        version = f", v{result.release}" if result.release else ""
        console().print(
            f"Unsetting {_escape(', '.join(result.vars))} and restarting "
            f"{_escape(result.app)}... done{version}"
        )


def render_config_unset_value(value: ConfigValue) -> None:
    console(stderr=True).print(f"{value.key} is not set on {value.app}", markup=False)


_DYNO_STATE_STYLE = {"up": "green", "crashed": "red", "starting": "yellow"}


def render_ps(report: PsReport) -> None:
    out = console()
    if not report.dynos:
        out.print(f"{_escape(report.app)} has no dynos running (homedeploy scale web=1)")
        return
    rows = []
    for dyno in report.dynos:
        style = _DYNO_STATE_STYLE.get(dyno.state)
        state = f"[{style}]{_escape(dyno.state)}[/]" if style else _escape(dyno.state)
        rows.append(
            [
                dyno.name,
                _escape(dyno.size or ""),
                state,
                dyno.age or "",
                _escape(dyno.command or ""),
            ]
        )
    columns = [Column("dyno"), Column("size"), Column("state"), Column("since")]
    print_table([*columns, Column("command", wrap=True)], rows, title=f"{report.app} dynos")


def render_restart(report: RestartReport) -> None:
    console().print(f"Restarting {_escape(report.target)} of {_escape(report.app)}... done")


def render_maintenance(report: MaintenanceReport, *, asked: bool) -> None:
    state = "on" if report.maintenance else "off"
    if not asked:
        text = f"{report.app}: maintenance mode is {state}"
    elif report.changed:
        text = f"Turning maintenance mode {state} for {report.app}... done"
    else:
        text = f"{report.app}: maintenance mode was already {state}"
    console().print(text, markup=False)


def render_run_starting(started: RunStarted) -> None:
    if _verbosity <= QUIET:
        return
    err = console(stderr=True)
    head = f"Running {_escape(started.command)} on {_escape(started.app)}... "
    if started.detached:
        err.print(
            f"{head}up, {_escape(started.dyno)}\nRun `homedeploy logs --dyno "
            f"{_escape(started.dyno)}` to see its output."
        )
    else:
        err.print(head, end="")


def render_run_up(started: RunStarted) -> None:
    """Printed once attached, when the terminal may already be raw (hence the \\r)."""
    if _verbosity <= QUIET:
        return
    console(stderr=True).print(f"up, {_escape(started.dyno)}", end="\r\n")


def render_addons(report: AddonsReport) -> None:
    out = console()
    if not report.addons:
        out.print(
            f"{_escape(report.app)} has no add-ons (homedeploy addons create heroku-postgresql)"
        )
        return
    rows = [
        [
            _escape(addon.name),
            _escape(addon.plan or ""),
            _escape(addon.state),
            _escape(", ".join(addon.config_vars)),
        ]
        for addon in report.addons
    ]
    columns = [Column("add-on"), Column("plan"), Column("state"), Column("config vars", wrap=True)]
    print_table(columns, rows, title=f"{report.app} add-ons")


def render_addon_created(result: AddonCreated, plan: str) -> None:
    out = console()
    addon = result.addon
    state = "done" if result.provisioned else f"still {addon.state}"
    out.print(
        f"Creating {_escape(addon.plan or plan)} on {_escape(result.app)}... {state}: "
        f"{_escape(addon.name)}"
    )
    if result.config_vars:
        out.print(f"  config vars set: {_escape(', '.join(result.config_vars))}")
    if not result.provisioned:
        out.print("  check on it with: homedeploy addons")


def render_addon_destroyed(result: AddonDestroyed) -> None:
    gone = f" (removed {', '.join(result.config_vars)})" if result.config_vars else ""
    console().print(
        f"Destroying {_escape(result.addon)} on {_escape(result.app)}... done{_escape(gone)}"
    )


# --- push --fix ---


def render_fix_plan(plan: FixPlan) -> None:
    out = console()
    for note in plan.notes:
        console(stderr=True).print(f"[yellow]note:[/] {_escape(note)}")
    if plan.empty:
        out.print("push --fix: nothing to fix in the committed project; pushing it as it is.")
        return
    out.print(
        f"[bold]push --fix[/] would commit these changes to {_escape(plan.branch or 'HEAD')}:"
    )
    for reason in plan.reasons:
        out.print(f"  [cyan]{_escape(reason.path)}[/]: {_escape(reason.why)}", soft_wrap=False)
    out.print()
    styles = {"+": "green", "-": "red", "@": "cyan"}
    for line in plan.diff.splitlines():
        style = styles.get(line[:1]) if not line.startswith(("+++", "---")) else "bold"
        out.print(f"[{style}]{_escape(line)}[/]" if style else _escape(line))
    out.print()


def render_fix_outcome(plan: FixPlan, outcome: str) -> None:
    where = _escape(plan.branch or "HEAD")
    if outcome == "blocked":
        err = console(stderr=True)
        err.print("[bold red]push --fix cannot mend these by itself[/] (nothing committed):")
        for problem in plan.blocking:
            err.print(f"  {_escape(problem)}", soft_wrap=False)
    elif outcome == "declined":
        console().print(f"nothing committed: {where} is as it was")
    elif outcome == "rehearsal-failed":
        console(stderr=True).print(
            f"[bold red]the fixed commit failed the rehearsal[/]: nothing committed, nothing "
            f"pushed; {where} is as it was"
        )
    else:
        commit = (plan.commit or "")[:12]
        console().print(f"[green]committed[/] {commit} on {where}: {len(plan.files)} files fixed")
