"""The apps' web side: an HTTP proxy on 127.0.0.1 that answers for ``*.herokuapp.com``.

Tests set ``HTTP_PROXY`` to it (and ``NO_PROXY=127.0.0.1,localhost`` so API and git traffic go
direct), so a GET of the API's ``web_url`` reaches this proxy instead of the internet. It answers
like Heroku's router: 200 from a released app with web dynos, 503 "Application Error" (H14) when
no web dyno runs, or whatever status a test forced with ``app.web_status``. Any other host, and
any CONNECT (https), is refused: nothing leaves the machine.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .state import State

ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>Application Error</title></head><body>"
    "<p>An error occurred in the application and your page could not be served.</p></body></html>"
)


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: WebProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, text: str, head: bool = False) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _from_dyno(self, dyno: Any) -> tuple[int, str, str | None]:
        """Forward to the app's real dyno; 503 H10 when it has crashed or is not there."""
        import urllib.error
        import urllib.request

        if dyno is None or not dyno.running():
            return 503, ERROR_PAGE, "H10"
        url = f"http://127.0.0.1:{dyno.port}{urlsplit(self.path).path or '/'}"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(url, timeout=30) as answer:
                return answer.status, answer.read().decode(errors="replace"), None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), None
        except OSError:
            return 503, ERROR_PAGE, "H20" if dyno.running() else "H10"

    def do_CONNECT(self) -> None:
        self._answer(403, "the stand-in proxy does not tunnel (https) traffic\n")

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        state = self.server.state
        host = urlsplit(self.path).hostname or self.headers.get("Host", "")
        with state.lock:
            self.server.hits.append(f"{host}{urlsplit(self.path).path}")
            app = state.app_by_host(host or "")
            if app is None:
                self._answer(
                    502, f"the stand-in proxy only answers *.herokuapp.com apps ({host})\n"
                )
                return
            release = app.current_release()
            web = app.formation.get("web")
            dyno = app.dyno
            forced = app.web_status
        code: str | None = None
        if app.maintenance:
            status, text, code = 503, ERROR_PAGE, "H80"
        elif forced is not None:
            status, text = forced, ERROR_PAGE if forced >= 500 else "ok"
            code = "H10" if status >= 500 else None
        elif release is None or release["slug"] is None or not web or web["quantity"] < 1:
            status, text, code = 503, ERROR_PAGE, "H14"
        elif state.run_dynos:
            status, text, code = self._from_dyno(dyno)  # outside the lock: may take a while
        else:
            status, text = 200, f"<h1>{app.name}</h1><p>release v{release['version']}</p>"
        descriptions = {
            "H10": "App crashed",
            "H14": "No web processes running",
            "H20": "App boot timeout",
            "H80": "Maintenance mode",
        }
        with state.lock:
            for source, line in dyno.crash_lines() if dyno is not None else []:
                app.log(source, line)
            app.log(
                "heroku[router]",
                (f'at=error code={code} desc="{descriptions[code]}" ' if code else "at=info ")
                + f'method=GET path="{urlsplit(self.path).path}" host={host} status={status}',
            )
        self._answer(status, text, head)


class WebProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: State) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.state = state
        self.hits: list[str] = []
