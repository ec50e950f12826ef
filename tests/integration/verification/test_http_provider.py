"""The generic provider against misbehaving servers on 127.0.0.1."""

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.verification.adverse import AdverseCategory, assess_search_results
from connectors.verification.breaker import BreakerState
from connectors.verification.clock import ManualClock
from connectors.verification.errors import (
    ProviderConnectionError,
    ProviderResponseError,
    ProviderStatusError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from connectors.verification.http_provider import (
    HttpProvider,
    HttpProviderConfig,
    Record,
)
from connectors.verification.limits import TenantLimiter
from connectors.verification.records import to_registry_record, to_search_result
from connectors.verification.registry import RegistrySubject, compare_registry_record
from connectors.verification.resilience import (
    AttemptReport,
    CallContext,
    ProviderGuard,
    build_guard,
)
from connectors.verification.settings import ProviderSettings
from tests.integration.verification.conftest import StartServer
from tests.integration.verification.servers import (
    Reply,
    closed_port,
    json_reply,
)

CONTEXT = CallContext(tenant_id="tenant-a", job_id="job-1", lane="realtime")
TIMEOUT = 0.3

BRAVE_RESPONSE = {
    "type": "search",
    "web": {
        "results": [
            {
                "title": "深圳示例科技有限公司 涉嫌合同诈骗",
                "url": "https://news.test/1",
                "description": "警方已立案调查",
            },
            {
                "title": "深圳示例科技 opens office",
                "url": "https://news.test/2",
                "description": "New office in Nanshan",
            },
        ]
    },
}


def make_provider(
    base_url: str,
    clock: ManualClock,
    client: httpx.AsyncClient,
    *,
    preset: str = "brave_web_search",
    **overrides: Any,
) -> tuple[HttpProvider, ProviderGuard[list[Record]]]:
    options: dict[str, Any] = {
        "timeout_seconds": TIMEOUT,
        "max_attempts": 3,
        "breaker_failure_threshold": 3,
        "breaker_open_seconds": 30.0,
        **overrides,
    }
    settings = ProviderSettings(
        base_url=base_url, preset=preset, api_key=SecretStr("test-key"), **options
    )
    guard: ProviderGuard[list[Record]] = build_guard(
        "web_search", settings, clock=clock, tenants=TenantLimiter(4)
    )
    config = HttpProviderConfig.from_settings("web_search", settings)
    return HttpProvider(config, client, guard=guard, clock=clock), guard


async def test_response_mapped_to_evidence(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(json_reply(BRAVE_RESPONSE))
    provider, _ = make_provider(server.url, ManualClock(), http_client)

    records = await provider.query({"query": "深圳示例科技"}, CONTEXT)
    assessment = assess_search_results(
        [to_search_result(record) for record in records], "深圳示例科技有限公司"
    )

    assert [item.url for item in assessment.evidence] == ["https://news.test/1"]
    assert AdverseCategory.FRAUD in assessment.categories


async def test_request_carries_auth_and_query(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(json_reply(BRAVE_RESPONSE))
    provider, _ = make_provider(server.url, ManualClock(), http_client)

    await provider.query({"query": "acme ltd"}, CONTEXT)

    request = server.requests[0]
    assert request.headers["x-subscription-token"] == "test-key"
    assert request.target == "/res/v1/web/search?q=acme%20ltd&count=10"


async def test_slow_provider_times_out(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(Reply(delay=5.0))
    provider, _ = make_provider(server.url, ManualClock(), http_client, max_attempts=2)

    with pytest.raises(ProviderTimeoutError) as caught:
        await provider.query({"query": "acme"}, CONTEXT)

    assert caught.value.reason == "timeout"
    assert len(server.requests) == 2


async def test_server_errors_then_success(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(json_reply(BRAVE_RESPONSE))
    server.then(Reply(status=500), Reply(status=503))
    provider, _ = make_provider(server.url, ManualClock(), http_client)
    reports: list[AttemptReport] = []

    records = await provider.query(
        {"query": "acme"}, CONTEXT, on_attempt=reports.append
    )

    assert len(records) == 2
    assert [report.status_code for report in reports] == [500, 503, None]
    assert [report.outcome for report in reports][-1] == "ok"


async def test_retry_after_honoured(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(json_reply(BRAVE_RESPONSE))
    server.then(Reply(status=429, headers={"Retry-After": "7"}))
    clock = ManualClock()
    provider, _ = make_provider(server.url, clock, http_client)

    await provider.query({"query": "acme"}, CONTEXT)

    assert clock.sleeps == [7.0]
    assert len(server.requests) == 2


async def test_retry_after_too_long_gives_up(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(Reply(status=503, headers={"Retry-After": "3600"}))
    provider, _ = make_provider(server.url, ManualClock(), http_client)

    with pytest.raises(ProviderStatusError) as caught:
        await provider.query({"query": "acme"}, CONTEXT)

    assert caught.value.retry_after == 3600.0
    assert len(server.requests) == 1


async def test_malformed_json_not_retried(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(Reply(body=b'{"web": {"results": [', headers={}))
    provider, _ = make_provider(server.url, ManualClock(), http_client)

    with pytest.raises(ProviderResponseError, match="not valid JSON") as caught:
        await provider.query({"query": "acme"}, CONTEXT)

    assert isinstance(caught.value.__cause__, json.JSONDecodeError)
    assert len(server.requests) == 1


async def test_wrong_shape_is_malformed(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(json_reply({"web": {"results": {"oops": 1}}}))
    provider, _ = make_provider(server.url, ManualClock(), http_client)

    with pytest.raises(ProviderResponseError, match=r"lacks \['url'\]"):
        await provider.query({"query": "acme"}, CONTEXT)


async def test_connection_refused(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    provider, _ = make_provider(
        f"http://127.0.0.1:{closed_port()}", ManualClock(), http_client
    )

    with pytest.raises(ProviderConnectionError) as caught:
        await provider.query({"query": "acme"}, CONTEXT)

    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_dropped_connection(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(Reply(drop=True))
    provider, _ = make_provider(server.url, ManualClock(), http_client, max_attempts=1)

    with pytest.raises(ProviderConnectionError) as caught:
        await provider.query({"query": "acme"}, CONTEXT)

    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)


async def test_garbage_response(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(Reply(raw=b"SMTP ready\r\n\r\n"))
    provider, _ = make_provider(server.url, ManualClock(), http_client, max_attempts=1)

    with pytest.raises(ProviderConnectionError):
        await provider.query({"query": "acme"}, CONTEXT)


async def test_bad_gzip_body(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    reply = Reply(body=b"not gzip", headers={"Content-Encoding": "gzip"})
    server = await start_server(reply)
    provider, _ = make_provider(server.url, ManualClock(), http_client)

    with pytest.raises(ProviderResponseError, match="decoded") as caught:
        await provider.query({"query": "acme"}, CONTEXT)

    assert isinstance(caught.value.__cause__, httpx.DecodingError)


async def test_oversized_response(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(json_reply({"web": {"results": []}, "pad": "x" * 5000}))
    provider, _ = make_provider(server.url, ManualClock(), http_client)
    config = HttpProviderConfig(
        **{**provider.config.__dict__, "max_response_bytes": 1000}
    )
    small = HttpProvider(config, http_client)

    with pytest.raises(ProviderResponseError, match="larger than 1,000 bytes"):
        await small.fetch_records({"query": "acme"})


async def test_client_error_not_retried(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(json_reply({"error": "bad key"}, status=401))
    provider, guard = make_provider(server.url, ManualClock(), http_client)

    with pytest.raises(ProviderStatusError, match="HTTP 401") as caught:
        await provider.query({"query": "acme"}, CONTEXT)

    assert caught.value.status_code == 401
    assert len(server.requests) == 1
    assert guard.breaker.state is BreakerState.CLOSED


async def test_provider_recovers_after_failures(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(json_reply(BRAVE_RESPONSE))
    server.then(Reply(status=500), Reply(status=500), Reply(status=500))
    clock = ManualClock()
    provider, guard = make_provider(server.url, clock, http_client, max_attempts=1)

    for _ in range(3):
        with pytest.raises(ProviderStatusError):
            await provider.query({"query": "acme"}, CONTEXT)
    with pytest.raises(ProviderUnavailableError):
        await provider.query({"query": "acme"}, CONTEXT)
    requests_while_open = len(server.requests)
    clock.advance(30.0)
    records = await provider.query({"query": "acme"}, CONTEXT)

    assert requests_while_open == 3
    assert len(records) == 2
    assert guard.breaker.state is BreakerState.CLOSED


async def test_equivalent_queries_cached(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    server = await start_server(json_reply(BRAVE_RESPONSE))
    provider, _ = make_provider(server.url, ManualClock(), http_client)

    first = await provider.query({"query": "ＡＣＭＥ  華為"}, CONTEXT)
    second = await provider.query({"query": "acme 华为"}, CONTEXT)

    assert second == first
    assert len(server.requests) == 1


async def test_registry_record_compared(
    start_server: StartServer, http_client: httpx.AsyncClient
) -> None:
    response = {
        "data": {
            "companies": [
                {
                    "registered_name": "深圳示例科技有限公司",
                    "registration_number": "91440300EXAMPLE0001",
                    "status": "吊销",
                    "legal_representative": {"name": "张三"},
                }
            ]
        }
    }
    server = await start_server(json_reply(response))
    provider, _ = make_provider(
        server.url, ManualClock(), http_client, preset="company_registry"
    )

    records = await provider.query({"name": "深圳示例科技有限公司"}, CONTEXT)
    comparison = compare_registry_record(
        RegistrySubject(name="深圳示例科技有限公司"), to_registry_record(records[0])
    )

    assert server.requests[0].headers["authorization"] == "Bearer test-key"
    assert comparison.name_matches
    assert comparison.status == "revoked"
