"""The config vars a rehearsal dyno gets, and where each one came from.

On Heroku the environment of every process is the app's config vars; locally they come from, in
increasing precedence: ``app.json``'s ``env`` (a ``value``, or ``generator: secret``, made fresh
as Heroku does), the real app's config vars (``--app NAME`` with a key), ``.env`` (or
``--env-file``, what ``config push`` would send), then ``--env K=V``. Add-on URLs are set after
that by the services the rehearsal starts. Values are kept apart from their sources so that
reports and ``--json`` can name every variable without printing a single value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.errors import UsageError
from homedeploy.project.config_vars import AppJson, generate_secret, read_env_file

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ADDON_OWNED_RE = re.compile(r"^(DATABASE_URL|REDIS_URL|REDIS_TLS_URL|HEROKU_POSTGRESQL_\w+_URL)$")
"""Config vars an attached data add-on owns: the real app's values point at the real database,
which a rehearsal must never touch (its release phase may migrate it)."""


@dataclass
class DynoConfig:
    """Config vars for the rehearsal dyno; ``values`` is never printed, ``sources`` is."""

    values: dict[str, str] = field(default_factory=dict, repr=False)
    sources: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # app.json required keys nothing provides
    notes: list[str] = field(default_factory=list)

    def set(self, name: str, value: str, source: str) -> None:
        self.values[name] = value
        self.sources[name] = source


def parse_env_pairs(pairs: list[str]) -> dict[str, str]:
    """``--env K=V`` options; a malformed one is a usage error naming it."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not NAME_RE.match(name):
            raise UsageError(
                f"--env {pair!r} is not NAME=value",
                fix="write it as --env SECRET_KEY=value (letters, digits and _ in the name).",
            )
        parsed[name] = value
    return parsed


def compose_config(
    app_json: AppJson | None,
    env_file: Path | None,
    pairs: dict[str, str],
    remote: dict[str, str] | None = None,
    remote_app: str | None = None,
) -> DynoConfig:
    """Merge the sources in Heroku's precedence (see the module doc)."""
    config = DynoConfig()
    if app_json is not None:
        for setting in app_json.env.values():
            if setting.value is not None:
                config.set(setting.name, setting.value, "app.json value")
            elif setting.generator == "secret":
                config.set(setting.name, generate_secret(), "app.json generator: secret")
    if remote is not None:
        skipped = []
        for name, value in remote.items():
            if ADDON_OWNED_RE.match(name):
                skipped.append(name)
                continue
            config.set(name, value, f"config vars of {remote_app}")
        if skipped:
            config.notes.append(
                f"{', '.join(sorted(skipped))} of {remote_app} not used: they point at its real "
                "add-ons, which a rehearsal never touches (local services stand in)."
            )
    if env_file is not None:
        for name, value in read_env_file(env_file).items():
            config.set(name, value, env_file.name)
    for name, value in pairs.items():
        config.set(name, value, "--env")
    if app_json is not None:
        config.missing = [
            setting.name
            for setting in app_json.env.values()
            if setting.required and setting.name not in config.values
        ]
    return config
