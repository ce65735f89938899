"""The dashboard page and a health check; Plotly.js comes from the installed plotly package.

Plotly's Python package ships the matching ``plotly.min.js``; we locate it with
``importlib.util.find_spec`` (which does not import plotly), and :mod:`.assets` serves it with
the app's own static files through WhiteNoise under a content-hashed name, so the dashboard
needs no CDN, works offline, and browsers cache it for a year.
"""

from __future__ import annotations

import gzip
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request

from .assets import Assets
from .store import CHART_TABLES, Store

views = Blueprint("views", __name__)


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


def _assets() -> Assets:
    return current_app.extensions["homedata_assets"]


@views.get("/")
def dashboard() -> Response:
    s = _store()
    assets = _assets()
    located = plotly_js()
    span = s.span()
    rooms = [(r, s.data.room_names.get(r, f"Room {r}")) for r in s.room_ids()]
    users = sorted(set(s.data.workouts.user.tolist()))
    page = render_template(
        "dashboard.html",
        asset=assets.url,
        sources=s.data.sources,
        sample_tables=s.data.sample_tables(),
        chart_samples={chart: s.sample_tables_of(chart) for chart in CHART_TABLES},
        uses_sample=s.data.uses_sample,
        plotly_url=assets.url("plotly.min.js") if located else None,
        maplibre_style_id=maplibre_style_id(),
        rooms=rooms,
        users=[(u, s.data.users.get(u, f"user {u}")) for u in users],
        first=str(span[0] // 86400) if span else "",
        span=span,
    ).encode()
    response = Response(page, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"  # always revalidated: it names the assets
    response.headers["Vary"] = "Accept-Encoding"
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response.set_data(gzip.compress(page, 6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    response.add_etag()
    response.make_conditional(request)
    return response


@views.get("/healthz")
def healthz() -> Response:
    s = _store()
    sample = "true" if s.data.uses_sample else "false"
    return Response(
        f'{{"ok":true,"sample":{sample},"mode":"{current_app.extensions["homedata_mode"]}"}}',
        mimetype="application/json",
    )
