"""Command-line interface: Click wiring only (options, arguments, exit codes).

Each command calls one use case under ``homedeploy.commands``, gets a typed result back, and hands
it to a renderer in :mod:`homedeploy.console` or prints it as JSON. Options shared by several
commands (``--json``, ``-a/--app``, the project PATH) are declared once below. Everything else
is imported inside the commands, so ``homedeploy --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from homedeploy import __version__, console
from homedeploy.errors import HomedeployError

if TYPE_CHECKING:
    from homedeploy.commands.run import RunStarted
    from homedeploy.commands.serve import ServePlan

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


def print_json(value: object) -> None:
    """Print a result as indented JSON on stdout (no rich markup, safe for pipes)."""
    from homedeploy.jsonout import dumps

    click.echo(dumps(value))


class Seconds(click.FloatRange):
    """A number of seconds: a float in range, and never NaN (which compares false to any bound
    and would make a wait loop never end)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if number != number:  # NaN
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return number


def show(result: R, as_json: bool, render: Callable[[R], None]) -> None:
    """Print ``result`` as JSON with ``--json``, else hand it to its renderer in console.py."""
    if as_json:
        print_json(result)
    else:
        render(result)


def fail(error: HomedeployError, *, as_json: bool = False) -> NoReturn:
    """Show a user-facing error (what, where, fix) without a traceback and exit with its code."""
    from homedeploy.redact import scrub

    error.message = scrub(error.message)
    error.fix = scrub(error.fix) if error.fix else error.fix
    show(error, as_json, console.render_error)
    sys.exit(error.exit_code)


@contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """Turn :class:`HomedeployError` into a clean message and exit code."""
    try:
        yield
    except HomedeployError as error:
        fail(error, as_json=as_json)
    except KeyboardInterrupt:
        console.render_interrupted()
        sys.exit(130)


# --- options declared once ---


def path_argument(default: str = ".") -> Callable[[F], F]:
    """The optional project folder argument most commands take."""
    return click.argument(
        "path",
        required=False,
        default=default,
        type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    )


def json_option(help: str = "Print the result as JSON.") -> Callable[[F], F]:
    """``--json``: the result as JSON on stdout instead of the rich rendering."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def _complete_app(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from homedeploy.heroku.completion import app_names

    return app_names(incomplete)


def _complete_remote(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from homedeploy.heroku.completion import remote_names

    return remote_names(Path.cwd(), incomplete)


def heroku_app_option() -> Callable[[F], F]:
    """``-a/--app NAME`` and ``-r/--remote NAME`` (the app a git remote points at).

    ``--remote`` is turned into the app's name before the command runs, so every command
    that talks to Heroku gets it without knowing about remotes.
    """

    def decorate(function: F) -> F:
        import functools

        @functools.wraps(function)
        def wrapper(*args: Any, remote: str | None = None, **kwargs: Any) -> Any:
            if remote is not None:
                if kwargs.get("app"):
                    raise click.UsageError("--app and --remote both name the app; give one.")
                from homedeploy.heroku.app_choice import app_from_remote

                project = kwargs.get("path") or Path.cwd()
                with user_errors():
                    kwargs["app"] = app_from_remote(Path(project), remote)
            return function(*args, **kwargs)

        wrapper = click.option(
            "--remote",
            "-r",
            "remote",
            metavar="NAME",
            help="The app this git remote points at (e.g. staging).",
            shell_complete=_complete_remote,
        )(wrapper)
        wrapper = click.option(
            "--app",
            "-a",
            "app",
            metavar="NAME",
            help="Heroku app (else HEROKU_APP, pyproject.toml, or this folder's heroku remote).",
            shell_complete=_complete_app,
        )(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate


def _moved_app_option(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise click.BadParameter(
            f"--app names a Heroku app; the Flask object is --target MODULE:VAR "
            f"(e.g. --target {value if ':' in value else 'hello:app'}).",
            ctx=ctx,
            param=param,
        )


def flask_app_option(help: str) -> Callable[[F], F]:
    """``--target MODULE:VAR``: which Flask object (``-a/--app`` is the Heroku app everywhere)."""

    def decorate(function: F) -> F:
        function = click.option("--target", "app", metavar="MODULE:VAR", help=help)(function)
        return click.option(
            "--app", "moved_app", hidden=True, expose_value=False, callback=_moved_app_option
        )(function)

    return decorate


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _set_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        console.set_verbosity(console.VERBOSE)


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        console.set_verbosity(console.QUIET)


def _verbosity_options() -> list[click.Option]:
    return [
        click.Option(
            ["-v", "--verbose"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_set_verbose,
            help="More detail: progress lines kept, pip's output, each Heroku API call.",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_set_quiet,
            help="No progress or chatter: results and errors only.",
        ),
    ]


class HomedeployGroup(click.Group):
    """A group whose every command (and subcommand) takes -v/--verbose and -q/--quiet."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        names = {param.name for param in cmd.params}
        if "verbose" not in names and "quiet" not in names:
            cmd.params.extend(_verbosity_options())
        if isinstance(cmd, click.Group) and not isinstance(cmd, HomedeployGroup):
            cmd.__class__ = HomedeployGroup
            for sub in list(cmd.commands.values()):
                cmd.add_command(sub)
        super().add_command(cmd, name)


