"""One structured log line per HTTP request: method, path, status, duration,
tenant and trace ids.

A pure ASGI middleware, so streamed responses (server-sent events, uploads)
pass through unbuffered. The tenant id comes from `scope["state"]`, where the
authentication dependency records it.
"""

import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.envelope import trace_id_of

log = structlog.get_logger("api.access")

# Probes run every few seconds and would drown the requests that matter.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    """Return the text with control characters escaped, so that a NUL or a
    newline in a request path cannot split or garble the log."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group(0)):02x}", text)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            if scope["path"] not in QUIET_PATHS or status >= 400:
                state = scope.get("state") or {}
                log.info(
                    "http_request",
                    method=scope["method"],
                    path=_printable(scope["path"]),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                    tenant_id=state.get("tenant_id"),
                    trace_id=trace_id_of(_header(scope, b"traceparent")),
                    client=(scope.get("client") or (None,))[0],
                )
