"""Gunicorn's entry point: ``gunicorn wsgi:app`` (see the Procfile)."""

from homedata_dashboard import create_app

app = create_app()

if __name__ == "__main__":  # pragma: no cover - local convenience only, never in production
    raise SystemExit("Run it with gunicorn: gunicorn wsgi:app")