@click.group(cls=HomedeployGroup, context_settings=CONTEXT_SETTINGS, params=_verbosity_options())
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

    Heroku management: apps, logs, config, ps, restart, run, addons, scale, releases,
    rollback, maintenance, open. Shell completion: homedeploy completion bash|zsh|fish.
    """


# === init ===


@cli.command(
    "init",
    context_settings=CONTEXT_SETTINGS,
    short_help="Scaffold a Flask app, or adopt the one in PATH.",
)
@path_argument()
@flask_app_option(
    "Which Flask app to use when several are found, e.g. hello:application or 'pkg:create_app()'."
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
@click.option(
    "--ci",
    type=click.Choice(["github"]),
    help="Also write a CI workflow that runs doctor and push on every push to main.",
)
@click.option(
    "--manager",
    type=click.Choice(["pip", "uv", "poetry", "pipenv"]),
    default="pip",
    show_default=True,
    help="Package manager for a new app (an adopted project keeps its own).",
)
@json_option()
def init_command(
    path: Path,
    app: str | None,
    python: str | None,
    force: bool,
    example: bool,
    make_venv: bool,
    no_git: bool,
    ci: str | None,
    manager: str,
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
    A project that uses uv, Poetry or Pipenv keeps it: no requirements.txt is added
    (Heroku rejects two package managers). --manager uv|poetry|pipenv scaffolds a
    new app with that manager's files, locked by its own tool.
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
                ci=ci,
                manager=manager,
            )
        else:
            with console.status("building .venv") as progress:
                result = init_project(
                    path,
                    app=app,
                    python=python,
                    force=force,
                    example=example,
                    venv=True,
                    git=not no_git,
                    ci=ci,
                    progress=progress,
                    manager=manager,
                )
    show(result, as_json, console.render_init)


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
    type=Seconds(min=0.1, max=3600.0),
    default=60.0,
    show_default=True,
    help="Seconds the app may take to bind $PORT (Heroku's R10 limit is 60).",
)
@flask_app_option("Run gunicorn on this app instead of the Procfile's web command.")
@click.option(
    "--no-sync",
    is_flag=True,
    help="Use .venv as it is: never create it or install requirements.txt into it.",
)
@json_option("With --check: print the report as JSON.")
def serve_command(
    path: Path,
    port: int | None,
    check: bool,
    paths: tuple[str, ...],
    boot_timeout: float,
    app: str | None,
    no_sync: bool,
    as_json: bool,
) -> None:
    """Run the app in PATH the way Heroku's web dyno will.

    Like `uv run`, a missing .venv is first created from requirements.txt, and one that no
    longer satisfies it is synced (--no-sync: neither).
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
        if as_json:
            plan = serving.plan_serve(path, port=port, app=app, sync=not no_sync)
        else:
            with console.status("preparing .venv from requirements.txt") as progress:
                plan = serving.plan_serve(
                    path, port=port, app=app, sync=not no_sync, progress=progress
                )
        if check:
            report = serving.check(
                plan,
                paths=list(paths),
                boot_timeout=boot_timeout,
                while_booting=None if as_json else console.warm_serve_report,
            )
            if as_json:
                print_json(report)
            else:
                console.render_serve_report(plan, report)
            sys.exit(0 if report.ok else 1)
        _serve_foreground(plan, boot_timeout)


