"""Scripted HTTP servers on 127.0.0.1 that tests tell how to misbehave.

Each request takes the next scripted `Reply`, or the default one when the
script is used up. A reply can come late, drop the connection, send raw
bytes, or be a normal response; every request is recorded.
"""

import asyncio
import json
import socket
import ssl
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds the server really waits before it replies.
    delay: float = 0.0
    # Close the connection without sending anything.
    drop: bool = False
    # Send these bytes instead of a well-formed response.
    raw: bytes | None = None


def json_reply(document: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(
        status=status,
        body=json.dumps(document, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", **headers},
    )


def html_reply(html: str, status: int = 200) -> Reply:
    return Reply(
        status=status,
        body=html.encode(),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )


def redirect_reply(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": location})


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """An HTTP/1.1 server that closes every connection after one reply."""

    def __init__(
        self,
        default: Reply | None = None,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.default = default or Reply()
        self.script: list[Reply] = []
        self.requests: list[ReceivedRequest] = []
        self._tls = tls
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{HOST}:{self.port}"

    def then(self, *replies: Reply) -> "ScriptedServer":
        """Queue replies for the next requests, in order."""
        self.script.extend(replies)
        return self

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, HOST, 0, ssl=self._tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve_one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _serve_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        self.requests.append(ReceivedRequest(method, target, headers, body))

        reply = self.script.pop(0) if self.script else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            return
        writer.write(reply.raw if reply.raw is not None else _encode(reply))
        await writer.drain()


def _encode(reply: Reply) -> bytes:
    reason = HTTPStatus(reply.status).phrase
    lines = [f"HTTP/1.1 {reply.status} {reason}"]
    headers = {**reply.headers, "Content-Length": str(len(reply.body))}
    headers["Connection"] = "close"
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + reply.body


def closed_port() -> int:
    """Return a loopback port that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
