"""Security headers on every response and JSON errors under ``/api``.

The Content-Security-Policy allows scripts, stylesheets, images and requests from this origin
only; no inline script or inline style runs. The charts (``static/charts.js``) set styles only
through the CSSOM (``element.style``) and SVG presentation attributes, which CSP does not treat
as inline styles, so no style allowance is needed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
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
