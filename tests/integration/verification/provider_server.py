"""A search and registry provider on 127.0.0.1 for tests of the whole job flow.

The worker of the test stack is configured (tests/stack.py) to call this
server for both the `web_search` check (Brave response shape) and the
`registry` check (company_registry shape). How the server responds depends
on words in the queried name, so concurrent tests do not disturb each other:

| word in the name | web search                     | registry                      |
| ---------------- | ------------------------------ | ----------------------------- |
| (none)           | neutral hits naming the subject | an active company of that name |
| `adverse`        | hits about fraud and a lawsuit | as with no word               |
| `revoked`        | as with no word                | the company's licence revoked |
| `mismatch`       | as with no word                | another registered name       |
| `slow`           | answers after 3 s              | answers after 3 s             |
| `lag`            | answers after 0.5 s            | answers after 0.5 s           |
| `e500`           | HTTP 500                       | HTTP 500                      |
| `flaky`          | HTTP 500 twice per name, then healthy | the same               |
| `e429`           | 429 with Retry-After: 1 once per name, then healthy | the same |
| `blocked`        | 429 with Retry-After: 3600     | 429 with Retry-After: 3600    |
| `badjson`        | a body that is not JSON        | a body that is not JSON       |

`/site?name=...` serves a small home page that names the subject, for the
`website` check. `stop()` and `start()` on the same port make the provider
refuse connections for a while.
"""

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
SLOW_SECONDS = 3.0
LAG_SECONDS = 0.5


class ProviderServer:
    """A threaded HTTP server; counts requests per path kind and name."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        handler = _handler_for(self)
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((HOST, self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def count(self, kind: str, name: str) -> int:
        with self._lock:
            return self.requests[(kind, name)]

    def record(self, kind: str, name: str) -> int:
        """Count a request and return how many came for this kind and name."""
        with self._lock:
            self.requests[(kind, name)] += 1
            return self.requests[(kind, name)]


def search_document(name: str) -> dict[str, Any]:
    if "adverse" in name:
        results = [
            {
                "title": f"{name} accused of fraud",
                "url": "https://news.example/fraud",
                "description": f"Prosecutors say {name} ran an investment fraud; "
                "a lawsuit by investors followed.",
            }
        ]
    else:
        results = [
            {
                "title": f"{name} - official site",
                "url": "https://www.example/about",
                "description": f"{name} opened a new office and hired staff.",
            }
        ]
    return {"type": "search", "web": {"type": "search", "results": results}}


def registry_document(name: str) -> dict[str, Any]:
    registered = "Completely Different Holdings" if "mismatch" in name else name
    status = "吊销，未注销" if "revoked" in name else "存续"
    return {
        "data": {
            "companies": [
                {
                    "registered_name": registered,
                    "registration_number": "91440300TEST00001",
                    "status": status,
                    "legal_representative": {"name": "Zhang San"},
                    "registered_address": {"full": "1 Test Road", "country": "CN"},
                }
            ]
        }
    }


def _handler_for(server: ProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:  # noqa: N802 (http.server's method name)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            if parts.path == "/res/v1/web/search":
                kind, name = "search", query.get("q", [""])[0]
                document = search_document(name)
            elif parts.path == "/v1/companies":
                kind, name = "registry", query.get("name", [""])[0]
                document = registry_document(name)
            elif parts.path == "/site":
                self._send_html(query.get("name", [""])[0])
                return
            else:
                self._send(404, b'{"error": "not found"}')
                return
            seen = server.record(kind, name)
            self._answer(name, seen, document)

        def _answer(self, name: str, seen: int, document: dict[str, Any]) -> None:
            if "slow" in name:
                time.sleep(SLOW_SECONDS)
            elif "lag" in name:
                time.sleep(LAG_SECONDS)
            if "e500" in name or ("flaky" in name and seen <= 2):
                self._send(500, b'{"error": "internal error"}')
            elif "e429" in name and seen == 1:
                self._send(429, b'{"error": "slow down"}', {"Retry-After": "1"})
            elif "blocked" in name:
                self._send(429, b'{"error": "quota"}', {"Retry-After": "3600"})
            elif "badjson" in name:
                self._send(200, b'{"web": {"results": [')
            else:
                self._send(200, json.dumps(document, ensure_ascii=False).encode())

        def _send_html(self, name: str) -> None:
            page = (
                f"<html><head><title>{name}</title></head><body><h1>{name}</h1>"
                "<p>Contact: +86 755 1234 5678</p></body></html>"
            )
            body = page.encode()
            self.send_response(200)
            self.send_header("Connection", "close")
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send(
            self, code: int, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            try:
                self.send_response(code)
                # No keep-alive, so a stopped server refuses the next request
                # instead of serving it on an open connection.
                self.send_header("Connection", "close")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for header, value in (headers or {}).items():
                    self.send_header(header, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout ended the attempt).
                pass

    return Handler