def _serve_foreground(plan: ServePlan, boot_timeout: float) -> None:
    from homedeploy.commands import serve as serving

    console.render_serve_start(plan)
    code = serving.run_foreground(
        plan,
        echo=lambda line: click.echo(line),
        on_bound=lambda seconds: console.render_serving(plan.port, seconds),
        boot_timeout=boot_timeout,
    )
    console.render_stopped()
    sys.exit(code)


# === check-reqs ===


@cli.command(
    "check-reqs",
    context_settings=CONTEXT_SETTINGS,
    short_help="Turn any pip freeze into a requirements.txt Heroku installs.",
)
@click.argument(
    "path",
    required=False,
    type=click.Path(path_type=Path),
)
@click.option(
    "--requirements",
    "requirements",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An explicit requirements file to judge (a pip freeze, anywhere).",
)
@click.option(
    "--app",
    "app",
    type=click.Path(file_okay=False, path_type=Path),
    hidden=True,
    help="Deprecated: the app folder (PATH takes it now).",
)
@click.option(
    "--python", "python", metavar="X.Y", help="Target Python (default: what Heroku picks)."
)
@click.option(
    "--write",
    is_flag=True,
    help="Fix the project's own files: requirements.in/.txt for pip, the lock (by uv, Poetry or "
    "Pipenv itself) otherwise; old files kept as .bak.",
)
@click.option(
    "--to",
    "to",
    type=click.Choice(["requirements"]),
    help="Convert a uv/Poetry/Pipenv project to requirements.txt (their files renamed .bak).",
)
@json_option("Print the report as JSON.")
@click.option("--offline", is_flag=True, help="Use only cached index data; no network.")
@click.option(
    "--all", "every_line", is_flag=True, help="One row per line (else alike lines are grouped)."
)
def check_reqs_command(
    path: Path | None,
    requirements: Path | None,
    app: Path | None,
    python: str | None,
    write: bool,
    to: str | None,
    as_json: bool,
    offline: bool,
    every_line: bool,
) -> None:
    """Check that a project's requirements or lock install on Heroku, and fix them.

    \b
    PATH is the project folder (default .) or one of its files: requirements.txt
    (or any freeze), pyproject.toml, uv.lock, poetry.lock, Pipfile, Pipfile.lock.
    A uv, Poetry or Pipenv project is judged per locked package (what the
    buildpack installs), with the lock file's line numbers. Each row is judged for
    the Python Heroku will use (.python-version, else runtime.txt, else
    Pipfile.lock for Pipenv, else 3.14; --python overrides) on Linux x86_64:
      keep    installs there (a curated file keeps lines nothing imports)
      drop    cannot install there (conda-only, Windows/macOS only, a local
              path); in a whole-environment freeze, also unused by the app
      repin   the pin cannot install there (moved to the nearest that can)
      error   the line is invalid, or the app needs it and nothing installs
      add     the app needs it (imports, Procfile) but nothing installs it
    What the app needs comes from every Procfile command and the code on its
    processes' import path, with what those packages require. Indexes come from
    pip's configuration; look-ups are cached on disk (--offline uses the cache
    only).

    \b
    --write updates the manager's own files with its own tool (uv lock, poetry
    lock, pipenv lock at the buildpack's versions) and never adds a second
    manager's file; --to requirements converts on request.

    \b
    Exit codes: 0 clean (or written), 1 problems found, 2 unreadable input,
    3 package index unreachable.

    \b
    Examples:
      homedeploy check-reqs                          # the project in .
      homedeploy check-reqs myapp/uv.lock            # a uv project's locked set
      homedeploy check-reqs myapp --requirements freeze.txt
      homedeploy check-reqs --write                  # fix the project's own files
      homedeploy check-reqs --python 3.12 --json
    """
    with user_errors(as_json):
        from homedeploy.commands.check_reqs import run_check_reqs

        if requirements is not None and path is not None and path.is_dir() and app is None:
            app = path  # `check-reqs APP --requirements FILE`
            path = None

        def run() -> Any:
            return run_check_reqs(
                path,
                requirements=requirements,
                app=app,
                python=python,
                write=write,
                offline=offline,
                to=to,
            )

        if not as_json:
            with console.status("checking requirements against the package index"):
                report = run()
        else:
            report = run()
    if as_json:
        print_json(report)
    else:
        console.render_check_reqs(report, every_line=every_line)
    sys.exit(report.exit_code)


