"""Where the bundled files live, in a checkout and in an installed wheel.

In a source checkout (including ``pip install -e``) they sit at the repository's top level; in a
wheel the build copies them to ``homedeploy/_bundled/`` (see ``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    installed = _PACKAGE_DIR / "_bundled" / name
    if installed.exists():
        return installed
    return _PACKAGE_DIR.parent / name


def procfile_template() -> Path:
    """The template ``init`` renders into a project's Procfile."""
    return _bundled("Procfile.template")


def example_app_dir() -> Path:
    """The bundled homedata dashboard that ``init --example`` copies."""
    return _bundled("example_app")
