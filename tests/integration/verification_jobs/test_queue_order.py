"""The claim order of the job queue, on a copy of the queue table.

The copy lives in a schema of its own, so the stack's runners, which claim
from the real table, never see these rows.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import AsyncConnection, sql

from connectors.verification_queue import (
    claim_job,
    enqueue_job,
    extend_lease,
    finish_job,
)
from schemas import topics
from schemas.envelope import CloudEvent
from tests.stack import Stack

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = 60.0


@pytest.fixture()
async def queue(stack: Stack) -> AsyncIterator[AsyncConnection]:
    schema = f"queue_test_{uuid.uuid4().hex[:8]}"
    conn = await AsyncConnection.connect(stack.database_url, autocommit=True)
    await conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    await conn.execute(
        sql.SQL(
            "CREATE TABLE {}.verification_queue "
            "(LIKE public.verification_queue INCLUDING ALL)"
        ).format(sql.Identifier(schema))
    )
    await conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    try:
        yield conn
    finally:
        await conn.execute(
            sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema))
        )
        await conn.close()


async def add(conn: AsyncConnection, tenant: str, priority: str, minute: int) -> str:
    job_id = f"vjob_{uuid.uuid4().hex[:24]}"
    event = CloudEvent(
        type=topics.VERIFICATION_REQUESTED.event_type,
        source="tests",
        subject=job_id,
        tenantid=tenant,
        time=START + timedelta(minutes=minute),
        data={"job_id": job_id, "priority": priority},
    )
    assert await enqueue_job(conn, event)
    return job_id


async def claim(conn: AsyncConnection, cap: int = 2) -> str | None:
    job = await claim_job(conn, "test-runner", lease_seconds=LEASE, tenant_cap=cap)
    return None if job is None else job.job_id


async def test_realtime_before_older_batch(queue: AsyncConnection) -> None:
    await add(queue, "tenant-a", "batch", 0)
    urgent = await add(queue, "tenant-a", "realtime", 5)

    assert await claim(queue) == urgent


async def test_oldest_first_within_lane(queue: AsyncConnection) -> None:
    first = await add(queue, "tenant-a", "batch", 0)
    second = await add(queue, "tenant-a", "batch", 1)

    assert await claim(queue) == first
    assert await claim(queue) == second


async def test_idle_tenant_before_busy_one(queue: AsyncConnection) -> None:
    for minute in range(3):
        await add(queue, "tenant-a", "batch", minute)
    await claim(queue)
    newcomer = await add(queue, "tenant-b", "batch", 10)

    # tenant-a has a job in progress and older jobs waiting; tenant-b none.
    assert await claim(queue) == newcomer


async def test_tenant_cap_holds_back_jobs(queue: AsyncConnection) -> None:
    for minute in range(4):
        await add(queue, "tenant-a", "batch", minute)

    claimed = [await claim(queue, cap=2) for _ in range(3)]

    assert claimed[0] is not None
    assert claimed[1] is not None
    assert claimed[2] is None


async def test_finished_job_frees_slot(queue: AsyncConnection) -> None:
    for minute in range(3):
        await add(queue, "tenant-a", "batch", minute)
    first = await claim(queue, cap=1)
    assert first is not None
    assert await claim(queue, cap=1) is None

    await finish_job(queue, first)

    assert await claim(queue, cap=1) is not None


async def test_expired_lease_claimed_again(queue: AsyncConnection) -> None:
    job_id = await add(queue, "tenant-a", "batch", 0)
    assert await claim(queue) == job_id
    await queue.execute(
        "UPDATE verification_queue SET lease_until = now() - interval '1 second'"
    )

    job = await claim_job(queue, "other-runner", lease_seconds=LEASE, tenant_cap=2)

    assert job is not None
    assert job.job_id == job_id
    assert job.runs == 2
    assert not await extend_lease(queue, job_id, "test-runner", LEASE)
    assert await extend_lease(queue, job_id, "other-runner", LEASE)


async def test_duplicate_enqueue_ignored(queue: AsyncConnection) -> None:
    job_id = await add(queue, "tenant-a", "batch", 0)
    event = CloudEvent(
        type=topics.VERIFICATION_REQUESTED.event_type,
        source="tests",
        subject=job_id,
        tenantid="tenant-a",
        data={"job_id": job_id, "priority": "batch"},
    )

    assert not await enqueue_job(queue, event)
    rows = await (
        await queue.execute("SELECT count(*) FROM verification_queue")
    ).fetchone()
    assert rows == (1,)


def test_schema_copy_dropped(stack: Stack) -> None:
    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM information_schema.schemata "
            "WHERE schema_name LIKE 'queue_test_%'"
        ).fetchone()

    assert rows == (0,)