# === doctor ===


@cli.command(
    "doctor",
    context_settings=CONTEXT_SETTINGS,
    short_help="Find every build, boot and repository problem before a push.",
)
@path_argument()
@json_option("Print the report as JSON.")
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
    gunicorn to requirements.txt, and rewrite requirements.txt as check-reqs --write does
    when check-reqs finds lines that fail on Heroku (each change with its reason).

    Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 bad PATH.
    """
    from homedeploy.commands.doctor import doctor

    with user_errors(as_json):
        if as_json:
            report = doctor(path, offline=offline, fix=fix)
        else:
            title = "doctor: checking the project" + ("" if offline else " and the package index")
            with console.status(title):
                report = doctor(path, offline=offline, fix=fix)
    show(report, as_json, console.render_doctor)
    sys.exit(0 if report.ok else 1)


def _ask(question: str) -> bool:
    return click.confirm(question, default=True, err=True)


def _push_local(path: Path, *, keep: bool, as_json: bool, options: Any = None) -> None:
    """``push --local``: the rehearsal. Returns on success; exits 1 (with the reason) on failure."""
    from homedeploy.commands.rehearse import run_rehearsal

    if as_json:
        report = run_rehearsal(path, keep=keep, options=options)
    else:
        with console.steps_status("rehearsing the deploy") as (progress, detail):
            report = run_rehearsal(
                path, keep=keep, progress=progress, detail=detail, options=options
            )
    show(report, as_json, console.render_rehearsal)
    if not report.ok:
        sys.exit(1)


def _push_fix(path: Path, *, yes: bool) -> None:
    """``push --fix`` up to the push: fixes in a clone, shown, asked once, committed there,
    rehearsed; the user's branch moves only after the rehearsal passed."""
    from homedeploy.commands.push_fix import adopt_fix, commit_fix, prepare_fix
    from homedeploy.commands.rehearse import run_rehearsal

    with user_errors():
        with console.status("push --fix: fixing a copy of the committed project") as progress:
            progress("doctor --fix, check-reqs --write")
            plan = prepare_fix(path)
        try:
            if plan.empty:
                console.render_fix_plan(plan)
                return
            console.render_fix_plan(plan)
            if plan.blocking:
                console.render_fix_outcome(plan, "blocked")
                sys.exit(1)
            if not yes:
                if not sys.stdin.isatty():
                    raise click.UsageError(
                        "push --fix would commit the changes above: pass --yes to accept them "
                        "without a terminal."
                    )
                if not click.confirm("Commit these fixes, rehearse, then push?", default=False):
                    console.render_fix_outcome(plan, "declined")
                    sys.exit(1)
            commit_fix(plan)
            with console.steps_status("rehearsing the fixed commit") as (step, detail):
                report = run_rehearsal(plan.clone, progress=step, detail=detail)
            console.render_rehearsal(report)
            if not report.ok:
                console.render_fix_outcome(plan, "rehearsal-failed")
                sys.exit(1)
            with console.status("committing; syncing .venv with the fix") as progress:
                adopt_fix(plan, progress=progress)
            console.render_fix_outcome(plan, "committed")
        finally:
            plan.discard()


# === push ===


