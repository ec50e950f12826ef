"""HTTP requests to an address checked by `UrlGuard`, not to a fresh DNS result."""

import ssl
from dataclasses import dataclass

import httpx

from connectors.verification.url_guard import GuardedUrl

Verify = ssl.SSLContext | bool


@dataclass(frozen=True)
class PinnedResponse:
    """A response whose body was read up to a limit."""

    status_code: int
    headers: httpx.Headers
    body: bytes
    truncated: bool


def new_client(*, timeout: float, verify: Verify = True) -> httpx.AsyncClient:
    """Return a client for pinned requests.

    It ignores proxy environment variables, because a proxy would connect
    to the host name again, and it follows no redirects, because each
    target must pass the guard first. Use one client per target: its pool
    keys connections by address, so a connection opened with one host's
    TLS name must not serve another host on the same address.
    """
    return httpx.AsyncClient(
        timeout=timeout, verify=verify, trust_env=False, follow_redirects=False
    )


async def send_pinned(
    client: httpx.AsyncClient,
    target: GuardedUrl,
    method: str,
    *,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> PinnedResponse:
    """Send a request to the first checked address of `target`.

    The Host header and the TLS server name stay the original host name, so
    virtual hosting and certificate checks work as usual. httpx errors pass
    through for the caller to translate.
    """
    url, host_headers, extensions = target.pinned()
    request = client.build_request(
        method,
        url,
        headers={**(headers or {}), **host_headers},
        content=content,
        extensions=extensions,
    )
    response = await client.send(request, stream=True)
    try:
        body, truncated = await _read_limited(response, max_bytes)
    finally:
        await response.aclose()
    return PinnedResponse(
        status_code=response.status_code,
        headers=response.headers,
        body=body,
        truncated=truncated,
    )


async def _read_limited(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        room = max_bytes - size
        if len(chunk) > room:
            chunks.append(chunk[:room])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False
