"""Config-var and data rules (boot stage): what a dyno's environment and disk will not give the app.

A dyno starts with the app's config vars and nothing of the developer's shell, and its disk is
thrown away at every restart. Three things fail there that work on a laptop:

- a variable read at import (``os.environ["SECRET_KEY"]`` in a module or a config class) that
  nothing sets on Heroku: no config var from app.json, no add-on, not in ``.env`` (which
  ``config push`` sends), not one the platform sets: a KeyError at boot (H10);
- an SQLite file as the database: every restart (at least daily) and every deploy start again
  from the committed file, and each dyno has its own;
- ``DATABASE_URL`` handed to SQLAlchemy as Heroku spells it (``postgres://``), which SQLAlchemy
  1.4+ refuses ("Can't load plugin: sqlalchemy.dialects:postgres").

The code is read with ``ast`` (:func:`homedeploy.project.config_vars.scan_source`); which module
really runs at import is only known by importing it, which ``push --local`` does.
"""

from __future__ import annotations

import contextlib

from homedeploy.doctor.codes import Stage
from homedeploy.doctor.findings import Finding
from homedeploy.doctor.rules import Rule
from homedeploy.doctor.snapshot import ProjectSnapshot
from homedeploy.errors import HomedeployError
from homedeploy.project.config_vars import (
    ADDON_VARIABLES,
    PLATFORM_VARIABLES,
    AppJson,
    SourceFacts,
    read_app_json,
    read_env_file,
    scan_source,
)

STAGE: Stage = "boot"
ADDON_FOR = {variable: addon for addon, names in ADDON_VARIABLES.items() for variable in names}


def _facts(project: ProjectSnapshot) -> SourceFacts:
    cached = project.__dict__.get("_config_facts")
    if cached is None:
        cached = scan_source(project.root)
        project.__dict__["_config_facts"] = cached
    return cached


def _app_json(project: ProjectSnapshot) -> AppJson | None:
    try:
        return read_app_json(project.root)
    except HomedeployError:
        return None


def provided_variables(project: ProjectSnapshot) -> set[str]:
    """Config vars something sets on the dyno: the platform, app.json env and add-ons, .env."""
    provided = set(PLATFORM_VARIABLES)
    app_json = _app_json(project)
    if app_json is not None:
        provided |= set(app_json.env) | app_json.addon_variables()
    env_file = project.config_dir / ".env"
    if env_file.is_file():
        with contextlib.suppress(HomedeployError):
            provided |= set(read_env_file(env_file))
    return provided


def config_vars_unset(project: ProjectSnapshot) -> list[Finding]:
    """Variables read at import that nothing provides.

    ``os.environ["X"]`` is an error (KeyError at boot); a read with a default, or a ``.get`` /
    ``getenv`` that yields None, is a warning: the dyno runs with that value.
    """
    facts = _facts(project)
    provided = provided_variables(project)
    findings: list[Finding] = []
    defaulted: dict[str, str] = {}
    reported: set[str] = set()
    for read in facts.reads:
        if not read.at_import or read.name in provided or read.name in reported:
            continue
        if read.has_default or not read.raises:
            # ``.get("X")``/``getenv("X")`` give None rather than crash: whether None breaks
            # the boot depends on what the code does with it, so it is not called an error.
            defaulted.setdefault(read.name, f"{read.path}:{read.line}")
            continue
        reported.add(read.name)
        addon = ADDON_FOR.get(read.name)
        if addon:
            fix = (
                f"attach the add-on that sets it: declare {addon} under app.json's addons "
                f"(`homedeploy push` offers to create it; `push --local` starts a local one)."
            )
        else:
            fix = (
                f"set it on the app (`homedeploy config set {read.name}=...`, or put it in .env "
                f'and run `homedeploy config push`), declare it in app.json\'s env (`"generator": '
                f'"secret"` for a key), or read it with a default.'
            )
        findings.append(
            Finding(
                "config-var-unset",
                STAGE,
                "error",
                f"{read.name} is read at import without a default, and nothing sets it on a dyno "
                "(not in app.json, no add-on, not in .env): the app crashes with KeyError at boot.",
                path=read.path,
                line=read.line,
                heroku="H10 (App crashed)",
                fix=fix,
            )
        )
    defaulted = {name: where for name, where in defaulted.items() if name not in reported}
    if defaulted:
        listing = ", ".join(f"{name} ({where})" for name, where in sorted(defaulted.items()))
        first = next(iter(defaulted.values()))
        findings.append(
            Finding(
                "config-var-defaulted",
                STAGE,
                "warning",
                f"read at import with a default (or None) that nothing overrides on Heroku: "
                f"{listing}; the dyno runs with those values.",
                path=first.rsplit(":", 1)[0],
                line=int(first.rsplit(":", 1)[1]),
                fix="set the ones that matter with `homedeploy config set NAME=...` (or app.json "
                "env).",
            )
        )
    return findings


def sqlite_on_dyno(project: ProjectSnapshot) -> list[Finding]:
    """An SQLite file as the database: lost at every restart of the dyno."""
    facts = _facts(project)
    provided = provided_variables(project)
    uses = [
        use for use in facts.sqlite if not (use.env_default_of and use.env_default_of in provided)
    ]
    if not uses:
        return []
    first = uses[0]
    fallback = (
        f" (the default when {first.env_default_of} is unset, and nothing sets it on Heroku)"
        if first.env_default_of
        else ""
    )
    return [
        Finding(
            "sqlite-on-dyno",
            STAGE,
            "warning",
            f"the app keeps its data in SQLite ({first.target}){fallback}: a dyno's disk is "
            "ephemeral, so every restart (at least daily) and every deploy start again from the "
            "committed file, and each dyno has its own copy.",
            path=first.path,
            line=first.line,
            heroku="data written since the last restart is lost",
            fix="use Heroku Postgres: add heroku-postgresql to app.json's addons and read "
            "DATABASE_URL (with its scheme rewritten to postgresql://).",
        )
    ]


def postgres_scheme(project: ProjectSnapshot) -> list[Finding]:
    """DATABASE_URL reaches SQLAlchemy with Heroku's ``postgres://`` scheme, unrewritten."""
    facts = _facts(project)
    read = facts.first_read("DATABASE_URL")
    if read is None or not facts.sqlalchemy or facts.postgres_scheme_rewrite:
        return []
    return [
        Finding(
            "postgres-scheme",
            STAGE,
            "warning",
            "DATABASE_URL is used with SQLAlchemy as it is, but Heroku's starts with "
            "postgres://, which SQLAlchemy 1.4+ refuses (NoSuchModuleError: Can't load plugin: "
            "sqlalchemy.dialects:postgres); no rewrite of that scheme was found in the code.",
            path=read.path,
            line=read.line,
            heroku="H10 (App crashed)",
            fix='rewrite it first: url = os.environ["DATABASE_URL"].replace("postgres://", '
            '"postgresql://", 1).',
        )
    ]


RULES: tuple[Rule, ...] = (config_vars_unset, sqlite_on_dyno, postgres_scheme)
