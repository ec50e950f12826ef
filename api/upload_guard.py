"""ASGI middleware that checks uploads before their body is read.

FastAPI parses a multipart body (spooling it to a temporary file) before any
dependency runs, so the API key and the size limit would otherwise be checked
only after the whole upload arrived. This guard rejects a missing or unknown
key and an oversized body while the client is still sending.
"""

import json
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

KeyCheck = Callable[[str], Awaitable[bool]]

# Room for the multipart boundaries and part headers around the file.
MULTIPART_OVERHEAD = 64 * 1024


async def _send_json(
    send: Send, status: int, detail: str, headers: list | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
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


class UploadGuard:
    """Guard POST requests under `prefixes` that carry a body."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        prefixes: tuple[str, ...],
        max_body_bytes: Callable[[], int],
        key_is_valid: Callable[[Scope], KeyCheck | None],
    ) -> None:
        self.app = app
        self.prefixes = prefixes
        self.max_body_bytes = max_body_bytes
        self.key_is_valid = key_is_valid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith(self.prefixes)
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
        if check is not None and not await check(key.strip()):
            await _send_json(
                send, 401, "Invalid API key", [(b"www-authenticate", b"Bearer")]
            )
            return

        limit = self.max_body_bytes() + MULTIPART_OVERHEAD
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, _too_large_detail(self.max_body_bytes()))
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
                await _send_json(send, 413, _too_large_detail(self.max_body_bytes()))
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


def _too_large_detail(limit: int) -> str:
    return (
        f"File is larger than the limit of {limit} bytes "
        "(setting TIDINGS_MAX_UPLOAD_BYTES); split it or raise the limit"
    )
