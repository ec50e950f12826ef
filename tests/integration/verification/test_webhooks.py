"""Webhook delivery to receivers on 127.0.0.1: signatures, retries, the same id."""

import asyncio
import time

import pytest
from standardwebhooks.webhooks import Webhook

from connectors.verification.clock import ManualClock
from connectors.verification.retry import RetryPolicy
from connectors.verification.url_guard import UrlGuard
from connectors.verification.webhooks import (
    DeliveryAttempt,
    DeliveryResult,
    WebhookSender,
    generate_secret,
    webhook_id_for,
)
from tests.integration.verification.conftest import FakeResolver, StartServer
from tests.integration.verification.servers import (
    ReceivedRequest,
    Reply,
    closed_port,
    redirect_reply,
)

BODY = b'{"type":"verification.completed","data":{"job_id":"job-1","verdict":"pass"}}'
SECRET = generate_secret()
WEBHOOK_ID = webhook_id_for("tenant-a", "event-1")


@pytest.fixture()
def clock() -> ManualClock:
    # Receivers reject timestamps more than five minutes from their own clock.
    return ManualClock(wall_start=time.time())


def make_sender(
    resolver: FakeResolver, clock: ManualClock, max_attempts: int = 4
) -> WebhookSender:
    return WebhookSender(
        guard=UrlGuard(allow_networks=["127.0.0.0/8"], resolver=resolver),
        policy=RetryPolicy(
            max_attempts=max_attempts,
            base_delay=1.0,
            max_delay=8.0,
            max_retry_after=60.0,
        ),
        clock=clock,
        timeout=0.3,
    )


def hook_url(port: int) -> str:
    return f"http://hooks.test:{port}/callbacks"


def verify(request: ReceivedRequest) -> object:
    return Webhook(SECRET).verify(request.body, request.headers)


async def deliver(
    sender: WebhookSender, url: str, attempts: list[DeliveryAttempt]
) -> DeliveryResult:
    return await sender.deliver(
        url,
        BODY,
        secret=SECRET,
        webhook_id=WEBHOOK_ID,
        tenant_id="tenant-a",
        job_id="job-1",
        on_attempt=attempts.append,
    )


async def test_signature_verifies(
    start_server: StartServer, resolver: FakeResolver, clock: ManualClock
) -> None:
    server = await start_server(Reply(status=204))
    attempts: list[DeliveryAttempt] = []

    result = await deliver(
        make_sender(resolver, clock), hook_url(server.port), attempts
    )

    assert result.delivered
    assert verify(server.requests[0]) == {
        "type": "verification.completed",
        "data": {"job_id": "job-1", "verdict": "pass"},
    }


async def test_third_attempt_same_id(
    start_server: StartServer, resolver: FakeResolver, clock: ManualClock
) -> None:
    server = await start_server(Reply(status=200))
    server.then(Reply(status=500), Reply(status=503))
    attempts: list[DeliveryAttempt] = []

    result = await deliver(
        make_sender(resolver, clock), hook_url(server.port), attempts
    )

    assert result.delivered
    assert len(server.requests) == 3
    assert {r.headers["webhook-id"] for r in server.requests} == {WEBHOOK_ID}
    assert {a.webhook_id for a in attempts} == {WEBHOOK_ID}
    assert [a.outcome for a in attempts] == ["failed", "failed", "delivered"]
    assert [a.status_code for a in attempts] == [500, 503, 200]
    for request in server.requests:
        verify(request)


async def test_attempts_report_backoff(
    start_server: StartServer, resolver: FakeResolver, clock: ManualClock
) -> None:
    server = await start_server(Reply(status=200))
    server.then(Reply(status=500))
    attempts: list[DeliveryAttempt] = []

    await deliver(make_sender(resolver, clock), hook_url(server.port), attempts)

    assert attempts[0].retry_in == clock.sleeps[0]
    assert attempts[1].retry_in is None
    assert attempts[1].timestamp >= attempts[0].timestamp


