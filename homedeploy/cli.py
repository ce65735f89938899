"""Command-line interface: wires Click commands to domain functions and renders their results.

Nothing here decides anything about a project: each command calls one function under
``homedeploy.commands`` (or a domain module), gets dataclasses back, and shows them with rich or
as JSON. Domain modules are imported inside the commands so ``homedeploy --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from homedeploy import __version__
from homedeploy.errors import HomedeployError

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

_consoles: dict[bool, Console] = {}


def console(stderr: bool = False) -> Console:
    """A shared rich Console (stdout, or stderr for progress and errors), created on first use."""
    if stderr not in _consoles:
        from rich.console import Console

        _consoles[stderr] = Console(stderr=stderr, highlight=False, soft_wrap=True)
    return _consoles[stderr]


def to_jsonable(value: Any) -> Any:
    """Turn dataclasses, paths and containers into plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (no rich markup, safe for pipes)."""
    import json

    click.echo(json.dumps(to_jsonable(value), indent=2, sort_keys=False))


def fail(error: HomedeployError, *, as_json: bool = False) -> NoReturn:
    """Show a user-facing error (what, where, fix) without a traceback and exit with its code."""
    if as_json:
        payload = {
            "ok": False,
            "error": {
                "message": error.message,
                "path": error.path,
                "line": error.line,
                "fix": error.fix,
                "exit_code": error.exit_code,
            },
        }
        import json

        click.echo(json.dumps(payload, indent=2))
    else:
        from rich.markup import escape

        err = console(stderr=True)
        where = f"{escape(error.location)}: " if error.location else ""
        err.print(f"[bold red]error:[/] {where}{escape(error.message)}")
        if error.fix:
            err.print(f"  [bold]fix:[/] {escape(error.fix)}")
    sys.exit(error.exit_code)


@contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """Turn :class:`HomedeployError` into a clean message and exit code."""
    try:
        yield
    except HomedeployError as error:
        fail(error, as_json=as_json)
    except KeyboardInterrupt:
        console(stderr=True).print("[yellow]interrupted[/]")
        sys.exit(130)


def path_argument(default: str = ".") -> Callable[[F], F]:
    """The optional project folder argument most commands take."""
    return click.argument(
        "path",
        required=False,
        default=default,
        type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    )


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="homedeploy")
def cli() -> None:
    """Take a Flask app from a laptop to a working Heroku deploy in one pass.

    \b
    Typical flow:
      homedeploy init            scaffold a Flask app, or adopt the one in this folder
      homedeploy serve --check   run it under gunicorn the way Heroku will, and probe it
      homedeploy check-reqs      turn any pip freeze into a requirements.txt Heroku installs
      homedeploy doctor          every build and boot problem, found locally, at once
      homedeploy push            deploy to Heroku and prove the release answers

    Heroku management: apps, logs, config, scale, releases, rollback.
    """


# === init ===


@cli.command(
    "init",
    context_settings=CONTEXT_SETTINGS,
    short_help="Scaffold a Flask app, or adopt the one in PATH.",
)
@path_argument()
@click.option(
    "--app",
    "app",
    metavar="MODULE:VAR",
    help="Which Flask app to use when several are found, e.g. hello:application or "
    "'pkg:create_app()'.",
)
@click.option(
    "--python",
    metavar="X.Y",
    help="Python version for .python-version (default: Heroku's default, 3.14).",
)
@click.option("--force", is_flag=True, help="Replace existing files (each is backed up as .bak).")
@click.option("--example", is_flag=True, help="Copy the bundled homedata dashboard app.")
@click.option("--venv", "make_venv", is_flag=True, help="Build .venv and install requirements.txt.")
@click.option("--no-git", is_flag=True, help="Do not run git init or make the first commit.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def init_command(
    path: Path,
    app: str | None,
    python: str | None,
    force: bool,
    example: bool,
    make_venv: bool,
    no_git: bool,
    as_json: bool,
) -> None:
    """Scaffold a Flask app for Heroku in PATH, or adopt the app already there.

    \b
    Empty or new folder: hello.py, wsgi.py, Procfile (web: gunicorn wsgi:app),
    .python-version, requirements.in/.txt (flask, gunicorn), .gitignore, git init and a
    first commit.
    Existing project: finds the Flask app by reading the code (never running it): any
    module, any variable name, create_app() factories, packages and src/ layouts. Only
    what is missing is generated, pointing at your object under your name.
    Existing files are never overwritten without --force (which keeps a .bak copy).
    """
    from homedeploy.commands.init import init_project

    with user_errors(as_json):
        if as_json or not make_venv:
            result = init_project(
                path,
                app=app,
                python=python,
                force=force,
                example=example,
                venv=make_venv,
                git=not no_git,
            )
        else:
            with console(stderr=True).status("building .venv") as status:

                def progress(line: str) -> None:
                    status.update(f"[dim]{_short(line)}[/]")

                result = init_project(
                    path,
                    app=app,
                    python=python,
                    force=force,
                    example=example,
                    venv=True,
                    git=not no_git,
                    progress=progress,
                )
    if as_json:
        print_json(result)
        return
    _render_init(result)


def _short(line: str, width: int = 90) -> str:
    from rich.markup import escape

    line = line.strip()
    return escape(line if len(line) <= width else line[: width - 1] + "…")


def _render_init(result: Any) -> None:
    from rich.markup import escape

    out = console()
    titles = {
        "scaffold": "Scaffolded a new Flask app",
        "adopt": "Adopted the existing Flask app",
        "example": "Copied the homedata dashboard example",
    }
    out.print(f"[bold green]{titles[result.mode]}[/] in {escape(result.project)}")
    if result.app_target:
        out.print(f"  app: [bold]{escape(result.app_target)}[/]")
    if result.procfile_command:
        out.print(f"  web: {escape(result.procfile_command)}")
    styles = {"created": "green", "replaced": "yellow", "kept": "dim"}
    for action in result.files:
        if result.mode == "example" and action.action == "created" and "/" in action.path:
            continue
        extra = f" (backup: {action.backup})" if action.backup else ""
        extra += f" - {action.note}" if action.note else ""
        style = styles.get(action.action, "")
        out.print(f"  [{style}]{action.action:>8}[/] {escape(action.path)}{escape(extra)}")
    if result.mode == "example":
        nested = sum(1 for a in result.files if a.action == "created" and "/" in a.path)
        out.print(f"  [green] created[/] {nested} more files in subfolders")
    for problem in result.source_problems:
        where = f"{problem.path}:{problem.line}" if problem.line else problem.path
        out.print(f"  [yellow]skipped[/] {escape(where)}: {escape(problem.message)}")
    git = result.git
    if git is not None and git.committed:
        out.print(f"  git: initialized on branch {git.branch}, first commit {git.commit}")
    if result.venv is not None:
        interp = result.venv.interpreter
        match = "matches" if interp.matches else f"not {interp.requested}: none is installed"
        out.print(
            f"  .venv: Python {interp.version} ({escape(interp.path)}; {match}), "
            f"built in {result.venv.seconds:.1f} s"
        )
    for note in result.notes:
        out.print(f"  [yellow]note:[/] {escape(note)}")
    out.print(f"\nNext: [bold]homedeploy serve {escape(result.project)} --check[/]")


# === serve ===


@cli.command(
    "serve",
    context_settings=CONTEXT_SETTINGS,
    short_help="Run the app under gunicorn the way a Heroku dyno does.",
)
@path_argument()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Port to bind (sets $PORT). Default: PORT from .env, else 8000.",
)
@click.option("--check", is_flag=True, help="Start, probe over HTTP, stop, and report.")
@click.option(
    "--path",
    "paths",
    multiple=True,
    metavar="URL_PATH",
    help="With --check: also GET this path (repeatable). / is always probed.",
)
@click.option(
    "--boot-timeout",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds the app may take to bind $PORT (Heroku's R10 limit is 60).",
)
@click.option(
    "--app",
    "app",
    metavar="MODULE:VAR",
    help="Run gunicorn on this app instead of the Procfile's web command.",
)
@click.option("--json", "as_json", is_flag=True, help="With --check: print the report as JSON.")
def serve_command(
    path: Path,
    port: int | None,
    check: bool,
    paths: tuple[str, ...],
    boot_timeout: float,
    app: str | None,
    as_json: bool,
) -> None:
    """Run the app in PATH the way Heroku's web dyno will.

    Runs the Procfile's web: command (or gunicorn on the app found in the code) with $PORT
    set, .env loaded, in the project's .venv when it has one (otherwise homedeploy's own
    Python, and it says so). Logs stream until Ctrl-C, which stops the app like Heroku
    does: SIGTERM, then SIGKILL after 30 s.

    With --check it starts the app, waits for the port (failing like Heroku's R10 after
    --boot-timeout), GETs / and every --path, reports status, latency and boot time, shows
    the log on a crash or WORKER TIMEOUT, stops it, and exits 0 only if every probe
    answered below 500.
    """
    from homedeploy.commands import serve as serving

    if as_json and not check:
        raise click.UsageError("--json goes with --check.")
    with user_errors(as_json):
        plan = serving.plan_serve(path, port=port, app=app)
        if check:
            report = serving.check(
                plan,
                paths=list(paths),
                boot_timeout=boot_timeout,
                while_booting=None if as_json else _warm_rich,
            )
            if as_json:
                print_json(report.as_json())
            else:
                _render_serve_report(plan, report)
            sys.exit(0 if report.ok else 1)
        _serve_foreground(plan, boot_timeout)


def _warm_rich() -> None:
    """Import the report's rendering modules while the app boots (they cost ~40 ms)."""
    import rich.markup
    import rich.table  # noqa: F401

    console()


