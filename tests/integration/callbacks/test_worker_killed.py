"""A worker killed during a webhook attempt: the attempt is made again under
the same webhook id, and the delivery ends once."""

import asyncio
import os
import signal
import time

import psycopg
import pytest

from tests.integration.callbacks.conftest import StartReceiver, TenantClient
from tests.integration.callbacks.events import (
    completed_event,
    ended,
    final_row,
    new_job_id,
    publish,
    read_attempts,
)
from tests.integration.verification.servers import Reply
from tests.stack import Stack

pytestmark = pytest.mark.integration


async def test_worker_killed_mid_attempt(
    stack: Stack,
    tenant: TenantClient,
    start_receiver: StartReceiver,
    db: psycopg.Connection,
) -> None:
    receiver = await start_receiver(Reply(status=200))
    # The first request is held open until the worker is gone.
    receiver.then(Reply(status=200, delay=30.0))
    job_id = new_job_id()
    url = f"http://127.0.0.1:{receiver.port}/hooks/verification"

    await publish(stack, completed_event(tenant.tenant_id, job_id, url))
    deadline = time.monotonic() + 60
    while not receiver.requests and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert receiver.requests, "the worker made no attempt within 60 s"
    killed = stack.worker_pid()
    os.kill(killed, signal.SIGKILL)
    attempts = await read_attempts(stack, job_id, ended, timeout=240)

    webhook_ids = {request.headers["webhook-id"] for request in receiver.requests}
    row = await final_row(db, tenant.tenant_id, job_id)
    assert stack.worker_pid() != killed
    assert len(receiver.requests) >= 2
    assert len(webhook_ids) == 1
    assert [e.data["outcome"] for e in attempts] == ["delivered"]
    assert {e.data["webhook_id"] for e in attempts} == webhook_ids
    assert row[0] == "delivered"
