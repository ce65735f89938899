"""The one way results become ``--json``: :func:`to_json`.

Every command's result is a dataclass; by default its JSON object is its fields, in order,
each value turned into JSON the same way (nested dataclasses, lists, dicts, paths). A result
whose documented shape differs says so declaratively with a class attribute ``JSON_KEYS``: the
keys in order, each the name of a field or property, or ``(key, attribute)`` where the key's
name differs from the attribute's, or ``...`` for "every field, in order" (to add a computed
key after them). A :class:`~homedeploy.errors.HomedeployError` becomes the error object
``{"ok": false, "error": {...}}``. The shapes are pinned by ``tests/test_json_contract.py``
against ``tests/schemas/``.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import Path
from types import EllipsisType
from typing import TypeAlias

from homedeploy.errors import HomedeployError

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"

JsonKeys: TypeAlias = tuple[str | tuple[str, str] | EllipsisType, ...]
"""The ``JSON_KEYS`` of a result class (see the module docstring)."""


def to_json(value: object) -> JsonValue:
    """``value`` as plain JSON values (what ``json.dumps`` takes)."""
    if isinstance(value, HomedeployError):
        return {
            "ok": False,
            "error": {
                "message": value.message,
                "path": value.path,
                "line": value.line,
                "fix": value.fix,
                "exit_code": value.exit_code,
            },
        }
    if is_dataclass(value) and not isinstance(value, type):
        return {key: to_json(getattr(value, attribute)) for key, attribute in _keys(value)}
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _keys(value: object) -> list[tuple[str, str]]:
    """(key, attribute) pairs of a dataclass instance, in output order."""
    names = [field.name for field in fields(value)]  # type: ignore[arg-type]
    declared: JsonKeys | None = getattr(type(value), "JSON_KEYS", None)
    if declared is None:
        return [(name, name) for name in names]
    pairs: list[tuple[str, str]] = []
    for entry in declared:
        if entry is ...:
            pairs.extend((name, name) for name in names)
        elif isinstance(entry, tuple):
            pairs.append(entry)
        else:
            pairs.append((entry, entry))
    return pairs


def dumps(value: object) -> str:
    """``value`` as indented JSON text, as ``--json`` prints it: secrets scrubbed
    (:func:`homedeploy.redact.scrub_value`)."""
    import json

    from homedeploy.redact import scrub_value

    return json.dumps(scrub_value(to_json(value)), indent=2)