@cli.command(
    "push",
    context_settings=CONTEXT_SETTINGS,
    short_help="Deploy to Heroku and prove the release answers.",
)
@path_argument()
@heroku_app_option()
@click.option("--create", is_flag=True, help="Create the app (Heroku picks a name without --app).")
@click.option("--region", type=click.Choice(["us", "eu"]), help="Region for --create.")
@click.option("--no-verify", is_flag=True, help="Push even when doctor finds errors.")
@click.option(
    "--rollback-on-fail",
    is_flag=True,
    help="Roll back to the previous release when the new one does not answer over HTTP.",
)
@click.option("--force", is_flag=True, help="Force-push (replace what Heroku has on main).")
@json_option("Print the report as JSON (no live output).")
@click.option("--local", is_flag=True, help="Rehearse the deploy locally instead (no Heroku).")
@click.option(
    "--keep",
    is_flag=True,
    help="With --local: leave the rehearsed app serving and print its URL and how to stop it.",
)
@click.option(
    "--create-addons",
    is_flag=True,
    help="Create the add-ons app.json declares and the app lacks, without asking.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --local: config vars from this file (default: the project's .env).",
)
@click.option(
    "--env",
    "env_pairs",
    metavar="K=V",
    multiple=True,
    help="With --local: set a config var for the rehearsal (repeatable).",
)
@click.option(
    "--fresh-build",
    is_flag=True,
    help="With --local: build the venv anew even when nothing it installs from changed (like "
    "purging Heroku's build cache).",
)
@click.option(
    "--fresh-addons",
    is_flag=True,
    help="With --local: start the add-on database empty (by default a project's is kept "
    "between rehearsals, as a Heroku add-on outlives releases).",
)
@click.option(
    "--fix",
    is_flag=True,
    help="First deploy in one go: doctor's and check-reqs' fixes as one commit (shown, asked "
    "once), rehearsed, then pushed.",
)
@click.option("--yes", "-y", is_flag=True, help="With --fix: do not ask.")
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
    create_addons: bool,
    env_file: Path | None,
    env_pairs: tuple[str, ...],
    fresh_build: bool,
    fresh_addons: bool,
    fix: bool,
    yes: bool,
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
        from homedeploy.commands.rehearse import RehearsalOptions

        rehearsal = RehearsalOptions(
            env_file=env_file,
            env=list(env_pairs),
            heroku_app=app,
            fresh_build=fresh_build,
            fresh_addons=fresh_addons,
        )
        with user_errors(as_json):
            _push_local(path, keep=keep, as_json=as_json, options=rehearsal)
        return
    if env_file or env_pairs or fresh_build or fresh_addons:
        raise click.UsageError("--env, --env-file and --fresh-* go with --local.")
    if keep:
        raise click.UsageError("--keep goes with --local.")
    if fix:
        if as_json:
            raise click.UsageError("--fix shows a diff and asks: it does not go with --json.")
        _push_fix(path, yes=yes)
    elif yes:
        raise click.UsageError("--yes goes with --fix.")
    from homedeploy.commands.push import PushOptions, run_push

    options = PushOptions(
        app=app,
        create=create,
        region=region,
        no_verify=no_verify,
        rollback_on_fail=rollback_on_fail,
        force=force,
        create_addons=create_addons,
        ask=None if as_json or not sys.stdin.isatty() else _ask,
    )
    with user_errors(as_json):
        report = run_push(path, options, on_event=None if as_json else console.render_push_event)
    show(report, as_json, console.render_push)
    sys.exit(0 if report.ok else 1)


# === heroku management: apps, logs, config, scale, releases, rollback ===


@cli.command(
    "apps",
    context_settings=CONTEXT_SETTINGS,
    short_help="List your Heroku apps.",
)
@json_option("Print the apps as JSON.")
def apps_command(as_json: bool) -> None:
    """List the Heroku apps this account owns or collaborates on."""
    from homedeploy.commands.apps import list_apps

    with user_errors(as_json):
        report = list_apps()
    show(report, as_json, console.render_apps)


@cli.command(
    "logs",
    context_settings=CONTEXT_SETTINGS,
    short_help="Show or --tail the app's logs.",
)
@heroku_app_option()
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
@heroku_app_option()
@click.option("--reveal", is_flag=True, help="Show the values (they are masked by default).")
@json_option("Print as JSON (values masked unless --reveal).")
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
    show(report, as_json, console.render_config)


