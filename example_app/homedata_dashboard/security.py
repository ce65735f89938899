"""Security headers on every response and JSON errors under ``/api``.

The Content-Security-Policy allows scripts, stylesheets, images and requests from this origin
only; no inline script runs. Two allowances exist for Plotly.js, both about styles, never code:

* ``style-src-elem`` admits the hash of the *empty* ``<style>`` element: Plotly creates one and
  fills it through the CSSOM (``insertRule``), which CSP does not police; without it the charts'
  toolbar loses its styling.
* ``style-src-attr 'unsafe-inline'``: Plotly positions its SVG layers with ``style`` attributes.
  Attributes cannot carry selectors, so this does not open CSS-based data exfiltration.

``style-src`` keeps ``'unsafe-inline'`` only as the fallback for browsers that predate the
``-elem``/``-attr`` split (CSP level 3); current browsers use the two stricter directives.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        f"style-src-elem 'self' {EMPTY_STYLE_HASH}",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def static_headers(headers: Any, _path: str, _url: str) -> None:
    """WhiteNoise's hook: the same headers on static files as on every Flask response."""
    for name, value in HEADERS.items():
        headers.setdefault(name, value)


def install_security(app: Flask) -> None:
    app.debug = False

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        from .api import error_response

        status = exc.code or 500
        if request.path == "/api" or request.path.startswith("/api/"):
            message = {
                404: "no such endpoint; GET /api lists them",
                405: "only GET is supported",
            }.get(status, exc.description or exc.name)
            return error_response(status, message, path=request.path)
        response = exc.get_response()
        return response  # type: ignore[return-value]

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> Response:
        from .api import error_response

        app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api"):
            return error_response(500, "internal error; the server log has the details")
        return Response(
            "Internal error; the server log has the details.", status=500, mimetype="text/plain"
        )
