"""The access log middleware: one line per request, with status and ids."""

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from structlog.testing import capture_logs

from api.access_log import AccessLog

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def tenant_route(request: Request) -> PlainTextResponse:
    request.state.tenant_id = "tnt_a"
    return PlainTextResponse("ok")


async def failing_route(request: Request) -> PlainTextResponse:
    raise RuntimeError("boom")


async def probe(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = AccessLog(
    Starlette(
        routes=[
            Route("/v1/things", tenant_route),
            Route("/v1/broken", failing_route),
            Route("/healthz", probe),
        ]
    )
)


async def get(path: str, **kwargs) -> list[dict]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with capture_logs() as logs:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test"
        ) as client:
            await client.get(path, **kwargs)
    return [entry for entry in logs if entry["event"] == "http_request"]


async def test_access_log_records_request() -> None:
    [entry] = await get("/v1/things", headers={"traceparent": TRACEPARENT})

    assert entry["method"] == "GET"
    assert entry["path"] == "/v1/things"
    assert entry["status"] == 200
    assert entry["tenant_id"] == "tnt_a"
    assert entry["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert entry["duration_ms"] >= 0


async def test_access_log_records_server_error() -> None:
    [entry] = await get("/v1/broken")

    assert entry["status"] == 500
    assert entry["tenant_id"] is None


async def test_access_log_skips_probes() -> None:
    assert await get("/healthz") == []


async def test_access_log_escapes_control_characters() -> None:
    [entry] = await get("/v1/missing%00line%0Abreak")

    assert entry["path"] == "/v1/missing\\x00line\\x0abreak"
    assert entry["status"] == 404
