"""The dashboard page and a health check.

The page's charts are drawn by ``static/charts.js``, our own small SVG charts (its header says
why not Plotly.js); :mod:`.assets` serves it with the other static files through WhiteNoise
under content-hashed names, so the dashboard needs no CDN, works offline, and browsers cache
it for a year.
"""

from __future__ import annotations

import gzip

from flask import Blueprint, Response, current_app, render_template, request

from .assets import Assets
from .store import CHART_TABLES, Store

views = Blueprint("views", __name__)


def _store() -> Store:
    return current_app.extensions["homedata"]


def _assets() -> Assets:
    return current_app.extensions["homedata_assets"]


@views.get("/")
def dashboard() -> Response:
    s = _store()
    assets = _assets()
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