@config_group.command("push", context_settings=CONTEXT_SETTINGS)
@click.argument(
    "env_file",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@heroku_app_option()
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
    from homedeploy.commands.config import apply_config_push, plan_config_push

    app = app or (ctx.obj or {}).get("app")
    with user_errors():
        plan = plan_config_push(Path.cwd(), app, env_file)
        console.render_config_plan(plan, reveal=reveal)
        if not plan.changes:
            return
        if not yes and not click.confirm(
            f"Set {len(plan.changes)} config var(s) and restart {plan.app}?", default=False
        ):
            console.render_nothing_changed()
            sys.exit(1)
        result = apply_config_push(Path.cwd(), plan)
    console.render_config_push(result)


@cli.command(
    "scale",
    context_settings=CONTEXT_SETTINGS,
    short_help="Set dyno counts and sizes, e.g. web=1:basic.",
)
@click.argument("changes", nargs=-1, metavar="[TYPE=COUNT[:SIZE]]...")
@heroku_app_option()
@json_option("Print the formation as JSON.")
def scale_command(changes: tuple[str, ...], app: str | None, as_json: bool) -> None:
    """Set how many dynos run per process type, e.g. `scale web=1` or `web=2:standard-1x`.

    Without arguments, shows the current formation.
    """
    from homedeploy.commands.scale import scale

    with user_errors(as_json):
        report = scale(Path.cwd(), app, list(changes))
    show(report, as_json, console.render_scale)


@cli.command(
    "releases",
    context_settings=CONTEXT_SETTINGS,
    short_help="List the app's releases.",
)
@heroku_app_option()
@click.option("--num", "-n", type=click.IntRange(1, 1000), default=15, show_default=True)
@json_option("Print the releases as JSON.")
def releases_command(app: str | None, num: int, as_json: bool) -> None:
    """List the app's newest releases (deploys, config changes, rollbacks)."""
    from homedeploy.commands.releases import list_releases

    with user_errors(as_json):
        report = list_releases(Path.cwd(), app, limit=num)
    show(report, as_json, console.render_releases)


@cli.command(
    "rollback",
    context_settings=CONTEXT_SETTINGS,
    short_help="Make an earlier release current again.",
)
@click.argument("version", required=False, metavar="[vN]")
@heroku_app_option()
@json_option()
def rollback_command(version: str | None, app: str | None, as_json: bool) -> None:
    """Make an earlier release current again (default: the one before the current).

    Creates a new release with that release's code and config vars (add-ons are not
    touched). Undo by rolling back to the version before the new one.
    """
    from homedeploy.commands.rollback import rollback

    with user_errors(as_json):
        report = rollback(Path.cwd(), app, version)
    show(report, as_json, console.render_rollback)


# === heroku day-to-day: config set/unset/get, ps, restart, maintenance, run, addons, open ===


def _group_app(ctx: click.Context, app: str | None) -> str | None:
    """The subcommand's -a/--app, else the one given to the group (`config -a NAME set ...`)."""
    return app or (ctx.obj or {}).get("app")


@config_group.command("set", context_settings=CONTEXT_SETTINGS)
@click.argument("assignments", nargs=-1, metavar="KEY=VALUE...")
@heroku_app_option()
@click.option("--reveal", is_flag=True, help="Show the values set (masked by default).")
@click.pass_context
def config_set_command(
    ctx: click.Context, assignments: tuple[str, ...], app: str | None, reveal: bool
) -> None:
    """Set config vars: every KEY=VALUE in one change (one new release, one restart)."""
    from homedeploy.commands.config import set_config

    with user_errors():
        result = set_config(Path.cwd(), _group_app(ctx, app), assignments, reveal=reveal)
    console.render_config_set(result)


@config_group.command("unset", context_settings=CONTEXT_SETTINGS)
@click.argument("keys", nargs=-1, metavar="KEY...")
@heroku_app_option()
@click.pass_context
def config_unset_command(ctx: click.Context, keys: tuple[str, ...], app: str | None) -> None:
    """Remove config vars, all in one change (one new release, one restart)."""
    from homedeploy.commands.config import unset_config

    with user_errors():
        result = unset_config(Path.cwd(), _group_app(ctx, app), keys)
    console.render_config_unset(result)


@config_group.command("get", context_settings=CONTEXT_SETTINGS)
@click.argument("key")
@heroku_app_option()
@click.option("--reveal", is_flag=True, help="Print the value itself (masked by default).")
@click.pass_context
def config_get_command(ctx: click.Context, key: str, app: str | None, reveal: bool) -> None:
    """Print one config var (masked unless --reveal); exit 1 when it is not set."""
    from homedeploy.commands.config import get_config

    with user_errors():
        value = get_config(Path.cwd(), _group_app(ctx, app), key, reveal=reveal)
    if value.value is None:
        console.render_config_unset_value(value)
        sys.exit(1)
    click.echo(value.value)


@cli.command("ps", context_settings=CONTEXT_SETTINGS, short_help="List the app's dynos.")
@heroku_app_option()
@json_option("Print the dynos as JSON.")
def ps_command(app: str | None, as_json: bool) -> None:
    """List the app's dynos: name, size, state, since when, and command."""
    from homedeploy.commands.ps import list_dynos

    with user_errors(as_json):
        report = list_dynos(Path.cwd(), app)
    show(report, as_json, console.render_ps)


@cli.command("restart", context_settings=CONTEXT_SETTINGS, short_help="Restart dynos.")
@click.argument("which", required=False, metavar="[web|web.1]")
@heroku_app_option()
def restart_command(which: str | None, app: str | None) -> None:
    """Restart every dyno, those of one process type (web), or one dyno (web.1)."""
    from homedeploy.commands.ps import restart

    with user_errors():
        report = restart(Path.cwd(), app, which)
    console.render_restart(report)


@cli.command(
    "maintenance", context_settings=CONTEXT_SETTINGS, short_help="Show or set maintenance mode."
)
@click.argument("switch", required=False, type=click.Choice(["on", "off"]))
@heroku_app_option()
def maintenance_command(switch: str | None, app: str | None) -> None:
    """Show maintenance mode, or turn it on (visitors get Heroku's maintenance page) or off."""
    from homedeploy.commands.ps import maintenance

    with user_errors():
        report = maintenance(Path.cwd(), app, switch)
    console.render_maintenance(report, asked=switch is not None)


@cli.command(
    "run",
    context_settings={
        **CONTEXT_SETTINGS,
        "ignore_unknown_options": True,
        "allow_interspersed_args": False,
    },
    short_help="Run a command in a one-off dyno.",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="CMD...")
@heroku_app_option()
@click.option("--detach", "-d", is_flag=True, help="Run in the background; output goes to logs.")
@click.option("--size", "-s", metavar="SIZE", help="Dyno size (e.g. standard-2x).")
@click.option("--env", "-e", "env", multiple=True, metavar="KEY=VALUE", help="Extra variables.")
def run_command(
    command: tuple[str, ...], app: str | None, detach: bool, size: str | None, env: tuple[str, ...]
) -> None:
    """Run CMD in a one-off dyno with the app's code and config vars, e.g. `run bash`.

    Attached (the default), your terminal is the dyno's: stdin, stdout, and its exit code
    is homedeploy's. Options go before CMD (or after `--`).
    """
    import os

    from homedeploy.commands.run import attach_run, parse_env, start_run

    with user_errors():
        extra = parse_env(env)
        size_now = os.get_terminal_size() if sys.stdout.isatty() else None
        started = start_run(
            Path.cwd(),
            app,
            command,
            detach=detach,
            size=size,
            env=extra,
            terminal_size=(size_now.columns, size_now.lines) if size_now else None,
            tty=sys.stdin.isatty(),
        )
        console.render_run_starting(started)
        if detach:
            return

        def write(data: bytes) -> None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()

        code = _attach_terminal(started, attach_run, write, lambda: console.render_run_up(started))
    sys.exit(1 if code is None else code)


def _attach_terminal(
    started: RunStarted,
    attach_run: Callable[..., int | None],
    write: Callable[[bytes], None],
    attached: Callable[[], None],
) -> int | None:
    """Attach with stdin in raw mode when it is a terminal (keys go to the dyno as typed)."""
    try:
        fd: int | None = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is None or not sys.stdin.isatty():
        return attach_run(started, stdin_fd=fd, write=write, on_attached=attached)
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)  # the dyno has a terminal too: it echoes and ends lines with \r\n
        return attach_run(started, stdin_fd=fd, write=write, on_attached=attached)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@cli.group(
    "addons",
    context_settings=CONTEXT_SETTINGS,
    invoke_without_command=True,
    short_help="List, create and destroy add-ons.",
)
@heroku_app_option()
@json_option("Print the add-ons as JSON.")
@click.pass_context
def addons_group(ctx: click.Context, app: str | None, as_json: bool) -> None:
    """The app's add-ons with plan and state; `addons create PLAN`, `addons destroy NAME`."""
    ctx.obj = {"app": app}
    if ctx.invoked_subcommand is not None:
        return
    from homedeploy.commands.addons import list_addons

    with user_errors(as_json):
        report = list_addons(Path.cwd(), app)
    show(report, as_json, console.render_addons)


