"""ASGI middleware that checks requests with a body before the body is read.

FastAPI reads a request's body (spooling a multipart upload to a temporary
file, holding JSON in memory) before any dependency runs, so the API key and
a size limit would otherwise be checked only after the whole body arrived.
This guard rejects a missing or unknown key before the body is read, which
also keeps uvicorn from sending `100 Continue`, and an oversized
body while the client is still sending.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from psycopg_pool import PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.pool_errors import POOL_BUSY_DETAIL, RETRY_AFTER_SECONDS

log = structlog.get_logger(__name__)

KeyCheck = Callable[[str], Awaitable[bool]]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class BodyLimit:
    """The largest body a path accepts, and how to word a rejection."""

    max_bytes: int
    # The margin lets a multipart upload's boundaries and part headers pass
    # around a file of exactly `max_bytes`.
    margin: int
    detail: str


async def _send_json(
    send: Send, status: int, detail: str, headers: list | None = None
) -> None:
    # The same JSON layout as FastAPI's JSONResponse, so that a client sees
    # one format whether this guard or a route's handler rejects a request.
    body = json.dumps(
        {"detail": detail}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class BodyGuard:
    """Guard POST, PUT and PATCH requests under `prefix`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        body_limit: Callable[[str], BodyLimit],
        key_is_valid: Callable[[Scope], KeyCheck | None],
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.body_limit = body_limit
        self.key_is_valid = key_is_valid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = (
            scope["type"] == "http"
            and scope["method"] in BODY_METHODS
            and scope["path"].startswith(self.prefix)
        )
        if not guarded:
            await self.app(scope, receive, send)
            return

        authorization = _header(scope, b"authorization") or ""
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            await _send_json(
                send,
                401,
                "Missing API key: send the header Authorization: Bearer <key>",
                [(b"www-authenticate", b"Bearer")],
            )
            return
        check = self.key_is_valid(scope)
        try:
            valid = check is None or await check(key.strip())
        except PoolTimeout as exc:
            # This guard runs outside FastAPI's exception handlers.
            log.warning("database_pool_timeout", path=scope["path"], error=str(exc))
            await _send_json(
                send,
                503,
                POOL_BUSY_DETAIL,
                [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())],
            )
            return
        if not valid:
            await _send_json(
                send, 401, "Invalid API key", [(b"www-authenticate", b"Bearer")]
            )
            return

        body_limit = self.body_limit(scope["path"])
        limit = body_limit.max_bytes + body_limit.margin
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, body_limit.detail)
            return

        received = 0
        rejected = False

        async def counting_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] != "http.request" or rejected:
                return message

            received += len(message.get("body", b""))
            if received > limit:
                # Respond now and tell the app the client went away, so it
                # stops reading. Whatever it sends afterwards is dropped.
                rejected = True
                await _send_json(send, 413, body_limit.detail)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not rejected:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not rejected:
                raise
