"""``segloc serve``: the viewer page and its JSON API on the standard library's threading HTTP server.

    GET  /                    the page (static/index.html), GET /static/<file> its script and style
    GET  /api/info            what is served: categories and colours, CHR classes, pairs, limits
    POST /api/detect          scan bytes -> {"width", "height", "detections": [segloc detect records]};
                              ?min_score=S (default: the detector's own threshold)
    POST /api/classify        scan bytes -> CHR {"class_names", "scores", "cams": {class: PNG data URL}}
    GET  /api/pairs/<k>.png   the k-th synthesised pair of the pretraining run

A scan is the request body (``curl --data-binary @scan.png -H 'Content-Type: image/png'``).
Refusals are JSON ``{"error": ...}`` with a 4xx status; an unexpected failure is a 500 with one
line (its traceback goes to the server's log, never to the client). The server binds to
127.0.0.1 unless told otherwise, runs one inference at a time, and writes no file. Closing it
waits for the requests in progress: a request thread killed at exit inside a torch call aborts
the whole process (pytorch/pytorch#38228).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from segloc.serve import api
from segloc.serve.limits import DEFAULT_HOST, DEFAULT_PORT, IDLE_TIMEOUT_S, MAX_PIXELS, MAX_UPLOAD_BYTES
from segloc.serve.sources import Sources
from segloc.serve.uploads import RequestError, decode_scan, read_body

log = logging.getLogger("segloc")
STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
PAGE_POLICY = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'"
PAIR_ROUTE = re.compile(r"/api/pairs/(\d+)\.png")


class ViewerServer(ThreadingHTTPServer):
    """The HTTP server with what it serves, its upload limits and the lock inference runs under."""

    daemon_threads = False  # server_close() joins the request threads (block_on_close)

    def __init__(
        self,
        address: tuple[str, int],
        sources: Sources,
        max_bytes: int = MAX_UPLOAD_BYTES,
        max_pixels: int = MAX_PIXELS,
    ) -> None:
        super().__init__(address, ViewerHandler)
        self.sources = sources
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.inference = threading.Lock()
        folder = resources.files("segloc.serve") / "static"
        self.static = {name: (folder / name).read_bytes() for name in STATIC_TYPES}

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class ViewerHandler(BaseHTTPRequestHandler):
    """One request: route it, answer with the page, a PNG or JSON."""

    server: ViewerServer
    server_version = "segloc-serve"
    error_content_type = "application/json"
    error_message_format = '{"error": "%(code)d %(message)s"}'
    timeout = IDLE_TIMEOUT_S

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: dict) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _guarded(self, route) -> None:
        """Run ``route``; refusals become their 4xx JSON, anything else a 500 with one line."""
        try:
            route()
        except RequestError as exc:
            if self.command == "POST":
                self.close_connection = True  # its body may be unread
            self._json(exc.status, {"error": exc.message})
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
        except Exception:  # the last line of defence: the client gets no traceback
            log.error("%s %s failed:\n%s", self.command, self.path, traceback.format_exc())
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error (see the server's log)"})

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._guarded(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._guarded(self._post)

    def _get(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            self._send(
                200,
                self.server.static["index.html"],
                STATIC_TYPES["index.html"],
                {"Content-Security-Policy": PAGE_POLICY},
            )
        elif path.startswith("/static/") and path[len("/static/") :] in STATIC_TYPES:
            name = path[len("/static/") :]
            self._send(200, self.server.static[name], STATIC_TYPES[name])
        elif path == "/api/info":
            self._json(200, api.info(self.server.sources, self.server.max_bytes, self.server.max_pixels))
        elif (match := PAIR_ROUTE.fullmatch(path)) and int(match.group(1)) < len(self.server.sources.gallery):
            self._send(200, self.server.sources.gallery[int(match.group(1))], "image/png")
        else:
            raise RequestError(404, f"no such page: {path}")

    def _post(self) -> None:
        body = read_body(dict(self.headers.items()), self.rfile, self.server.max_bytes)
        url = urlsplit(self.path)
        sources, query = self.server.sources, parse_qs(url.query)
        if url.path == "/api/detect":

            def answer(scan):
                return api.detections(sources, scan, query.get("min_score"))
        elif url.path == "/api/classify":

            def answer(scan):
                return api.classification(sources, scan)
        else:
            raise RequestError(404, f"no such endpoint: POST {url.path}")
        scan = decode_scan(body, self.server.max_pixels)
        with self.server.inference:
            payload = answer(scan)
        self._json(200, payload)


def make_server(
    sources: Sources,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
) -> ViewerServer:
    """A bound (not yet serving) viewer server; port 0 picks a free port."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s: reachable from other machines, with no authentication", host)
    return ViewerServer((host, port), sources, max_bytes, max_pixels)