@addons_group.command("create", context_settings=CONTEXT_SETTINGS)
@click.argument("plan", metavar="SERVICE[:PLAN]")
@click.option("--as", "attachment", metavar="NAME", help="Config var prefix (NAME_URL).")
@heroku_app_option()
@click.option("--no-wait", is_flag=True, help="Return while it is still provisioning.")
@json_option("Print the add-on as JSON.")
@click.pass_context
def addons_create_command(
    ctx: click.Context,
    plan: str,
    attachment: str | None,
    app: str | None,
    no_wait: bool,
    as_json: bool,
) -> None:
    """Provision an add-on, e.g. heroku-postgresql:essential-0, and wait until it is ready."""
    from homedeploy.commands.addons import create_addon

    with user_errors(as_json):
        if as_json:
            result = create_addon(
                Path.cwd(), _group_app(ctx, app), plan, attachment=attachment, wait=not no_wait
            )
        else:
            with console.status(f"creating {plan}") as progress:
                result = create_addon(
                    Path.cwd(),
                    _group_app(ctx, app),
                    plan,
                    attachment=attachment,
                    wait=not no_wait,
                    progress=progress,
                )
    if as_json:
        print_json(result)
    else:
        console.render_addon_created(result, plan)
    sys.exit(0 if result.provisioned or no_wait else 1)


