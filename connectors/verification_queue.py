"""The Postgres work queue that verification runners claim jobs from.

Kafka's partition order gives neither a realtime lane nor fairness between
tenants, so the intake stage copies each requested job into this table and
runners claim jobs in fair order:

1. realtime jobs before batch jobs;
2. then the tenant with the fewest jobs in progress, skipping tenants that
   already have `tenant_cap` jobs in progress;
3. then the oldest job.

A claim sets a lease. A runner that dies leaves its lease to expire, and
another runner then takes the job again, so no job stays pending.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from schemas.envelope import CloudEvent

# Postgres channel on which a new job is announced, so idle runners wake
# at once instead of at their next poll.
QUEUE_CHANNEL = "verification_queue"

# Serializes claims, so two runners never both take a tenant's last free slot.
# Any constant works if every process uses the same one.
CLAIM_LOCK_ID = 0x7E21_F1C0


@dataclass(frozen=True)
class ClaimedJob:
    job_id: str
    tenant_id: str
    priority: str
    runs: int
    request: dict[str, Any]


def event_to_json(event: CloudEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "tenantid": event.tenantid,
        "time": event.time.isoformat(),
        "requestid": event.requestid,
        "traceparent": event.traceparent,
        "data": event.data,
    }


def event_from_json(document: dict[str, Any]) -> CloudEvent:
    return CloudEvent(**{**document, "time": datetime.fromisoformat(document["time"])})


async def enqueue_job(conn: AsyncConnection, requested: CloudEvent) -> bool:
    """Queue the job of a `verification.requested` event.

    Returns False when the job was already queued. The API queues a job as
    soon as Kafka has its request, and the intake stage queues it again from
    the event, which covers an API that stopped in between.
    """
    data = requested.data
    cursor = await conn.execute(
        "INSERT INTO verification_queue (job_id, tenant_id, priority, enqueued_at, "
        " request) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (job_id) DO NOTHING",
        (
            data["job_id"],
            requested.tenantid,
            data.get("priority", "batch"),
            requested.time,
            Jsonb(event_to_json(requested)),
        ),
    )
    added = cursor.rowcount == 1
    if added:
        # Delivered when the transaction commits.
        await conn.execute(f"NOTIFY {QUEUE_CHANNEL}")
    return added


_CLAIM = """
WITH busy AS (
    SELECT tenant_id, count(*) AS running
    FROM verification_queue
    WHERE finished_at IS NULL AND lease_until > now()
    GROUP BY tenant_id
), candidate AS (
    SELECT q.job_id
    FROM verification_queue q
    LEFT JOIN busy b USING (tenant_id)
    WHERE q.finished_at IS NULL
      AND (q.lease_until IS NULL OR q.lease_until <= now())
      AND COALESCE(b.running, 0) < %(cap)s
    ORDER BY (q.priority = 'realtime') DESC, COALESCE(b.running, 0), q.enqueued_at,
        q.job_id
    LIMIT 1
    FOR UPDATE OF q SKIP LOCKED
)
UPDATE verification_queue q
SET lease_owner = %(owner)s,
    lease_until = now() + make_interval(secs => %(lease)s),
    runs = q.runs + 1
FROM candidate
WHERE q.job_id = candidate.job_id
RETURNING q.job_id, q.tenant_id, q.priority, q.runs, q.request
"""


async def claim_job(
    conn: AsyncConnection, owner: str, *, lease_seconds: float, tenant_cap: int
) -> ClaimedJob | None:
    """Claim the next job in fair order for `lease_seconds`, or return None."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (CLAIM_LOCK_ID,))
        cursor = await conn.execute(
            _CLAIM, {"owner": owner, "lease": lease_seconds, "cap": tenant_cap}
        )
        row = await cursor.fetchone()
    if row is None:
        return None
    return ClaimedJob(
        job_id=row[0], tenant_id=row[1], priority=row[2], runs=row[3], request=row[4]
    )


async def extend_lease(
    conn: AsyncConnection, job_id: str, owner: str, lease_seconds: float
) -> bool:
    """Extend a held lease; return False when another runner took the job."""
    cursor = await conn.execute(
        "UPDATE verification_queue "
        "SET lease_until = now() + make_interval(secs => %s) "
        "WHERE job_id = %s AND lease_owner = %s AND finished_at IS NULL",
        (lease_seconds, job_id, owner),
    )
    return cursor.rowcount == 1


async def finish_job(conn: AsyncConnection, job_id: str) -> None:
    """Mark a job done once its completion event is acknowledged."""
    await conn.execute(
        "UPDATE verification_queue SET finished_at = now(), lease_until = NULL "
        "WHERE job_id = %s AND finished_at IS NULL",
        (job_id,),
    )


async def count_open_jobs(conn: AsyncConnection) -> int:
    """Return the number of jobs not finished yet."""
    cursor = await conn.execute(
        "SELECT count(*) FROM verification_queue WHERE finished_at IS NULL"
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0