def _serve_foreground(plan: Any, boot_timeout: float) -> None:
    from rich.markup import escape

    from homedeploy.commands import serve as serving

    err = console(stderr=True)
    err.print(f"[bold]web:[/] {escape(plan.command)}  [dim]({escape(plan.source)})[/]")
    err.print(f"[dim]using {escape(plan.environment)}; PORT={plan.port}[/]")
    if plan.dotenv_keys:
        err.print(f"[dim].env loaded: {escape(', '.join(plan.dotenv_keys))}[/]")

    def on_bound(seconds: float) -> None:
        err.print(
            f"[bold green]Serving on http://127.0.0.1:{plan.port}/[/] "
            f"(bound in {seconds:.2f} s). Press Ctrl-C to stop."
        )

    code = serving.run_foreground(
        plan, echo=lambda line: click.echo(line), on_bound=on_bound, boot_timeout=boot_timeout
    )
    err.print("[dim]stopped[/]")
    sys.exit(code)


def _render_serve_report(plan: Any, report: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    out.print(f"[bold]web:[/] {escape(plan.command)}  [dim]({escape(plan.source)})[/]")
    out.print(f"[dim]using {escape(report.environment)}; PORT={report.port}[/]")
    if report.boot_seconds is not None:
        out.print(f"booted (port bound) in [bold]{report.boot_seconds:.2f} s[/]")
    if report.probes:
        table = Table(box=None, pad_edge=False)
        table.add_column("path")
        table.add_column("status", justify="right")
        table.add_column("ms", justify="right")
        for probe in report.probes:
            status = str(probe.status) if probe.status is not None else escape(probe.error or "-")
            style = "green" if probe.ok else "red"
            millis = f"{probe.seconds * 1000:.1f}"
            table.add_row(escape(probe.path), f"[{style}]{status}[/]", millis)
        out.print(table)
    if report.stop is not None:
        how = "cleanly" if report.stop.clean else "only after SIGKILL"
        out.print(f"stopped {how} in {report.stop.seconds:.2f} s after SIGTERM")
    if report.problems:
        for problem in report.problems:
            out.print(f"[bold red]problem:[/] {escape(problem)}")
        out.print("[bold]last log lines:[/]")
        for line in report.log_tail:
            out.print(f"  [dim]{escape(line)}[/]")
        out.print("[bold red]serve --check failed[/]")
    else:
        out.print("[bold green]ok[/]: the app answers the way a Heroku dyno would serve it")


# === check-reqs ===


@cli.command(
    "check-reqs",
    context_settings=CONTEXT_SETTINGS,
    short_help="Turn any pip freeze into a requirements.txt Heroku installs.",
)
@click.argument(
    "requirements",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--app",
    "app",
    type=click.Path(file_okay=False, path_type=Path),
    help="The app folder (default: the requirements file's folder, or '.').",
)
@click.option(
    "--python", "python", metavar="X.Y", help="Target Python (default: what Heroku picks)."
)
@click.option(
    "--write",
    is_flag=True,
    help="Write requirements.in and requirements.txt (old ones kept as .bak).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--offline", is_flag=True, help="Use only cached index data; no network.")
def check_reqs_command(
    requirements: Path | None,
    app: Path | None,
    python: str | None,
    write: bool,
    as_json: bool,
    offline: bool,
) -> None:
    """Turn any pip freeze into a requirements.txt that installs on Heroku.

    \b
    Judges every line of REQUIREMENTS (default: requirements.txt in the app
    folder) for the Python Heroku will use (.python-version, else runtime.txt,
    else 3.14; --python overrides) on Linux x86_64 (manylinux, glibc 2.39):
      keep    installs there and the app needs it
      drop    conda-only, Windows/macOS only, a local path, or unused by the app
      repin   the version is not on the index or has no wheel there
      error   the line is invalid, or the app needs it and nothing installs
      add     the app needs it (imports, Procfile) but no line installs it
    What the app needs comes from its imports, its Procfile (gunicorn) and names
    it loads at run time. Indexes come from pip's configuration; look-ups are
    cached on disk (--offline uses the cache only).

    \b
    Exit codes: 0 clean (or written), 1 problems found, 2 unreadable input,
    3 package index unreachable.

    \b
    Examples:
      homedeploy check-reqs                          # ./requirements.txt, app in .
      homedeploy check-reqs freeze.txt --app myapp   # a freeze, judged for myapp
      homedeploy check-reqs --write                  # fix: requirements.in + .txt
      homedeploy check-reqs --python 3.12 --json
    """
    with user_errors(as_json):
        from homedeploy.commands.check_reqs import run_check_reqs

        if not as_json:
            with console(stderr=True).status("checking requirements against the package index"):
                report = run_check_reqs(
                    requirements, app, python=python, write=write, offline=offline
                )
        else:
            report = run_check_reqs(requirements, app, python=python, write=write, offline=offline)
    if as_json:
        print_json(report.to_json())
    else:
        _render_check_reqs(report)
    sys.exit(report.exit_code)


_VERDICT_STYLE = {
    "keep": "green",
    "drop": "yellow",
    "repin": "cyan",
    "error": "bold red",
    "add": "magenta",
}


def _render_check_reqs(report: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    out.print(
        f"[bold]{escape(str(report.requirements_path))}[/] ({escape(report.encoding)}) for "
        f"[bold]CPython {report.python}[/] on Heroku ({report.platform}; Python from "
        f"{escape(report.python_origin if report.python_origin != 'default' else 'its default')})"
    )
    table = Table(show_edge=False, pad_edge=False, expand=False)
    table.add_column("line", justify="right", style="dim")
    table.add_column("requirement", overflow="fold", max_width=40)
    table.add_column("verdict")
    table.add_column("reason", overflow="fold")
    table.add_column("→", overflow="fold")
    files = {v.file for v in report.lines if v.file}
    for verdict in report.lines:
        where = "" if verdict.line is None else str(verdict.line)
        if len(files) > 1 and verdict.file:
            where = f"{verdict.file}:{where}"
        style = _VERDICT_STYLE.get(verdict.verdict, "")
        table.add_row(
            where,
            escape(verdict.text or verdict.name or ""),
            f"[{style}]{verdict.verdict}[/]",
            escape(verdict.reason),
            escape(verdict.replacement or ""),
        )
    out.print(table)
    counts = report.counts()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    out.print(f"\n[bold]{len(report.lines)} lines:[/] {summary or 'none'}")
    if report.requirements_in:
        out.print(
            "[bold]The app needs:[/] "
            + ", ".join(
                f"{escape(r)} [dim]({escape(report.top_level_reasons.get(r, ''))})[/]"
                for r in report.requirements_in
            )
        )
    if report.method:
        out.print(f"[bold]Pins:[/] {len(report.pins)} packages, {escape(report.method)}")
    for note in report.notes:
        out.print(f"[yellow]note:[/] {escape(note)}")
    if report.blocked:
        out.print(f"[bold red]Nothing written:[/] {escape(report.blocked)}")
    for written in report.written:
        backup = f" (old file kept as {escape(written.backup)})" if written.backup else ""
        out.print(f"[green]wrote[/] {escape(written.path)}{backup}: {escape(written.how)}")
    if not report.written and not report.blocked:
        if report.problems:
            out.print(
                "Run with [bold]--write[/] to write requirements.in and a requirements.txt "
                "that installs on Heroku."
            )
        else:
            out.print("[green]Every line installs on Heroku as it is.[/]")


# === doctor ===

_STAGE_TITLES = {
    "build": "Build (Heroku's Python buildpack)",
    "boot": "Boot (the web dyno)",
    "repository": "Repository (what git push delivers)",
}


@cli.command(
    "doctor",
    context_settings=CONTEXT_SETTINGS,
    short_help="Find every build, boot and repository problem before a push.",
)
@path_argument()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--offline", is_flag=True, help="No network: skip check-reqs' package-index verdicts."
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes (with backups), then check again.")
def doctor_command(path: Path, as_json: bool, offline: bool, fix: bool) -> None:
    """Every build, boot and repository problem of the app in PATH, found at once.

    \b
    Each finding has a severity (error: the build or the boot would fail; warning), the
    file:line, the buildpack headline or Heroku error code it predicts (H10, H14, R10 ...)
    and the fix. --fix applies the safe ones: ignore a committed venv, runtime.txt ->
    .python-version, rename misspelt files, point the Procfile at the real app object, add
    gunicorn to requirements.txt.

    Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 bad PATH.
    """
    from homedeploy.commands.doctor import doctor

    with user_errors(as_json):
        report = doctor(path, offline=offline, fix=fix)
    if as_json:
        print_json(report.as_json())
    else:
        _render_doctor(report)
    sys.exit(0 if report.ok else 1)


def _render_doctor(report: Any) -> None:
    from rich.markup import escape

    out = console()
    out.print(f"[bold]homedeploy doctor[/] {escape(report.project)}")
    for change in report.fixes_applied:
        backup = f" (backup: {escape(change.backup)})" if change.backup else ""
        out.print(f"  [green]fixed[/] {escape(change.path)}: {escape(change.change)}{backup}")
    for stage, title in _STAGE_TITLES.items():
        findings = [f for f in report.findings if f.stage == stage]
        if not findings:
            continue
        out.print(f"\n[bold underline]{title}[/]")
        for finding in findings:
            colour = "red" if finding.is_error else "yellow"
            where = f" [cyan]{escape(finding.location)}[/]" if finding.location else ""
            out.print(
                f"  [bold {colour}]{finding.severity:<7}[/]{where} {escape(finding.message)} "
                f"[dim]({finding.code})[/]"
            )
            if finding.heroku:
                out.print(f"           [dim]Heroku:[/] {escape(finding.heroku)}")
            if finding.fix:
                out.print(f"           [bold]fix:[/] {escape(finding.fix)}")
    for note in report.notes:
        out.print(f"\n[dim]note: {escape(note)}[/]")
    errors, warnings = len(report.errors), len(report.warnings)
    if report.ok:
        tail = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        out.print(f"\n[bold green]pass[/]: nothing would stop the build or the boot{tail}.")
    else:
        out.print(
            f"\n[bold red]fail[/]: {errors} error{'s' if errors != 1 else ''}, {warnings} "
            f"warning{'s' if warnings != 1 else ''}: this deploy would fail."
        )


def _push_local(path: Path, *, keep: bool, as_json: bool) -> None:
    """``push --local``: the rehearsal. Returns on success; exits 1 (with the reason) on failure."""
    from homedeploy.commands.rehearse import run_rehearsal

    err = console(stderr=True)
    if as_json:
        report = run_rehearsal(path, keep=keep)
    else:
        from rich.markup import escape

        with err.status("rehearsing the deploy") as status:

            def progress(line: str) -> None:
                err.print(f"[dim]  {escape(line)}[/]")
                status.update(escape(line))

            def detail(line: str) -> None:
                status.update(f"[dim]{_short(line)}[/]")

            report = run_rehearsal(path, keep=keep, progress=progress, detail=detail)
    if as_json:
        print_json(report.as_json())
    else:
        _render_rehearsal(report)
    if not report.ok:
        sys.exit(1)


def _render_rehearsal(report: Any) -> None:
    from rich.markup import escape

    out = console()
    out.print(f"[bold]homedeploy push --local[/] {escape(report.project)} (commit {report.commit})")
    if report.build_seconds is not None:
        python = f"Python {report.python}"
        if report.python_requested and not report.python.startswith(report.python_requested):
            python += f" (Heroku: {report.python_requested})"
        out.print(f"  build  {report.build_seconds:6.1f} s   clean venv, {python}")
    if report.boot_seconds is not None:
        out.print(f"  boot   {report.boot_seconds:6.2f} s   bound $PORT (R10 limit 60 s)")
    for probe in report.probes:
        status = probe.status if probe.status is not None else probe.error
        out.print(f"  GET {escape(probe.path)} -> {escape(str(status))} in {probe.seconds:.3f} s")
    if report.rss_bytes:
        used = report.rss_bytes / 1024 / 1024
        out.print(f"  memory {used:6.0f} MB of 512 MB (eco/basic dyno, WEB_CONCURRENCY=2)")
    if report.stop_seconds is not None:
        out.print(f"  stop   {report.stop_seconds:6.2f} s   after SIGTERM (R12 limit 30 s)")
    for note in report.notes:
        out.print(f"  [dim]note: {escape(note)}[/]")
    if report.ok and report.url:
        out.print(f"\n[bold green]serving[/] at {report.url} (pid {report.pid})")
        out.print(f"  log: {escape(report.log_file or '')}")
        workdir = escape(report.workdir or "")
        out.print(f"  stop it with: kill -TERM -{report.pid}; then rm -r {workdir}")
        return
    if report.ok:
        out.print(
            "\n[bold green]pass[/]: the committed app builds from scratch and boots like a dyno."
        )
        return
    err = console(stderr=True)
    if report.log_tail:
        err.print("[dim]--- web process log (last lines) ---[/]")
        for line in report.log_tail[-25:]:
            err.print(f"[dim]{escape(line)}[/]")
    heroku = f" [dim](on Heroku: {escape(report.heroku)})[/]" if report.heroku else ""
    reason, message = escape(f"[{report.reason}]"), escape(report.message or "")
    err.print(f"[bold red]fail[/] {reason}: {message}{heroku}")
    if report.fix:
        err.print(f"  [bold]fix:[/] {escape(report.fix)}")


# === push ===


@cli.command(
    "push",
    context_settings=CONTEXT_SETTINGS,
    short_help="Deploy to Heroku and prove the release answers.",
)
@path_argument()
@click.option(
    "--app", "app", metavar="NAME", help="Heroku app (else HEROKU_APP, pyproject, heroku remote)."
)
@click.option("--create", is_flag=True, help="Create the app (Heroku picks a name without --app).")
@click.option("--region", type=click.Choice(["us", "eu"]), help="Region for --create.")
@click.option("--no-verify", is_flag=True, help="Push even when doctor finds errors.")
@click.option(
    "--rollback-on-fail",
    is_flag=True,
    help="Roll back to the previous release when the new one does not answer over HTTP.",
)
@click.option("--force", is_flag=True, help="Force-push (replace what Heroku has on main).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (no live output).")
@click.option("--local", is_flag=True, help="Rehearse the deploy locally instead (no Heroku).")
@click.option(
    "--keep",
    is_flag=True,
    help="With --local: leave the rehearsed app serving and print its URL and how to stop it.",
)
def push_command(
    path: Path,
    app: str | None,
    create: bool,
    region: str | None,
    no_verify: bool,
    rollback_on_fail: bool,
    force: bool,
    as_json: bool,
    local: bool,
    keep: bool,
) -> None:
    """Deploy the committed HEAD of PATH to Heroku, and prove the release answers.

    \b
    1. app: --app, HEROKU_APP, [tool.homedeploy] app in pyproject.toml, or the heroku
       remote; --create makes it (names: 3-30 of a-z 0-9 -, starting with a letter)
    2. doctor: errors stop the push (--no-verify to push anyway)
    3. buildpack heroku/python (set only when missing)
    4. git remote heroku -> the app's git URL (never containing the key)
    5. git push HEAD:refs/heads/main (any local branch; forced only with --force);
       the API key reaches git only through its environment
    6. the build, phase by phase; on failure the buildpack's headline and the fix
    7. verify: a new succeeded release, a web dyno, and web_url answering below 500

    The key comes from HEROKU_API_KEY, ~/.netrc (machine api.heroku.com) or the OS keychain.
    Exit codes: 0 deployed and answering, 1 doctor errors, build or verification failed,
    2 usage, key or project problem, 3 Heroku unreachable.
    """
    if local:
        with user_errors(as_json):
            _push_local(path, keep=keep, as_json=as_json)
        return
    if keep:
        raise click.UsageError("--keep goes with --local.")
    from homedeploy.commands.push import PushOptions, run_push

    options = PushOptions(
        app=app,
        create=create,
        region=region,
        no_verify=no_verify,
        rollback_on_fail=rollback_on_fail,
        force=force,
    )
    with user_errors(as_json):
        report = run_push(path, options, on_event=None if as_json else _show_push_event)
    if as_json:
        print_json(report)
    else:
        _render_push_report(report)
    sys.exit(0 if report.ok else 1)


def _show_push_event(event: Any) -> None:
    """Live progress on stderr: steps, build phases, remote lines (dim), problems."""
    from rich.markup import escape

    err = console(stderr=True)
    text = escape(event.text)
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
    err.print(styles.get(event.kind, text))


def _render_push_report(report: Any) -> None:
    from rich.markup import escape

    out = console()
    if report.ok:
        version = f" v{report.release_version}" if report.release_version else ""
        out.print(
            f"[bold green]deployed[/] {escape(report.app or '')}{version}: "
            f"{escape(report.web_url or '')} answered HTTP {report.http_status}"
        )
        return
    err = console(stderr=True)
    err.print(
        f"[bold red]push failed[/] ({escape(report.failed_step or '?')}): "
        f"{escape(report.failure or '')}"
    )
    if report.build is not None and report.build.cause:
        err.print(f"  [bold]cause:[/] {escape(report.build.cause)}")
    if report.explanation:
        err.print(f"  [bold]why:[/] {escape(report.explanation)}")
    if report.fix:
        err.print(f"  [bold]fix:[/] {escape(report.fix)}")
    if report.rolled_back_to:
        err.print(f"  [yellow]rolled back to v{report.rolled_back_to}[/]")
    if report.log_tail:
        err.print("  [bold]last log lines:[/]")
        for line in report.log_tail:
            err.print(f"    [dim]{escape(line)}[/]")


# === heroku management: apps, logs, config, scale, releases, rollback ===


def _app_option() -> Callable[[F], F]:
    return click.option(
        "--app",
        "-a",
        "app",
        metavar="NAME",
        help="Heroku app (else HEROKU_APP, pyproject.toml, or this folder's heroku remote).",
    )


@cli.command(
    "apps",
    context_settings=CONTEXT_SETTINGS,
    short_help="List your Heroku apps.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the apps as JSON.")
def apps_command(as_json: bool) -> None:
    """List the Heroku apps this account owns or collaborates on."""
    from homedeploy.commands.apps import list_apps

    with user_errors(as_json):
        report = list_apps()
    if as_json:
        print_json(report)
        return
    from rich.markup import escape
    from rich.table import Table

    out = console()
    if not report.apps:
        out.print(f"{escape(report.account)} has no apps yet: homedeploy push --create")
        return
    table = Table(title=f"Apps of {escape(report.account)}", title_justify="left")
    for column in ("name", "region", "web URL", "released"):
        table.add_column(column, overflow="fold")
    for app in report.apps:
        table.add_row(
            escape(app.name), app.region or "", escape(app.web_url or ""), app.released_at or "-"
        )
    out.print(table)


@cli.command(
    "logs",
    context_settings=CONTEXT_SETTINGS,
    short_help="Show or --tail the app's logs.",
)
@_app_option()
@click.option("--tail", "-t", is_flag=True, help="Keep following new lines until Ctrl-C.")
@click.option("--num", "-n", type=click.IntRange(1, 1500), default=100, show_default=True)
@click.option("--dyno", "-d", metavar="NAME", help="Only this dyno (e.g. web.1).")
@click.option("--source", "-s", metavar="SOURCE", help="Only this source (app or heroku).")
def logs_command(
    app: str | None, tail: bool, num: int, dyno: str | None, source: str | None
) -> None:
    """Show the app's recent log lines (router, dynos, releases); --tail follows them."""
    from homedeploy.commands.logs import open_logs

    with user_errors():
        stream = open_logs(Path.cwd(), app, tail=tail, num=num, dyno=dyno, source=source)
        for line in stream.lines:
            click.echo(line)


@cli.group(
    "config",
    context_settings=CONTEXT_SETTINGS,
    invoke_without_command=True,
    short_help="Show config vars; `config push` sends .env.",
)
@_app_option()
@click.option("--reveal", is_flag=True, help="Show the values (they are masked by default).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print as JSON (values masked unless --reveal)."
)
@click.pass_context
def config_group(ctx: click.Context, app: str | None, reveal: bool, as_json: bool) -> None:
    """Show the app's config vars (values masked unless --reveal).

    `homedeploy config push` sends .env to the app after showing what changes.
    """
    ctx.obj = {"app": app}
    if ctx.invoked_subcommand is not None:
        return
    from homedeploy.commands.config import show_config

    with user_errors(as_json):
        report = show_config(Path.cwd(), app, reveal=reveal)
    if as_json:
        print_json(report)
        return
    from rich.markup import escape

    out = console()
    out.print(f"[bold]{escape(report.app)} config vars[/]")
    if not report.vars:
        out.print("  (none)")
    for key, value in report.vars.items():
        out.print(f"  {escape(key)}: {escape(value)}")
    if not report.revealed and report.vars:
        out.print("[dim](values hidden; --reveal shows them)[/]")


@config_group.command("push", context_settings=CONTEXT_SETTINGS)
@click.argument(
    "env_file",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@_app_option()
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--reveal", is_flag=True, help="Show old and new values in the diff.")
@click.pass_context
def config_push_command(
    ctx: click.Context, env_file: Path | None, app: str | None, yes: bool, reveal: bool
) -> None:
    """Send ENV_FILE (default .env) to the app's config vars: adds and changes only.

    Shows the diff (values masked unless --reveal) and asks before changing anything;
    Heroku then makes one new release and restarts the dynos. Variables set on Heroku
    but absent from the file are left alone; PORT is never sent.
    """
    from rich.markup import escape

    from homedeploy.commands.config import apply_config_push, mask, plan_config_push

    app = app or (ctx.obj or {}).get("app")
    out = console()
    with user_errors():
        plan = plan_config_push(Path.cwd(), app, env_file)
        for note in plan.skipped:
            out.print(f"[yellow]skipped[/] {escape(note)}")
        if not plan.changes:
            out.print(f"{escape(plan.app)} already has every value in {escape(str(plan.env_file))}")
            return
        out.print(f"[bold]Changes to {escape(plan.app)}[/] from {escape(str(plan.env_file))}:")
        for change in plan.changes:
            where = f"line {change.line}" if change.line else ""
            if reveal:
                detail = f"{change.old!r} -> {change.new!r}" if change.old else repr(change.new)
            else:
                detail = mask(change.new)
            sign = "[green]+[/]" if change.action == "add" else "[yellow]~[/]"
            out.print(f"  {sign} {escape(change.key)} = {escape(detail)} [dim]{where}[/]")
        if plan.unchanged:
            out.print(f"  [dim]unchanged: {escape(', '.join(plan.unchanged))}[/]")
        if not yes and not click.confirm(
            f"Set {len(plan.changes)} config var(s) and restart {plan.app}?", default=False
        ):
            out.print("nothing changed")
            sys.exit(1)
        result = apply_config_push(Path.cwd(), plan)
    version = f", v{result.release}" if result.release else ""
    out.print(
        f"Setting {escape(', '.join(result.applied))} and restarting "
        f"{escape(result.app)}... done{version}"
    )


@cli.command(
    "scale",
    context_settings=CONTEXT_SETTINGS,
    short_help="Set dyno counts and sizes, e.g. web=1:basic.",
)
@click.argument("changes", nargs=-1, metavar="[TYPE=COUNT[:SIZE]]...")
@_app_option()
@click.option("--json", "as_json", is_flag=True, help="Print the formation as JSON.")
def scale_command(changes: tuple[str, ...], app: str | None, as_json: bool) -> None:
    """Set how many dynos run per process type, e.g. `scale web=1` or `web=2:standard-1x`.

    Without arguments, shows the current formation.
    """
    from homedeploy.commands.scale import scale

    with user_errors(as_json):
        report = scale(Path.cwd(), app, list(changes))
    if as_json:
        print_json(report)
        return
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


@cli.command(
    "releases",
    context_settings=CONTEXT_SETTINGS,
    short_help="List the app's releases.",
)
@_app_option()
@click.option("--num", "-n", type=click.IntRange(1, 1000), default=15, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the releases as JSON.")
def releases_command(app: str | None, num: int, as_json: bool) -> None:
    """List the app's newest releases (deploys, config changes, rollbacks)."""
    from homedeploy.commands.releases import list_releases

    with user_errors(as_json):
        report = list_releases(Path.cwd(), app, limit=num)
    if as_json:
        print_json(report)
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{escape(report.app)} releases", title_justify="left")
    for column in ("version", "status", "description", "by", "created"):
        table.add_column(column)
    for release in report.releases:
        status = release.status + (" (current)" if release.current else "")
        style = "red" if release.status == "failed" else None
        table.add_row(
            f"v{release.version}",
            status,
            escape(release.description),
            escape(release.user or ""),
            release.created_at or "",
            style=style,
        )
    console().print(table)


@cli.command(
    "rollback",
    context_settings=CONTEXT_SETTINGS,
    short_help="Make an earlier release current again.",
)
@click.argument("version", required=False, metavar="[vN]")
@_app_option()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def rollback_command(version: str | None, app: str | None, as_json: bool) -> None:
    """Make an earlier release current again (default: the one before the current).

    Creates a new release with that release's code and config vars (add-ons are not
    touched). Undo by rolling back to the version before the new one.
    """
    from homedeploy.commands.rollback import rollback

    with user_errors(as_json):
        report = rollback(Path.cwd(), app, version)
    if as_json:
        print_json(report)
        return
    out = console()
    out.print(f"Rolling back {report.app} to v{report.target}... done, v{report.new_version}")
    out.print(f"[yellow]{report.warning}[/]")
    out.print(f"To undo, run: {report.undo}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="homedeploy")
