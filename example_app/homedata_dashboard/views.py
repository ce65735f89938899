"""The dashboard page, a health check, and Plotly.js served from the installed plotly package.

Plotly's Python package ships the matching ``plotly.min.js``; we locate it with
``importlib.util.find_spec`` (which does not import plotly) and serve it ourselves, so the
dashboard needs no CDN and works offline. Its URL carries the Plotly.js version, so browsers can
cache it for a year.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
import threading
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)

from .store import CHART_TABLES, Store

views = Blueprint("views", __name__)
_gzip_lock = threading.Lock()
_gzipped: dict[Path, bytes] = {}


@lru_cache(maxsize=1)
def maplibre_style_id() -> str | None:
    """The element id under which Plotly's bundled maplibre injects its CSS, if it does.

    We draw no maps, so the page carries an empty element with that id: maplibre then believes
    its stylesheet is present and skips injecting an inline ``<style>`` the CSP would refuse.
    """
    located = plotly_js()
    if located is None:
        return None
    text = located[0].read_text(encoding="utf-8", errors="replace")
    match = re.search(
        r'getElementById\("([0-9a-f]{32,64})"\)\)\{var \w+=document\.createElement\("style"\)', text
    )
    return match.group(1) if match else None


@lru_cache(maxsize=1)
def plotly_js() -> tuple[Path, str] | None:
    """The installed ``plotly.min.js`` and its version, or None when plotly is missing."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "package_data" / "plotly.min.js"
        if path.is_file():
            with path.open("rb") as fh:
                head = fh.read(400).decode("ascii", "replace")
            match = re.search(r"plotly\.js v(\d[\w.\-]*)", head)
            return path, match.group(1) if match else "unknown"
    return None


def _store() -> Store:
    return current_app.extensions["homedata"]


@views.get("/")
def dashboard() -> str:
    s = _store()
    located = plotly_js()
    span = s.span()
    rooms = [(r, s.data.room_names.get(r, f"Room {r}")) for r in s.room_ids()]
    users = sorted(set(s.data.workouts.user.tolist()))
    return render_template(
        "dashboard.html",
        sources=s.data.sources,
        sample_tables=s.data.sample_tables(),
        chart_samples={chart: s.sample_tables_of(chart) for chart in CHART_TABLES},
        uses_sample=s.data.uses_sample,
        plotly_url=url_for("views.plotly", version=located[1]) if located else None,
        maplibre_style_id=maplibre_style_id(),
        rooms=rooms,
        users=[(u, s.data.users.get(u, f"user {u}")) for u in users],
        first=str(span[0] // 86400) if span else "",
        span=span,
    )


@views.get("/healthz")
def healthz() -> Response:
    s = _store()
    return Response(
        '{"ok":true,"sample":%s}' % ("true" if s.data.uses_sample else "false"),
        mimetype="application/json",
    )


@views.get("/vendor/plotly-<version>.min.js")
def plotly(version: str) -> Response:
    located = plotly_js()
    if located is None or version != located[1]:
        abort(404)
    path = located[0]
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        with _gzip_lock:
            body = _gzipped.get(path)
            if body is None:
                body = _gzipped[path] = gzip.compress(path.read_bytes(), compresslevel=6)
        response = Response(body, mimetype="text/javascript")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_file(path, mimetype="text/javascript", conditional=True)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