@addons_group.command("destroy", context_settings=CONTEXT_SETTINGS)
@click.argument("name")
@heroku_app_option()
@click.option("--confirm", metavar="APP", help="The app's name, to confirm deleting the data.")
@click.pass_context
def addons_destroy_command(
    ctx: click.Context, name: str, app: str | None, confirm: str | None
) -> None:
    """Destroy the add-on NAME and its data; --confirm APP (or typing it) is required."""
    from homedeploy.commands.addons import destroy_addon

    if confirm is None:
        if not sys.stdin.isatty():
            raise click.UsageError(f"destroying {name} deletes its data: pass --confirm APP.")
        confirm = click.prompt(f"This deletes {name} and its data. Type the app's name to confirm")
    with user_errors():
        result = destroy_addon(Path.cwd(), _group_app(ctx, app), name, confirm or "")
    console.render_addon_destroyed(result)


@cli.command("open", context_settings=CONTEXT_SETTINGS, short_help="Open the app in a browser.")
@click.argument("url_path", required=False, metavar="[PATH]")
@heroku_app_option()
def open_command(url_path: str | None, app: str | None) -> None:
    """Open the app's web URL (plus PATH) in the browser; prints it when there is none."""
    from homedeploy.commands.open_app import open_app

    with user_errors():
        report = open_app(Path.cwd(), app, url_path)
    click.echo(f"Opening {report.url}" if report.opened else report.url)


@cli.command(
    "completion", context_settings=CONTEXT_SETTINGS, short_help="Print a shell completion script."
)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_command(shell: str) -> None:
    """Print the completion script for SHELL (commands, options, remotes, app names).

    \b
    bash:  eval "$(homedeploy completion bash)"   (in ~/.bashrc)
    zsh:   eval "$(homedeploy completion zsh)"    (in ~/.zshrc)
    fish:  homedeploy completion fish > ~/.config/fish/completions/homedeploy.fish
    """
    from click.shell_completion import get_completion_class

    completion_class = get_completion_class(shell)
    assert completion_class is not None
    click.echo(completion_class(cli, {}, "homedeploy", "_HOMEDEPLOY_COMPLETE").source())


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="homedeploy")
