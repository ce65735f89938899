"""Keeping secrets out of what homedeploy prints: every message and JSON goes through :func:`scrub`.

A Heroku API key is registered the moment a :class:`~homedeploy.heroku.credentials.Credential`
holds it (and ``HEROKU_API_KEY`` is always treated as one), so an API error body, a git message
or a stream line that echoes the key prints ``<hidden>`` instead.
"""

from __future__ import annotations

import os
from typing import Any

HIDDEN = "<hidden>"
_MIN_LENGTH = 6  # shorter "secrets" would blank out ordinary words
_secrets: set[str] = set()


def register(secret: str | None) -> None:
    """Remember ``secret`` so :func:`scrub` hides it from now on."""
    if secret and len(secret) >= _MIN_LENGTH:
        _secrets.add(secret)


def _known() -> list[str]:
    env_key = os.environ.get("HEROKU_API_KEY", "").strip()
    found = set(_secrets)
    if len(env_key) >= _MIN_LENGTH:
        found.add(env_key)
    return sorted(found, key=len, reverse=True)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``<hidden>``."""
    for secret in _known():
        if secret in text:
            text = text.replace(secret, HIDDEN)
    return text


def scrub_value(value: Any) -> Any:
    """:func:`scrub` applied to every string (keys too) inside a JSON-like value."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_value(k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v) for v in value]
    return value