async def test_retry_after_respected(
    start_server: StartServer, resolver: FakeResolver, clock: ManualClock
) -> None:
    server = await start_server(Reply(status=200))
    server.then(Reply(status=429, headers={"Retry-After": "30"}))

    await deliver(make_sender(resolver, clock), hook_url(server.port), [])

    assert clock.sleeps == [30.0]


async def test_gives_up_after_max_attempts(
    start_server: StartServer, resolver: FakeResolver, clock: ManualClock
) -> None:
    server = await start_server(Reply(status=503))
    attempts: list[DeliveryAttempt] = []

    result = await deliver(
        make_sender(resolver, clock, max_attempts=3), hook_url(server.port), attempts
    )

    assert not result.delivered
    assert len(server.requests) == 3
    assert attempts[-1].retry_in is None


@pytest.mark.parametrize("reply", [Reply(status=400), redirect_reply("/elsewhere")])
async def test_final_status_not_retried(
    start_server: StartServer, resolver: FakeResolver, clock: ManualClock, reply: Reply
) -> None:
    server = await start_server(reply)

    result = await deliver(make_sender(resolver, clock), hook_url(server.port), [])

    assert not result.delivered
    assert len(server.requests) == 1


async def test_receiver_down_retried(
    resolver: FakeResolver, clock: ManualClock
) -> None:
    attempts: list[DeliveryAttempt] = []

    result = await deliver(
        make_sender(resolver, clock, max_attempts=2), hook_url(closed_port()), attempts
    )

    assert not result.delivered
    assert len(attempts) == 2
    assert attempts[0].error is not None
    assert "connection failed" in attempts[0].error


async def test_slow_receiver_times_out(
    start_server: StartServer, resolver: FakeResolver, clock: ManualClock
) -> None:
    server = await start_server(Reply(status=200))
    server.then(Reply(delay=5.0))
    attempts: list[DeliveryAttempt] = []

    result = await deliver(
        make_sender(resolver, clock), hook_url(server.port), attempts
    )

    assert result.delivered
    assert attempts[0].error is not None
    assert "timed out" in attempts[0].error


async def test_internal_callback_rejected(
    resolver: FakeResolver, clock: ManualClock
) -> None:
    attempts: list[DeliveryAttempt] = []

    result = await deliver(
        make_sender(resolver, clock), "http://intranet.test/hook", attempts
    )

    assert not result.delivered
    assert [a.outcome for a in attempts] == ["rejected"]


async def test_async_listener_awaited(
    start_server: StartServer, resolver: FakeResolver, clock: ManualClock
) -> None:
    server = await start_server(Reply(status=200))
    seen: list[int] = []

    async def record(attempt: DeliveryAttempt) -> None:
        seen.append(attempt.attempt)

    await make_sender(resolver, clock).deliver(
        hook_url(server.port),
        BODY,
        secret=SECRET,
        webhook_id=WEBHOOK_ID,
        tenant_id="tenant-a",
        job_id="job-1",
        on_attempt=record,
    )

    assert seen == [1]


async def test_redelivery_keeps_id(
    start_server: StartServer, resolver: FakeResolver, clock: ManualClock
) -> None:
    server = await start_server(Reply(status=200))
    sender = make_sender(resolver, clock)

    # A replayed completion derives the same id, so the receiver can drop it.
    for _ in range(2):
        await sender.deliver(
            hook_url(server.port),
            BODY,
            secret=SECRET,
            webhook_id=webhook_id_for("tenant-a", "event-1"),
            tenant_id="tenant-a",
            job_id="job-1",
        )

    assert {r.headers["webhook-id"] for r in server.requests} == {WEBHOOK_ID}


async def test_trickling_receiver_times_out(
    resolver: FakeResolver, clock: ManualClock
) -> None:
    # Each byte comes within the per-read timeout, but the whole response
    # never ends, so only the limit on the whole request stops it.
    async def trickle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        try:
            for _ in range(600):
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    attempts: list[DeliveryAttempt] = []
    try:
        result = await deliver(
            make_sender(resolver, clock, max_attempts=1), hook_url(port), attempts
        )
    finally:
        server.close()

    assert not result.delivered
    assert attempts[0].error is not None
    assert "timed out" in attempts[0].error
