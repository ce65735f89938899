"""Boot-stage rules: why a dyno built from this project would not serve (H10, H14, R10...).

Heroku starts the Procfile's ``web`` command with ``$PORT`` set and gives it 60 seconds to bind.
Everything that goes wrong there is visible in the files: no Procfile or no ``web:`` line (H14),
a gunicorn target that does not exist (H10), Flask's dev server or a hard-coded port (R10),
gunicorn or Flask missing from the requirements (H10), a dev server started at import, and the
Werkzeug debugger left on. The checks read the source; nothing is imported here (doctor imports
the app only in the project's own venv, see ``homedeploy.doctor.import_check``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from homedeploy.doctor.codes import Severity
from homedeploy.doctor.findings import Finding, finding
from homedeploy.doctor.rules import Rule, source_state
from homedeploy.doctor.snapshot import ProjectSnapshot
from homedeploy.fileio import read_bytes
from homedeploy.project.procfile import GunicornCommand, ProcessLine, command_words, parse_gunicorn

ENV_ASSIGNMENT_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
TRUTHY = frozenset({"1", "true", "yes", "on"})
PORT_RE = re.compile(r"\$\{?PORT\}?")


_boot = finding  # a finding's stage comes from its code's entry in doctor/codes.py


class _Where(TypedDict):
    path: str
    line: int
    heroku: str


@dataclass(frozen=True)
class WebCommand:
    """The Procfile's web line split into leading VAR=value assignments and the program words."""

    process: ProcessLine
    env: dict[str, str]
    words: list[str]
    gunicorn: GunicornCommand | None

    @property
    def program(self) -> str:
        return Path(self.words[0]).name if self.words else ""


