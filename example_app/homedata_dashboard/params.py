"""Query parameters: each parser turns one string into a value or raises :class:`BadParam`.

Every API parameter is declared once, with the text ``GET /api`` shows, so the listing and the
validation cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

DAY = 86400
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")


class BadParam(ValueError):
    """A query parameter the API cannot use; becomes a 400 with a JSON error."""

    def __init__(self, param: str, message: str, accepted: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.message = message
        self.accepted = accepted


@dataclass(frozen=True)
class Param:
    """A declared query parameter: what ``GET /api`` says it accepts, and how to read it."""

    accepts: str
    parse: Callable[[str], Any]


def parse_time(value: str, *, end: bool = False) -> int:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS[.fff]]`` (space or T) to wall-clock seconds.

    A date alone as an ``end`` means the end of that day, so ``start=end=2018-07-04`` is one day.
    """
    value = value.strip()
    if _DATE.match(value):
        try:
            day = int(np.datetime64(value, "D").astype(np.int64))
        except ValueError:
            raise ValueError(f"{value!r} is not a calendar date") from None
        return (day + 1) * DAY if end else day * DAY
    if _DATETIME.match(value):
        try:
            return int(np.datetime64(value[:19].replace(" ", "T"), "s").astype(np.int64))
        except ValueError:
            raise ValueError(f"{value!r} is not a valid date and time") from None
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM:SS)")


def int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"{number} is outside {low}..{high}")
        return number

    return parse


def float_in(low: float, high: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not np.isfinite(number) or not low <= number <= high:
            raise ValueError(f"{value} is outside {low:g}..{high:g}")
        return number

    return parse


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of: {', '.join(choices)}")
        return value

    return parse


def int_list(value: str) -> list[int]:
    """``1`` or ``0,1,6``; validated against the data by the endpoint."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise ValueError("give at least one id")
    try:
        return [int(v) for v in items]
    except ValueError:
        raise ValueError(f"{value!r} is not a comma-separated list of whole numbers") from None


def flag(value: str) -> bool:
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise ValueError(f"{value!r} is not 0 or 1")


START = Param("YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS; default: the first reading", parse_time)
END = Param(
    "YYYY-MM-DD (that day included) or YYYY-MM-DDTHH:MM:SS; default: the last reading",
    lambda v: parse_time(v, end=True),
)
FORMAT = Param("json (default) or csv (a download)", one_of("json", "csv"))
MEASURE = Param("temperature (default, °F) or humidity (%RH)", one_of("temperature", "humidity"))


def read_params(args: dict[str, str], declared: dict[str, Param]) -> dict[str, Any]:
    """Parse ``args`` against ``declared``; unknown names and bad values raise :class:`BadParam`."""
    unknown = sorted(set(args) - set(declared))
    if unknown:
        accepted = ", ".join(declared) or "none"
        raise BadParam(
            unknown[0], f"unknown parameter {unknown[0]!r}", f"this endpoint accepts: {accepted}"
        )
    values: dict[str, Any] = {}
    for name, param in declared.items():
        raw = args.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[name] = param.parse(raw)
        except ValueError as exc:
            raise BadParam(name, f"{name}: {exc}", param.accepts) from None
    start, end = values.get("start"), values.get("end")
    if start is not None and end is not None and end <= start:
        raise BadParam("end", "end: the window is empty (end must be after start)", END.accepts)
    return values
