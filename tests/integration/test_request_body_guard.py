"""Oversized request heads, and JSON bodies without a valid key or over the
limit, are rejected before they are read."""

import socket
from urllib.parse import urlparse

import pytest

from tests.stack import TEST_ENV, Stack

pytestmark = pytest.mark.integration

JSON_PATHS = [
    "/v1/catalog/products",
    "/v1/sites",
    "/v1/verifications",
    "/v1/verifications/batch",
    "/v1/interactions",
]


def _first_line(stack: Stack, path: str, headers: dict[str, str], body: bytes) -> str:
    """Send the request head and `body`, and return the status line of the reply.

    Content-Length may promise more than is sent: a server that waits for
    the whole body never replies, and the socket times out.
    """
    url = urlparse(stack.api_url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.hostname}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(request)
        return conn.recv(200).split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize("path", JSON_PATHS)
def test_body_without_key_rejected_unread(stack: Stack, path: str) -> None:
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(10**9),
        "Expect": "100-continue",
    }

    status = _first_line(stack, path, headers, b"")

    assert status == "HTTP/1.1 401 Unauthorized"


@pytest.mark.parametrize("path", JSON_PATHS)
def test_body_with_unknown_key_rejected_unread(stack: Stack, path: str) -> None:
    headers = {
        "Authorization": "Bearer tdk_unknown",
        "Content-Type": "application/json",
        "Content-Length": str(10**9),
    }

    status = _first_line(stack, path, headers, b"[")

    assert status == "HTTP/1.1 401 Unauthorized"


@pytest.mark.parametrize("path", JSON_PATHS)
def test_declared_oversize_body_rejected(stack: Stack, path: str) -> None:
    headers = {
        "Authorization": f"Bearer {stack.api_key}",
        "Content-Type": "application/json",
        "Content-Length": str(int(TEST_ENV["TIDINGS_MAX_REQUEST_BYTES"]) + 1),
    }

    status = _first_line(stack, path, headers, b"[")

    assert status == "HTTP/1.1 413 Request Entity Too Large"


def test_oversized_header_rejected(stack: Stack) -> None:
    url = urlparse(stack.api_url)
    request = (
        f"GET /healthz HTTP/1.1\r\nHost: {url.hostname}\r\n"
        f"X-Padding: {'a' * 1024 * 1024}\r\n\r\n"
    ).encode()

    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        try:
            conn.sendall(request)
        except OSError:
            # The server may close the connection before the header is sent.
            pass
        status = conn.recv(200).split(b"\r\n", 1)[0].decode()

    assert status == "HTTP/1.1 400 Bad Request"
