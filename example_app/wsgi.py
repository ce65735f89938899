"""Gunicorn's entry point: ``gunicorn wsgi:app`` (see the Procfile)."""

import sys

from homedata_dashboard import create_app
from homedata_dashboard.config import ConfigError
from homedata_dashboard.db import DatabaseError

try:
    app = create_app()
except (ConfigError, DatabaseError) as exc:  # a clear line in the log, not a traceback
    sys.stderr.write(f"homedata: {exc}\n")
    raise SystemExit(1) from None

if __name__ == "__main__":  # pragma: no cover - local convenience only, never in production
    raise SystemExit("Run it with gunicorn: gunicorn wsgi:app")
