"""``homedeploy config``: an app's config vars (masked), and ``config push`` of a ``.env`` file.

Values are secrets more often than not, so they are never shown unless asked (``reveal``): a
masked value tells only that it is set and how long it is. ``config push`` only adds and
changes variables (a variable on Heroku that is not in ``.env``, such as an add-on's
``DATABASE_URL``, is left alone), and is split into a plan and an apply step so the CLI can
show the diff and ask before anything changes. ``PORT`` is never pushed: Heroku sets it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.errors import ProjectError, UsageError
from homedeploy.heroku.app_choice import AppTarget, connect_app

KEY_RE = re.compile(r"^\w+$")
NEVER_PUSHED = {"PORT": "Heroku sets PORT for every dyno; a config var would be ignored"}


def mask(value: str) -> str:
    """A stand-in for a secret value: nothing of it, only its length."""
    return f"•••••• ({len(value)} chars)" if value else "(empty)"


@dataclass
class ConfigReport:
    app: str
    revealed: bool
    vars: dict[str, str]


def show_config(project: Path, app: str | None, *, reveal: bool = False) -> ConfigReport:
    """The app's config vars, values masked unless ``reveal``."""
    target = connect_app(project, app)
    values = target.client.config_vars(target.app.name)
    shown = (
        dict(sorted(values.items())) if reveal else {k: mask(v) for k, v in sorted(values.items())}
    )
    return ConfigReport(target.app.name, reveal, shown)


@dataclass
class ConfigChange:
    key: str
    action: str  # "add" or "change"
    line: int | None
    old: str | None = field(default=None, repr=False)
    new: str = field(default="", repr=False)

    def shown(self, *, reveal: bool) -> str:
        """The change for display: ``old -> new`` when revealed, else the new value masked."""
        if not reveal:
            return mask(self.new)
        return f"{self.old!r} -> {self.new!r}" if self.old else repr(self.new)


@dataclass
class ConfigPlan:
    """What ``config push`` would do: changes, unchanged keys, skipped keys (with why)."""

    app: str
    env_file: Path
    changes: list[ConfigChange]
    unchanged: list[str]
    skipped: list[str]

    def payload(self) -> dict[str, str | None]:
        return {change.key: change.new for change in self.changes}


def read_env_file(path: Path) -> tuple[dict[str, str], dict[str, int], list[str]]:
    """(values, line numbers, skipped notes) from a ``.env`` file, via python-dotenv."""
    from homedeploy.project.dotenv_file import read_dotenv

    if not path.exists():
        raise ProjectError(
            f"{path} does not exist",
            path=path,
            fix="create it with KEY=value lines, or pass the file: homedeploy config push FILE.",
        )
    parsed = read_dotenv(path)
    numbers = parsed.lines
    values: dict[str, str] = {}
    skipped: list[str] = []
    for key, value in parsed.values.items():
        where = f"{path}:{numbers.get(key, '?')}"
        if not KEY_RE.match(key):
            raise ProjectError(
                f"{key!r} is not a valid config var name (letters, digits and _ only)",
                path=path,
                line=numbers.get(key),
                fix="rename the variable.",
            )
        if value is None:
            skipped.append(f"{key} ({where}): no value (write KEY=value)")
        elif key in NEVER_PUSHED:
            skipped.append(f"{key} ({where}): {NEVER_PUSHED[key]}")
        else:
            values[key] = value
    return values, numbers, skipped


def plan_config_push(project: Path, app: str | None, env_file: Path | None = None) -> ConfigPlan:
    """Compare ``.env`` with the app's config vars; nothing is changed yet."""
    path = env_file or project / ".env"
    values, numbers, skipped = read_env_file(path)
    target = connect_app(project, app)
    current = target.client.config_vars(target.app.name)
    changes: list[ConfigChange] = []
    unchanged: list[str] = []
    for key, value in values.items():
        if key not in current:
            changes.append(ConfigChange(key, "add", numbers.get(key), None, value))
        elif current[key] != value:
            changes.append(ConfigChange(key, "change", numbers.get(key), current[key], value))
        else:
            unchanged.append(key)
    return ConfigPlan(target.app.name, path, changes, unchanged, skipped)


