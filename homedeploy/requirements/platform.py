"""The machine Heroku installs an app's packages on: which Python, which wheels it accepts.

A requirements file is only right or wrong for a target. Heroku's heroku-24 stack is Ubuntu 24.04
on x86_64 (glibc 2.39), and the Python is whatever the app's ``.python-version`` (or the deprecated
``runtime.txt``) asks for, else the buildpack's default. Everything that asks "does this wheel
install there?" or "does this marker hold there?" asks a :class:`TargetPlatform`, never the
interpreter homedeploy happens to run on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from homedeploy.errors import UsageError

if TYPE_CHECKING:
    from packaging.tags import Tag

HEROKU_STACK = "heroku-24"
GLIBC = (2, 39)
ARCH = "x86_64"
_PYTHON_RE = re.compile(r"^3\.(\d+)$")

# Packages that exist only as conda packages, or whose versions in an Anaconda freeze do.
CONDA_ONLY_RE = re.compile(
    r"^(conda|conda-build|conda-verify|conda-package-handling|conda-content-trust|"
    r"conda-libmamba-solver|anaconda-.*|navigator-updater|mkl-fft|mkl-random|mkl-service|"
    r"clyent|blaze|odo|datashape|menuinst|pycosat|libmambapy)$"
)
# Packages that only install (or only mean anything) on Windows or macOS.
OS_ONLY_RE = re.compile(
    r"^(pywin32|pypiwin32|pywin32-ctypes|pywinpty|pywinauto|comtypes|wmi|winshell|"
    r"windows-curses|win-unicode-console|winkerberos|pyreadline3?|py2exe|"
    r"appscript|appnope|pyobjc.*|py2app|rumps|pync|macfsevents|xlwings)$"
)


@dataclass(frozen=True)
class TargetPlatform:
    """CPython ``python`` (``X.Y``) on Heroku's Linux x86_64, manylinux up to glibc 2.39.

    ``origin`` says where the version came from (``.python-version``, ``runtime.txt``,
    ``--python`` or ``default``), so reports can tell the user why this Python was chosen.
    """

    python: str
    origin: str = "default"

    @property
    def version_tuple(self) -> tuple[int, int]:
        major, minor = self.python.split(".")
        return int(major), int(minor)

    @property
    def abi(self) -> str:
        major, minor = self.version_tuple
        return f"cp{major}{minor}"

    @property
    def platform_tag(self) -> str:
        """The newest platform tag the stack accepts; the label reports and pip use."""
        return f"manylinux_{GLIBC[0]}_{GLIBC[1]}_{ARCH}"

    @property
    def description(self) -> str:
        return f"CPython {self.python} {self.platform_tag}"

    def platforms(self) -> list[str]:
        """Every platform tag a wheel may carry to install here, most specific first.

        ``manylinux_2_39`` down to ``manylinux_2_5``, the legacy aliases, then plain
        ``linux_x86_64`` (pip on Linux accepts it too).
        """
        tags = [f"manylinux_{GLIBC[0]}_{minor}_{ARCH}" for minor in range(GLIBC[1], 4, -1)]
        tags += [f"manylinux2014_{ARCH}", f"manylinux2010_{ARCH}", f"manylinux1_{ARCH}"]
        tags.append(f"linux_{ARCH}")
        return tags

    @cached_property
    def tags(self) -> frozenset[Tag]:
        """The wheel tags pip would accept on the target (CPython, this ABI, these platforms)."""
        from packaging import tags

        version = self.version_tuple
        platforms = self.platforms()
        supported = list(tags.cpython_tags(version, [self.abi, "abi3", "none"], platforms))
        supported += list(tags.compatible_tags(version, self.abi, platforms))
        return frozenset(supported)

    def wheel_fits(self, filename: str) -> bool:
        """True when a wheel file of this name installs on the target."""
        if not filename.endswith(".whl"):
            return False
        # Tags are the last three dash-separated fields; each may be a dotted set.
        parts = filename[:-4].rsplit("-", 3)
        if len(parts) < 4 or not parts[0] or "-" not in parts[0]:
            return False
        key = "-".join(parts[1:])
        fits = self._fitting_tags.get(key)
        if fits is None:
            interpreters, abis, platforms = (part.split(".") for part in parts[1:])
            names = self.tag_strings
            fits = any(
                f"{i}-{a}-{p}" in names for i in interpreters for a in abis for p in platforms
            )
            self._fitting_tags[key] = fits
        return fits

    @cached_property
    def _fitting_tags(self) -> dict[str, bool]:
        """Answers of :meth:`wheel_fits` by tag triple (a freeze's files share a few hundred)."""
        return {}

    @cached_property
    def tag_strings(self) -> frozenset[str]:
        return frozenset(str(tag) for tag in self.tags)

    def python_fits(self, requires_python: str | None) -> bool:
        """True when a file's ``Requires-Python`` admits the target Python (or says nothing)."""
        if not requires_python:
            return True
        return _python_fits(requires_python, self.full_version)

    @property
    def full_version(self) -> str:
        from homedeploy.project.python_version import LATEST_PATCH

        return LATEST_PATCH.get(self.python, f"{self.python}.0")

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values on the target, for evaluating ``; sys_platform == ...``."""
        return {
            "implementation_name": "cpython",
            "implementation_version": self.full_version,
            "os_name": "posix",
            "platform_machine": ARCH,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": self.full_version,
            "python_version": self.python,
            "sys_platform": "linux",
        }

    def marker_holds(self, markers: str | None, extras: tuple[str, ...] = ()) -> bool:
        """Whether a requirement's marker is true on the target (no marker: true)."""
        if not markers:
            return True
        from packaging.markers import InvalidMarker, Marker, UndefinedComparison

        try:
            marker = Marker(markers)
            environment = self.marker_environment()
            if not extras:
                return marker.evaluate({**environment, "extra": ""})
            return any(marker.evaluate({**environment, "extra": extra}) for extra in extras)
        except (InvalidMarker, UndefinedComparison):
            return True


@lru_cache(maxsize=4096)
def _python_fits(requires_python: str, full_version: str) -> bool:
    """Memoised: a freeze's projects repeat the same few Requires-Python strings thousands of
    times."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(requires_python).contains(full_version, prereleases=True)
    except InvalidSpecifier:
        return True


def parse_python_option(value: str) -> str:
    """Validate ``--python X.Y`` (``3.12`` or ``3.12.4``); returns ``X.Y``."""
    text = value.strip()
    parts = text.split(".")
    if len(parts) in (2, 3) and all(part.isdigit() for part in parts) and parts[0] == "3":
        return f"{parts[0]}.{int(parts[1])}"
    raise UsageError(
        f"--python {value!r} is not a Python version",
        fix="pass the major version Heroku should build with, e.g. --python 3.14.",
    )


def target_for_app(app_dir: Path, python: str | None = None) -> TargetPlatform:
    """The target for ``app_dir``: ``--python`` if given, else what the buildpack would pick."""
    if python:
        return TargetPlatform(parse_python_option(python), "--python")
    from homedeploy.project.python_version import requested_python

    requested = requested_python(app_dir)
    return TargetPlatform(requested.major, requested.origin)