def web_command(project: ProjectSnapshot) -> WebCommand | None:
    """The parsed ``web:`` command, or None without a Procfile or a web line."""
    procfile = project.procfile
    if procfile is None or procfile.web is None:
        return None
    words = command_words(procfile.web.command)
    env: dict[str, str] = {}
    while words and ENV_ASSIGNMENT_RE.match(words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    if words and words[0] == "exec":
        words = words[1:]
    return WebCommand(procfile.web, env, words, parse_gunicorn(procfile.web.command))


def suggested_target(project: ProjectSnapshot, module: str | None = None) -> str | None:
    """The gunicorn target for the app discovery found (preferring one in ``module``)."""
    candidates = [c for c in project.discovery.distinct if not c.factory_args_required]
    if not candidates:
        return None
    same_module = [c for c in candidates if c.module == module]
    best = same_module[0] if same_module else candidates[0]
    if not same_module and module is not None:
        # gunicorn can import the re-export in the Procfile's own module (wsgi.py's `app`).
        reexports = [c for c in project.discovery.candidates if c.module == module]
        if reexports:
            best = reexports[0]
    target = shell_word(best.target)
    if best.pythonpath != ".":
        return f"--chdir {best.pythonpath} {target}"
    return target


def shell_word(word: str) -> str:
    """``word`` quoted when bash would not read it as one word (``app:create_app()``)."""
    import shlex

    return shlex.quote(word)


def _suggest_web_line(project: ProjectSnapshot, module: str | None = None) -> str:
    target = suggested_target(project, module)
    return f"web: gunicorn {target}" if target else "web: gunicorn <module>:<app>"


def procfile_present(project: ProjectSnapshot) -> list[Finding]:
    """A file named exactly ``Procfile`` at the root; otherwise Heroku runs no web process."""
    if project.procfile is not None:
        return []
    line = _suggest_web_line(project)
    misnamed = sorted(
        name
        for name in project.names
        if name != "Procfile"
        and name.lower().rstrip(". ").split(".")[0] == "procfile"
        and (project.root / name).is_file()
    )
    if misnamed:
        return [
            _boot(
                "procfile-misnamed",
                "error",
                f"The process file is named {misnamed[0]!r}; Heroku reads only 'Procfile' "
                "(capital P, no extension).",
                path=misnamed[0],
                heroku="H14 (No web processes running)",
                fix=f"rename {misnamed[0]} to Procfile (doctor --fix does it).",
            )
        ]
    nested = sorted(
        str(path.relative_to(project.root))
        for path in project.root.glob("*/Procfile")
        if path.is_file() and not path.parent.name.startswith(".")
    )
    if nested:
        return [
            _boot(
                "procfile-not-at-root",
                "error",
                f"The Procfile is at {nested[0]}, not at the root where Heroku looks for it.",
                path=nested[0],
                heroku="H14 (No web processes running)",
                fix=f"move it to the root and adjust the command (e.g. `{line}`).",
            )
        ]
    automatic = " (doctor --fix does it)" if suggested_target(project) else ""
    return [
        _boot(
            "procfile-missing",
            "error",
            "No Procfile: the Python buildpack declares no process types, so no web dyno runs.",
            heroku="H14 (No web processes running)",
            fix=f"create a Procfile containing `{line}`{automatic}.",
        )
    ]


def procfile_web(project: ProjectSnapshot) -> list[Finding]:
    """The Procfile parses and declares ``web`` (lower case; no byte-order mark before it)."""
    procfile = project.procfile
    if procfile is None:
        return []
    findings: list[Finding] = []
    try:
        has_bom = read_bytes(project.root / "Procfile").startswith(b"\xef\xbb\xbf")
    except OSError:
        has_bom = False
    first = min(procfile.processes.values(), key=lambda p: p.line, default=None)
    if has_bom and first is not None:
        findings.append(
            _boot(
                "procfile-bom",
                "error",
                "The Procfile starts with a UTF-8 byte-order mark, so Heroku reads its first "
                f"process type as '\\ufeff{first.name}'.",
                path="Procfile",
                line=first.line,
                heroku="H14 (No web processes running)" if first.name == "web" else None,
                fix="save the Procfile as UTF-8 without BOM (doctor --fix does it).",
            )
        )
    for number, text in procfile.invalid_lines:
        findings.append(
            _boot(
                "procfile-invalid-line",
                "warning",
                f"{text.strip()!r} is not a `type: command` line; Heroku ignores it.",
                path="Procfile",
                line=number,
                fix="write each process as `name: command`, e.g. `web: gunicorn app:app`.",
            )
        )
    if procfile.web is None:
        wrong_case = [p for p in procfile.processes.values() if p.name.lower() == "web"]
        if wrong_case:
            findings.append(
                _boot(
                    "procfile-web-case",
                    "error",
                    f"The process type is {wrong_case[0].name!r}; Heroku routes HTTP only to "
                    "'web' (lower case).",
                    path="Procfile",
                    line=wrong_case[0].line,
                    heroku="H14 (No web processes running)",
                    fix=f"rename it to `web:`: {_suggest_web_line(project)}",
                )
            )
        else:
            declared = ", ".join(procfile.processes) or "none"
            findings.append(
                _boot(
                    "procfile-no-web",
                    "error",
                    f"The Procfile declares no web process (types: {declared}).",
                    path="Procfile",
                    heroku="H14 (No web processes running)",
                    fix=f"add the line `{_suggest_web_line(project)}`.",
                )
            )
    return findings


def _script_serves_port(project: ProjectSnapshot, script: str) -> bool:
    text = project.read_text(script) or ""
    return "PORT" in text and "0.0.0.0" in text


def procfile_shell_syntax(project: ProjectSnapshot) -> list[Finding]:
    """The dyno runs the web command with bash; a line bash cannot parse never starts."""
    import shutil
    import subprocess

    procfile = project.procfile
    bash = shutil.which("bash")
    if procfile is None or procfile.web is None or bash is None:
        return []
    try:
        checked = subprocess.run(
            [bash, "-n", "-c", procfile.web.command], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if checked.returncode == 0:
        return []
    detail = checked.stderr.strip().splitlines()[0] if checked.stderr.strip() else "syntax error"
    return [
        _boot(
            "procfile-shell-syntax",
            "error",
            f"bash cannot parse the web command: {detail.removeprefix('bash: -c: ')}.",
            path="Procfile",
            line=procfile.web.line,
            heroku="H10 (App crashed)",
            fix="quote the part with parentheses or special characters, e.g. "
            "`web: gunicorn 'app:create_app()'`.",
        )
    ]


def dev_server(project: ProjectSnapshot) -> list[Finding]:
    """``web: python app.py`` / ``flask run``: Flask's dev server, usually on 5000, not $PORT."""
    web = web_command(project)
    if web is None or web.gunicorn is not None or not web.words:
        return []
    words = web.words
    program = web.program
    line = web.process.line
    better = _suggest_web_line(project)
    is_flask_run = (program == "flask" and "run" in words) or (
        program.startswith("python") and words[1:3] == ["-m", "flask"]
    )
    script = next((w for w in words[1:] if w.endswith(".py")), None)
    if is_flask_run:
        binds = any(PORT_RE.search(w) for w in words) and "0.0.0.0" in " ".join(words)
        return [
            _boot(
                "procfile-dev-server",
                "warning" if binds else "error",
                "The web process runs Flask's development server (`flask run`)"
                + (
                    "; it binds $PORT but is not made for production traffic."
                    if binds
                    else " on 127.0.0.1:5000, not on $PORT."
                ),
                path="Procfile",
                line=line,
                heroku=None if binds else "R10 (Boot timeout)",
                fix=f"serve it with gunicorn: `{better}`.",
            )
        ]
    if program.startswith("python") and script:
        binds = _script_serves_port(project, script)
        return [
            _boot(
                "procfile-dev-server",
                "warning" if binds else "error",
                f"The web process runs `{' '.join(words)}`: Flask's development server"
                + (
                    ", which is not made for production traffic."
                    if binds
                    else f", which does not bind $PORT on 0.0.0.0 ({script} has no "
                    "os.environ['PORT'] and host 0.0.0.0)."
                ),
                path="Procfile",
                line=line,
                heroku=None if binds else "R10 (Boot timeout)",
                fix=f"serve it with gunicorn: `{better}`.",
            )
        ]
    if not any(PORT_RE.search(w) for w in words) and program not in ("gunicorn",):
        return [
            _boot(
                "procfile-port-unknown",
                "warning",
                f"`{program}` is given no $PORT; the web process must listen on $PORT within "
                "60 seconds.",
                path="Procfile",
                line=line,
                heroku="R10 (Boot timeout)",
                fix=f"pass $PORT to it, or use `{better}`.",
            )
        ]
    return []


def module_search_dirs(project: ProjectSnapshot, command: GunicornCommand) -> list[Path]:
    base = project.root / command.chdir if command.chdir else project.root
    dirs = [base, *[(base / p) for p in command.pythonpath if p], project.root]
    return list(dict.fromkeys(dirs))


def gunicorn_target(project: ProjectSnapshot) -> list[Finding]:
    """The ``module:variable`` gunicorn imports exists and names the app (or calls a factory)."""
    import ast

    from homedeploy.project.app_source import module_facts, module_file

    web = web_command(project)
    if web is None or web.gunicorn is None:
        return []
    command = web.gunicorn
    line = web.process.line
    where = _Where(path="Procfile", line=line, heroku="H10 (App crashed)")
    target = command.target
    if not target:
        if command.config or project.is_file("gunicorn.conf.py"):
            return []  # the app may be named by wsgi_app in the config file
        return [
            _boot(
                "procfile-no-target",
                "error",
                "gunicorn is given no application (`No application module specified.`).",
                fix=f"name it: `{_suggest_web_line(project)}`.",
                **where,
            )
        ]
    if target.endswith(".py") and ":" not in target:
        module = target[:-3].replace("/", ".")
        return [
            _boot(
                "procfile-target-file",
                "error",
                f"gunicorn is given the file {target!r}; it needs `module:variable` "
                "(it fails with: Failed to find application, did you mean "
                f"'{module}:application'?).",
                fix=f"use `{_suggest_web_line(project, module)}` (doctor --fix does it).",
                **where,
            )
        ]
    module, variable = command.module or "", command.variable
    search = module_search_dirs(project, command)
    path = module_file(search, module)
    if path is None:
        top = module.split(".")[0].lower().replace("_", "-")
        if project.declared_names and top in project.declared_names:
            return []  # an installed distribution provides it
        nested = module_file([project.root / "src"], module)
        hint = (
            " It exists under src/: add `--chdir src`."
            if nested
            else f" Point it at your app: `{_suggest_web_line(project)}`."
        )
        return [
            _boot(
                "procfile-module-missing",
                "error",
                f"gunicorn would import {module!r}, but no {module.replace('.', '/')}.py exists "
                f"where it looks (ModuleNotFoundError: No module named {module!r}).",
                fix=hint.strip(),
                **where,
            )
        ]
    try:
        expression = ast.parse(variable, mode="eval").body
    except SyntaxError:
        expression = None
    if isinstance(expression, ast.Call) and isinstance(expression.func, ast.Name):
        name, called = expression.func.id, True
    elif isinstance(expression, ast.Name):
        name, called = expression.id, False
    else:
        return [
            _boot(
                "procfile-target-invalid",
                "error",
                f"gunicorn cannot parse {variable!r} as an attribute name or function call.",
                fix=f"use `{_suggest_web_line(project, module)}`.",
                **where,
            )
        ]
    facts = module_facts(path)
    rel = path.relative_to(project.root).as_posix()
    if facts.parse_error:
        return [
            _boot(
                "app-syntax-error",
                "error",
                f"{rel} cannot be imported: {facts.parse_error}.",
                path=rel,
                line=facts.parse_error_line,
                heroku="H10 (App crashed)",
                fix="fix the syntax error.",
            )
        ]
    if name not in facts.names and not facts.star_import:
        better = _suggest_web_line(project, module)
        return [
            _boot(
                "procfile-attr-missing",
                "error",
                f"{rel} has no {name!r} (gunicorn: Failed to find attribute {name!r} in "
                f"{module!r}).",
                fix=f"point the Procfile at the real object: `{better}` (doctor --fix does it).",
                **where,
            )
        ]
    kinds = {
        c.attr: c
        for c in project.discovery.candidates
        if c.module == module and c.path == rel and not c.reexport_of
    }
    candidate = kinds.get(name)
    if candidate is not None and candidate.kind == "factory" and not called:
        return [
            _boot(
                "procfile-factory-not-called",
                "error",
                f"{name!r} in {rel} is an app factory; gunicorn would serve the function itself "
                "and every request would fail with a TypeError (HTTP 500).",
                fix=f"call it: `web: gunicorn {shell_word(f'{module}:{name}()')}` (doctor --fix "
                "does it).",
                path="Procfile",
                line=line,
            )
        ]
    if candidate is not None and candidate.kind == "object" and called:
        return [
            _boot(
                "procfile-object-called",
                "error",
                f"{name!r} in {rel} is a Flask object, not a factory; gunicorn would call "
                f"{name}() at boot and fail.",
                fix=f"drop the parentheses: `web: gunicorn {module}:{name}`.",
                **where,
            )
        ]
    if candidate is not None and candidate.factory_args_required:
        return [
            _boot(
                "procfile-factory-arguments",
                "error",
                f"The factory {name!r} in {rel} needs arguments gunicorn does not pass.",
                fix=f"give its parameters defaults, or pass literals: `{module}:{name}(...)`.",
                **where,
            )
        ]
    return []


def gunicorn_bind(project: ProjectSnapshot) -> list[Finding]:
    """A bind must be $PORT on all interfaces; a fixed port or localhost means R10."""
    web = web_command(project)
    if web is None or web.gunicorn is None:
        return []
    findings: list[Finding] = []
    binds = [(b, "Procfile", web.process.line) for b in web.gunicorn.bind]
    config_name = web.gunicorn.config or (
        "gunicorn.conf.py" if project.is_file("gunicorn.conf.py") else None
    )
    if config_name and not config_name.startswith("python:"):
        text = project.read_text(config_name)
        if text is None:
            findings.append(
                _boot(
                    "gunicorn-config-missing",
                    "error",
                    f"gunicorn is told to read {config_name}, which does not exist.",
                    path="Procfile",
                    line=web.process.line,
                    heroku="H10 (App crashed)",
                    fix="commit the config file or drop the -c option.",
                )
            )
        else:
            for number, row in enumerate(text.splitlines(), start=1):
                match = re.match(r"^\s*bind\s*=\s*(.+)$", row)
                if match:
                    binds.append((match.group(1).strip(" []'\""), config_name, number))
    for value, where, number in binds:
        if "PORT" in value:
            host = value.rsplit(":", 1)[0] if ":" in value else ""
            if host.strip("'\"") in ("127.0.0.1", "localhost"):
                findings.append(
                    _boot(
                        "bind-localhost",
                        "error",
                        f"gunicorn binds {value!r}: only this dyno itself could connect; the "
                        "router needs 0.0.0.0.",
                        path=where,
                        line=number,
                        heroku="R10 (Boot timeout)",
                        fix="bind 0.0.0.0:$PORT, or drop -b (gunicorn binds $PORT by itself).",
                    )
                )
            continue
        if re.search(r":\d+\b", value) or value.isdigit():
            findings.append(
                _boot(
                    "hardcoded-port",
                    "error",
                    f"gunicorn binds the fixed address {value!r}; Heroku assigns the port in "
                    "$PORT and waits 60 s for it.",
                    path=where,
                    line=number,
                    heroku="R10 (Boot timeout)",
                    fix="drop the bind (gunicorn binds 0.0.0.0:$PORT when PORT is set) or use "
                    "`-b 0.0.0.0:$PORT`.",
                )
            )
    return findings


def server_installed(project: ProjectSnapshot) -> list[Finding]:
    """gunicorn (named in the Procfile) and Flask (imported by the app) must be installed."""
    declared = project.declared_names
    if declared is not None and project.local_venv is not None:
        from homedeploy.requirements.declared import installed_closure

        known = installed_closure(project.local_venv, declared)
        declared = known[0] if known is not None else declared
    if declared is None:
        return []
    findings: list[Finding] = []
    web = web_command(project)
    manifest = project.package_managers[0][0] if project.package_managers else "requirements.txt"
    if web is not None and web.gunicorn is not None and "gunicorn" not in declared:
        tool_fix = (
            "add `gunicorn` to requirements.txt (doctor --fix does it)."
            if project.package_manager == "pip"
            else f"add gunicorn to your dependencies and re-lock ({manifest})."
        )
        findings.append(
            _boot(
                "gunicorn-not-installed",
                "error",
                f"The Procfile runs gunicorn, but {manifest} does not install it "
                "(bash: gunicorn: command not found).",
                path=manifest,
                heroku="H10 (App crashed)",
                fix=tool_fix,
            )
        )
    if project.discovery.candidates and "flask" not in declared:
        first = project.discovery.candidates[0]
        findings.append(
            _boot(
                "flask-not-installed",
                "error",
                f"{first.path} imports Flask, but {manifest} does not install it "
                "(ModuleNotFoundError: No module named 'flask').",
                path=manifest,
                heroku="H10 (App crashed)",
                fix=f"add Flask to {manifest}.",
            )
        )
    return findings


def imports_installed(project: ProjectSnapshot) -> list[Finding]:
    """Every package the code imports must be installed by the build (else ModuleNotFoundError).

    The same rules as check-reqs: only code on a process's import path counts (tests,
    migrations, docs and scripts never do); what the declared packages install along
    (Flask under Flask-WTF) comes from the project's venv when there is one. A module-level
    import nothing installs is an error when the venv shows the whole installed set, else a
    warning (a dependency may still install it); an import inside a function is a warning.
    """
    declared = project.declared_names
    if declared is None:
        return []
    from packaging.utils import canonicalize_name

    from homedeploy.requirements.app_needs import CERTAIN, OPTIONAL, app_needs
    from homedeploy.requirements.declared import installed_closure

    venv = project.local_venv
    known = installed_closure(venv, declared) if venv is not None else None
    installed, provided = known if known is not None else (declared, set())
    manifest = project.package_managers[0][0]
    findings: list[Finding] = []
    for need in app_needs(project.root):
        key = str(canonicalize_name(need.dist))
        names = {key, *(str(canonicalize_name(a)) for a in need.alternatives)}
        top = (need.import_name or "").split(".")[0]
        if need.certainty == OPTIONAL or names & installed or (top and top in provided):
            continue
        if key in ("flask", "gunicorn") or need.from_process:
            continue  # flask and gunicorn have their own rule
        severity: Severity
        if need.certainty == CERTAIN and known is not None:
            severity, hedge = "error", ""
        elif need.certainty == CERTAIN:
            severity, hedge = "warning", " unless one of its packages installs it"
        else:
            severity, hedge = "warning", " when that code runs"
        path, _, number = need.source.partition(":")
        what = need.import_name or need.dist
        findings.append(
            _boot(
                "import-not-installed",
                severity,
                f"{need.source} imports {what}, but {manifest} does not install {need.dist} "
                f"(on the dyno: ModuleNotFoundError{hedge}).",
                path=path,
                line=int(number) if number.isdigit() else None,
                heroku="H10 (App crashed)",
                fix=f"add {need.dist} to {manifest} (`homedeploy check-reqs --app .` lists what "
                "the code needs).",
            )
        )
    return findings


def _dotenv_debug(project: ProjectSnapshot) -> tuple[int, str] | None:
    if ".env" not in project.names:
        return None
    from homedeploy.errors import ProjectError
    from homedeploy.project.dotenv_file import read_dotenv

    try:
        values = read_dotenv(project.root / ".env").values
    except ProjectError:
        return None  # unreadable: nothing deploys FLASK_DEBUG from it
    for key in ("FLASK_DEBUG",):
        value = (values.get(key) or "").strip().lower()
        if value in TRUTHY:
            text = project.read_text(".env") or ""
            number = next(
                (n for n, row in enumerate(text.splitlines(), 1) if row.strip().startswith(key)),
                None,
            )
            return (number or 0), key
    return None


def debug_mode(project: ProjectSnapshot) -> list[Finding]:
    """The Werkzeug debugger on a public dyno, and dev servers started when gunicorn imports."""
    from homedeploy.project.app_source import module_facts

    findings: list[Finding] = []
    web = web_command(project)
    dev_server_script: str | None = None
    runs_dev_server = False
    if web is not None and web.gunicorn is None and web.words:
        program = web.program
        runs_dev_server = program == "flask" or (
            program.startswith("python")
            and ("flask" in web.words or any(w.endswith(".py") for w in web.words))
        )
        dev_server_script = next((w for w in web.words[1:] if w.endswith(".py")), None)
    procfile_debug = web is not None and (
        web.env.get("FLASK_DEBUG", "").lower() in TRUTHY or "--debug" in web.words
    )
    dotenv = _dotenv_debug(project)
    dotenv_deployed = dotenv is not None and source_state(project, ".env") in (
        "committed",
        "staged",
    )
    app_files = sorted({c.path for c in project.discovery.candidates})
    if dev_server_script and dev_server_script not in app_files:
        app_files.append(dev_server_script)
    debug_in_code: list[tuple[str, int]] = []
    for rel in app_files:
        facts = module_facts(project.root / rel)
        for call in facts.run_calls:
            reached = not call.guarded or (runs_dev_server and rel == dev_server_script)
            if not reached:
                continue
            if call.debug and runs_dev_server:
                debug_in_code.append((rel, call.line))
            elif not call.guarded and web is not None and web.gunicorn is not None:
                findings.append(
                    _boot(
                        "app-run-at-import",
                        "error",
                        "This starts Flask's dev server when the module is imported, "
                        "so gunicorn's worker never finishes loading the app"
                        + (" (and the Werkzeug debugger is on)" if call.debug else "")
                        + ".",
                        path=rel,
                        line=call.line,
                        heroku="H12 (Request timeout) / H13 (Connection closed)",
                        fix='move it under `if __name__ == "__main__":`.',
                    )
                )
        if web is not None and web.gunicorn is not None:
            for number in facts.debug_settings:
                findings.append(
                    _boot(
                        "flask-debug-config",
                        "warning",
                        f"{rel}:{number} turns Flask's debug mode on in production code.",
                        path=rel,
                        line=number,
                        fix="read it from the environment (FLASK_DEBUG) and leave it unset on "
                        "Heroku.",
                    )
                )
    if runs_dev_server:
        sources = [(rel, n, f"{rel}:{n} calls run(debug=True)") for rel, n in debug_in_code]
        if procfile_debug and web is not None:
            sources.append(("Procfile", web.process.line, "the Procfile turns debug on"))
        if dotenv is not None and dotenv_deployed:
            sources.append((".env", dotenv[0], "the committed .env sets FLASK_DEBUG"))
        for rel, number, why in sources:
            findings.append(
                _boot(
                    "flask-debug",
                    "error",
                    f"{why}: the Werkzeug debugger would be public on the dyno, letting anyone "
                    "run code on it.",
                    path=rel,
                    line=number,
                    fix=f"remove debug and serve with gunicorn: `{_suggest_web_line(project)}`.",
                )
            )
    elif dotenv is not None:
        findings.append(
            _boot(
                "flask-debug-config",
                "warning",
                ".env sets FLASK_DEBUG; keep it out of Heroku's config vars and of git.",
                path=".env",
                line=dotenv[0] or None,
                fix="set FLASK_DEBUG only on your machine.",
            )
        )
    elif procfile_debug and web is not None:
        findings.append(
            _boot(
                "flask-debug-config",
                "warning",
                "The Procfile sets FLASK_DEBUG for the web process.",
                path="Procfile",
                line=web.process.line,
                fix="drop FLASK_DEBUG from the Procfile.",
            )
        )
    return findings


RULES: tuple[Rule, ...] = (
    procfile_present,
    procfile_web,
    procfile_shell_syntax,
    dev_server,
    gunicorn_target,
    gunicorn_bind,
    server_installed,
    imports_installed,
    debug_mode,
)