@dataclass
class ConfigPushResult:
    app: str
    applied: list[str]
    release: int | None


def apply_config_push(project: Path, plan: ConfigPlan) -> ConfigPushResult:
    """Send the plan's changes in one PATCH (Heroku makes one new release and restarts)."""
    if not plan.changes:
        return ConfigPushResult(plan.app, [], None)
    target = connect_app(project, plan.app)
    target.client.update_config_vars(plan.app, plan.payload())
    newest = target.client.releases(plan.app, limit=1)
    return ConfigPushResult(
        plan.app, [c.key for c in plan.changes], newest[0].version if newest else None
    )


@dataclass
class ConfigSetResult:
    app: str
    vars: dict[str, str]  # the keys set (or unset), values masked unless revealed
    release: int | None
    missing: list[str] = field(default_factory=list)  # unset: keys that were not set


def parse_assignments(args: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["K=V", "K2=a=b"]`` -> ``{"K": "V", "K2": "a=b"}``; a clear error otherwise."""
    values: dict[str, str] = {}
    if not args:
        raise UsageError("no KEY=VALUE given", fix="e.g. `homedeploy config set SECRET_KEY=...`.")
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not KEY_RE.match(key):
            raise UsageError(
                f"{arg!r} is not KEY=VALUE",
                fix="e.g. `homedeploy config set DEBUG=0` (letters, digits and _ in the name).",
            )
        if key in NEVER_PUSHED:
            raise UsageError(f"{key}: {NEVER_PUSHED[key]}", fix=f"leave {key} out.")
        values[key] = value
    return values


def _latest_release(target: AppTarget) -> int | None:
    newest = target.client.releases(target.app.name, limit=1)
    return newest[0].version if newest else None


def set_config(
    project: Path, app: str | None, args: list[str] | tuple[str, ...], *, reveal: bool = False
) -> ConfigSetResult:
    """Set every ``KEY=VALUE`` in one PATCH (one new release, one restart)."""
    values = parse_assignments(args)
    target = connect_app(project, app)
    target.client.update_config_vars(target.app.name, dict(values))
    shown = values if reveal else {k: mask(v) for k, v in values.items()}
    return ConfigSetResult(target.app.name, shown, _latest_release(target))


def unset_config(
    project: Path, app: str | None, keys: list[str] | tuple[str, ...]
) -> ConfigSetResult:
    """Remove ``keys`` in one PATCH (null values); keys that are not set are reported."""
    if not keys:
        raise UsageError("no KEY given", fix="e.g. `homedeploy config unset DEBUG`.")
    for key in keys:
        if not KEY_RE.match(key):
            raise UsageError(f"{key!r} is not a config var name", fix="letters, digits and _.")
    target = connect_app(project, app)
    current = target.client.config_vars(target.app.name)
    present = [k for k in dict.fromkeys(keys) if k in current]
    missing = [k for k in dict.fromkeys(keys) if k not in current]
    release = None
    if present:
        target.client.update_config_vars(target.app.name, dict.fromkeys(present))
        release = _latest_release(target)
    return ConfigSetResult(target.app.name, dict.fromkeys(present, ""), release, missing)


@dataclass
class ConfigValue:
    app: str
    key: str
    value: str | None  # None: not set
    revealed: bool


def get_config(project: Path, app: str | None, key: str, *, reveal: bool = False) -> ConfigValue:
    target = connect_app(project, app)
    value = target.client.config_vars(target.app.name).get(key)
    if value is not None and not reveal:
        value = mask(value)
    return ConfigValue(target.app.name, key, value, reveal)
