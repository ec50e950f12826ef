"""`GET /v1/events`: live verification events per tenant, over the real stack."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from schemas import topics
from tests.integration.callbacks.conftest import TenantClient
from tests.integration.callbacks.events import (
    checked_event,
    completed_event,
    new_job_id,
    publish,
    requested_event,
)
from tests.integration.callbacks.sse import EventStream
from tests.stack import Stack

pytestmark = pytest.mark.integration


@asynccontextmanager
async def open_stream(
    stack: Stack, api_key: str, **options: str
) -> AsyncIterator[EventStream]:
    headers = {"Authorization": f"Bearer {api_key}"}
    last_event_id = options.pop("last_event_id", None)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    timeout = httpx.Timeout(10.0, read=None)
    async with httpx.AsyncClient(
        base_url=stack.api_url, timeout=timeout, trust_env=False
    ) as client:
        async with client.stream(
            "GET", "/v1/events", headers=headers, params=options
        ) as response:
            # The server subscribes before it sends the response head, so
            # every event published from here on reaches this stream.
            assert response.status_code == 200, await response.aread()
            yield EventStream(response)


async def test_stream_tenant_events_in_order(
    stack: Stack, tenant: TenantClient, other_tenant: TenantClient
) -> None:
    job_id = new_job_id()
    other_job = new_job_id()
    mine = [
        requested_event(tenant.tenant_id, job_id),
        checked_event(tenant.tenant_id, job_id),
        completed_event(tenant.tenant_id, job_id, None),
    ]
    theirs = [
        requested_event(other_tenant.tenant_id, other_job),
        completed_event(other_tenant.tenant_id, other_job, None),
    ]

    async with open_stream(stack, tenant.api_key) as stream:
        # The other tenant's events come between and after this tenant's.
        await publish(stack, theirs[0], mine[0], mine[1], theirs[1], mine[2])
        received = await stream.take(3)

    assert [e.id for e in received] == [e.id for e in mine]
    assert [e.event for e in received] == [e.type for e in mine]
    assert [e.json()["data"]["job_id"] for e in received] == [job_id] * 3
    assert {e.json()["id"] for e in received} == {e.id for e in mine}


async def test_other_tenant_sees_nothing(
    stack: Stack, tenant: TenantClient, other_tenant: TenantClient
) -> None:
    job_id = new_job_id()
    marker_job = new_job_id()

    async with open_stream(stack, other_tenant.api_key) as stream:
        await publish(
            stack,
            requested_event(tenant.tenant_id, job_id),
            completed_event(tenant.tenant_id, job_id, None),
            # Published last, so its arrival means the others were handled.
            requested_event(other_tenant.tenant_id, marker_job),
        )
        first = await stream.next()

    assert first.json()["data"]["job_id"] == marker_job


async def test_job_filter(stack: Stack, tenant: TenantClient) -> None:
    job_id = new_job_id()
    other_job = new_job_id()

    async with open_stream(stack, tenant.api_key, job_id=job_id) as stream:
        await publish(
            stack,
            requested_event(tenant.tenant_id, other_job),
            requested_event(tenant.tenant_id, job_id),
            completed_event(tenant.tenant_id, other_job, None),
            completed_event(tenant.tenant_id, job_id, None),
        )
        received = await stream.take(2)

    assert [e.json()["data"]["job_id"] for e in received] == [job_id, job_id]
    assert [e.event for e in received] == [
        topics.VERIFICATION_REQUESTED.event_type,
        topics.VERIFICATION_COMPLETED.event_type,
    ]


async def test_resume_after_last_event_id(stack: Stack, tenant: TenantClient) -> None:
    job_id = new_job_id()
    events = [
        requested_event(tenant.tenant_id, job_id),
        checked_event(tenant.tenant_id, job_id),
        completed_event(tenant.tenant_id, job_id, None),
    ]

    async with open_stream(stack, tenant.api_key) as stream:
        await publish(stack, events[0])
        first = await stream.next()
    # These arrive while no client is connected.
    await publish(stack, events[1], events[2])
    async with open_stream(stack, tenant.api_key) as stream:
        marker = requested_event(tenant.tenant_id, new_job_id())
        await publish(stack, marker)
        await stream.next()
    async with open_stream(stack, tenant.api_key, last_event_id=first.id) as stream:
        resumed = await stream.take(3)

    assert first.id == events[0].id
    assert [e.id for e in resumed] == [events[1].id, events[2].id, marker.id]


async def test_unknown_last_event_id_resyncs(
    stack: Stack, tenant: TenantClient
) -> None:
    async with open_stream(
        stack, tenant.api_key, last_event_id="no-such-event"
    ) as stream:
        first = await stream.next()

    assert first.event == "tidings.resync"
    assert "no-such-event" in first.json()["detail"]


async def test_stream_needs_api_key(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.api_url, trust_env=False) as client:
        response = await client.get("/v1/events")

    assert response.status_code == 401


async def test_heartbeat_then_clean_close(stack: Stack, tenant: TenantClient) -> None:
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    timeout = httpx.Timeout(10.0, read=None)
    async with httpx.AsyncClient(
        base_url=stack.api_url, timeout=timeout, trust_env=False
    ) as client:
        async with client.stream("GET", "/v1/events", headers=headers) as response:
            lines = response.aiter_lines()
            first = await asyncio.wait_for(anext(lines), 30)
    log_line = await asyncio.to_thread(wait_for_log, stack, tenant.tenant_id)

    # The test stack sends a heartbeat every second.
    assert first.startswith(":")
    assert log_line is not None, "the API logged no event_stream_closed"


def wait_for_log(stack: Stack, tenant_id: str, timeout: float = 15.0) -> str | None:
    """Return the API's event_stream_closed log line for the tenant, if any."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in (stack.run_dir / "api.log").read_text().splitlines():
            if "event_stream_closed" in line and tenant_id in line:
                return line
        time.sleep(0.2)
    return None
