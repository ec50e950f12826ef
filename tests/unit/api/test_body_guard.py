"""The request-body guard rejects a request before the app reads its body."""

import httpx
from psycopg_pool import PoolTimeout
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from api.body_guard import BodyGuard, BodyLimit
from api.pool_errors import POOL_BUSY_DETAIL


async def _accepted(request):
    return PlainTextResponse("accepted")


def _client(check) -> httpx.AsyncClient:
    app = BodyGuard(
        Starlette(routes=[Route("/v1/things", _accepted, methods=["POST"])]),
        prefix="/v1/",
        body_limit=lambda path: BodyLimit(max_bytes=100, margin=0, detail="too big"),
        key_is_valid=lambda scope: check,
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    )


async def _post(check, key: str = "k1") -> httpx.Response:
    async with _client(check) as client:
        return await client.post(
            "/v1/things", content=b"{}", headers={"Authorization": f"Bearer {key}"}
        )


async def test_valid_key_reaches_the_app() -> None:
    async def valid(key: str) -> bool:
        return key == "k1"

    assert (await _post(valid)).text == "accepted"
    assert (await _post(valid, "k2")).status_code == 401


async def test_busy_pool_during_key_check_is_503() -> None:
    async def busy(key: str) -> bool:
        raise PoolTimeout("couldn't get a connection after 5.00 sec")

    response = await _post(busy)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "retry in 5 seconds" in response.json()["detail"]


async def test_guard_body_matches_fastapi_layout() -> None:
    async def busy(key: str) -> bool:
        raise PoolTimeout("couldn't get a connection after 5.00 sec")

    response = await _post(busy)
    expected = JSONResponse({"detail": POOL_BUSY_DETAIL}).body

    assert response.content == expected
