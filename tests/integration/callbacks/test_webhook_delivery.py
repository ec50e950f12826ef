"""Webhook callbacks of completed jobs, through the worker, Kafka and Postgres."""

import asyncio
import json
from datetime import datetime, timedelta

import psycopg
import pytest
from standardwebhooks.webhooks import Webhook

from tests.integration.callbacks.conftest import StartReceiver, TenantClient
from tests.integration.callbacks.events import (
    completed_event,
    ended,
    final_row,
    new_job_id,
    publish,
    read_attempts,
)
from tests.integration.verification.servers import ReceivedRequest, Reply
from tests.stack import TEST_ENV, Stack

pytestmark = pytest.mark.integration

MAX_ATTEMPTS = int(TEST_ENV["TIDINGS_VERIFY_WEBHOOK_MAX_ATTEMPTS"])


def hook_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/hooks/verification"


def verified_body(secret: str, request: ReceivedRequest) -> dict:
    """Return the body after the standardwebhooks package verified it."""
    payload = Webhook(secret).verify(request.body, request.headers)
    assert isinstance(payload, dict)
    return payload


async def test_third_attempt_same_webhook_id(
    stack: Stack,
    tenant: TenantClient,
    start_receiver: StartReceiver,
    db: psycopg.Connection,
) -> None:
    receiver = await start_receiver(Reply(status=204))
    receiver.then(Reply(status=500), Reply(status=502))
    secret = tenant.http.get("/v1/webhooks/secret").json()["secret"]
    job_id = new_job_id()

    await publish(
        stack, completed_event(tenant.tenant_id, job_id, hook_url(receiver.port))
    )
    attempts = await read_attempts(stack, job_id, ended)

    webhook_ids = {request.headers["webhook-id"] for request in receiver.requests}
    bodies = [verified_body(secret, request) for request in receiver.requests]
    assert len(receiver.requests) == 3
    assert len(webhook_ids) == 1
    assert [e.data["attempt"] for e in attempts] == [1, 2, 3]
    assert [e.data["outcome"] for e in attempts] == ["failed", "failed", "delivered"]
    assert [e.data["status_code"] for e in attempts] == [500, 502, 204]
    assert {e.data["webhook_id"] for e in attempts} == webhook_ids
    assert {e.tenantid for e in attempts} == {tenant.tenant_id}
    assert attempts[0].data["next_attempt_at"] is not None
    assert attempts[2].data["next_attempt_at"] is None
    assert {body["job_id"] for body in bodies} == {job_id}
    assert {body["tenant_id"] for body in bodies} == {tenant.tenant_id}
    assert bodies[0]["data"]["verdict"] == "pass"
    assert bodies[0] == bodies[2]
    assert await final_row(db, tenant.tenant_id, job_id) == ("delivered", 3)


async def test_failing_receiver_gives_up(
    stack: Stack,
    tenant: TenantClient,
    start_receiver: StartReceiver,
    db: psycopg.Connection,
) -> None:
    receiver = await start_receiver(Reply(status=503))
    job_id = new_job_id()

    await publish(
        stack, completed_event(tenant.tenant_id, job_id, hook_url(receiver.port))
    )
    attempts = await read_attempts(stack, job_id, ended)

    outcomes = [e.data["outcome"] for e in attempts]
    assert outcomes == ["failed"] * (MAX_ATTEMPTS - 1) + ["gave_up"]
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert attempts[-1].data["next_attempt_at"] is None
    assert await final_row(db, tenant.tenant_id, job_id) == ("gave_up", MAX_ATTEMPTS)


