"""Settings read from the environment (Heroku config vars), checked at boot.

``HOMEDATA_DIR``: folder of real exports (read by ``create_app``).
``HOMEDATA_TEMPERATURE_RANGE`` / ``HOMEDATA_HUMIDITY_RANGE``: plausible range as ``low,high``
(defaults -40,140 °F and 0,100 %RH). ``HOMEDATA_GAP_MINUTES``: silence that counts as an
outage (default 30). A malformed value stops the boot with a message naming the variable.
"""

from __future__ import annotations

import os
from dataclasses import replace

from .analysis.cleaning import DEFAULT_RULES, MeasureRules


class ConfigError(ValueError):
    """An environment variable the app cannot use."""


def _range(name: str, default: MeasureRules) -> MeasureRules:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        low, high = (float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r}: expected two numbers 'low,high', e.g. -40,140"
        ) from None
    if low >= high:
        raise ConfigError(f"{name}={raw!r}: low must be below high")
    return replace(default, low=low, high=high)


def rules_from_env() -> dict[str, MeasureRules]:
    return {
        "temperature": _range("HOMEDATA_TEMPERATURE_RANGE", DEFAULT_RULES["temperature"]),
        "humidity": _range("HOMEDATA_HUMIDITY_RANGE", DEFAULT_RULES["humidity"]),
    }


def gap_seconds_from_env() -> int:
    raw = os.environ.get("HOMEDATA_GAP_MINUTES", "30")
    try:
        minutes = int(raw)
    except ValueError:
        raise ConfigError(
            f"HOMEDATA_GAP_MINUTES={raw!r}: expected whole minutes, e.g. 30"
        ) from None
    if not 10 <= minutes <= 7 * 24 * 60:
        raise ConfigError(f"HOMEDATA_GAP_MINUTES={raw!r}: expected 10..10080 minutes")
    return minutes * 60