async def test_retry_after_delays_next_attempt(
    stack: Stack, tenant: TenantClient, start_receiver: StartReceiver
) -> None:
    receiver = await start_receiver(Reply(status=200))
    receiver.then(Reply(status=429, headers={"Retry-After": "2"}))
    job_id = new_job_id()

    await publish(
        stack, completed_event(tenant.tenant_id, job_id, hook_url(receiver.port))
    )
    attempts = await read_attempts(stack, job_id, ended)

    first = attempts[0]
    planned = datetime.fromisoformat(first.data["next_attempt_at"])
    sent = [int(request.headers["webhook-timestamp"]) for request in receiver.requests]
    assert [e.data["outcome"] for e in attempts] == ["failed", "delivered"]
    assert planned - first.time >= timedelta(seconds=2)
    assert sent[1] - sent[0] >= 2


async def test_private_callback_rejected(
    stack: Stack, tenant: TenantClient, db: psycopg.Connection
) -> None:
    # The test stack allow-lists 127.0.0.0/8 only; 10.0.0.0/8 stays blocked,
    # and a literal address needs no DNS lookup, so nothing leaves the host.
    job_id = new_job_id()

    await publish(
        stack, completed_event(tenant.tenant_id, job_id, "http://10.20.30.40/hook")
    )
    attempts = await read_attempts(stack, job_id, ended)
    # More attempts would follow within a few poll intervals if it retried.
    await asyncio.sleep(3)
    later = await read_attempts(stack, job_id, lambda found: False, timeout=5)

    assert [e.data["outcome"] for e in attempts] == ["rejected"]
    assert "private" in attempts[0].data["error"]
    assert len(later) == 1
    assert await final_row(db, tenant.tenant_id, job_id) == ("rejected", 1)


async def test_duplicate_completion_one_delivery(
    stack: Stack,
    tenant: TenantClient,
    start_receiver: StartReceiver,
    db: psycopg.Connection,
) -> None:
    receiver = await start_receiver(Reply(status=200))
    job_id = new_job_id()
    url = hook_url(receiver.port)
    completed = completed_event(tenant.tenant_id, job_id, url)
    # The same event twice (a producer retry), then a second completion of
    # the job under a new event id (a stage that ran twice).
    again = completed_event(tenant.tenant_id, job_id, url)

    await publish(stack, completed, completed, again)
    attempts = await read_attempts(stack, job_id, ended)
    await asyncio.sleep(3)
    later = await read_attempts(stack, job_id, lambda found: False, timeout=5)

    rows = db.execute(
        "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = %s AND job_id = %s",
        (tenant.tenant_id, job_id),
    ).fetchone()
    assert [e.data["outcome"] for e in attempts] == ["delivered"]
    assert len(later) == 1
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0].body)["id"] == completed.id
    assert rows == (1,)


async def test_completion_without_callback_url(
    stack: Stack, tenant: TenantClient, db: psycopg.Connection
) -> None:
    job_id = new_job_id()
    marker_job = new_job_id()

    # A rejected delivery published after it marks when the first was handled.
    await publish(
        stack,
        completed_event(tenant.tenant_id, job_id, None),
        completed_event(tenant.tenant_id, marker_job, "http://10.0.0.9/hook"),
    )
    await read_attempts(stack, marker_job, ended)
    rows = db.execute(
        "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = %s AND job_id = %s",
        (tenant.tenant_id, job_id),
    ).fetchone()

    assert rows == (0,)


async def test_rotated_secret_signs_twice(
    stack: Stack, tenant: TenantClient, start_receiver: StartReceiver
) -> None:
    receiver = await start_receiver(Reply(status=200))
    old = tenant.http.get("/v1/webhooks/secret").json()["secret"]
    rotated = tenant.http.post("/v1/webhooks/secret/rotate").json()
    job_id = new_job_id()

    await publish(
        stack, completed_event(tenant.tenant_id, job_id, hook_url(receiver.port))
    )
    await read_attempts(stack, job_id, ended)
    request = receiver.requests[0]

    assert rotated["secret"] != old
    assert rotated["previous_secret_valid_until"] is not None
    assert verified_body(old, request)["job_id"] == job_id
    assert verified_body(rotated["secret"], request)["job_id"] == job_id
    assert len(request.headers["webhook-signature"].split(" ")) == 2
