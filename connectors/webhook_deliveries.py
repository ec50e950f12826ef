"""The `webhook_deliveries` table: one row per completion with a callback URL.

Rows are keyed by webhook id, which derives from the tenant and the job, so
a completion seen twice schedules one delivery. The row follows the
`verification.callback-attempted` events: an event moves it forward only
when it is newer than the row's last attempt, so replays and events applied
twice change nothing. The table names are parameters so that a
rebuild can fill shadow tables with the same functions.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from connectors.verification.webhooks import webhook_id_for
from schemas.envelope import CloudEvent
from schemas.verification import (
    VerificationCallbackAttemptedV1,
    VerificationCompletedV1,
)

TABLE = "webhook_deliveries"


@dataclass(frozen=True)
class DueDelivery:
    """A claimed delivery whose next attempt is due."""

    webhook_id: str
    tenant_id: str
    job_id: str
    event_id: str
    subject: str
    request_id: str | None
    traceparent: str | None
    url: str
    body: bytes
    attempts: int


def webhook_id_for_job(tenant_id: str, job_id: str) -> str:
    """Return the webhook id of a job's completion.

    It derives from the job, not from the completed event's id, so even two
    completed events of one job with different ids share one webhook id.
    """
    return webhook_id_for(tenant_id, f"verification.completed/{job_id}")


def webhook_body(event: CloudEvent, completion: VerificationCompletedV1) -> bytes:
    """Return the JSON body of a completion's webhook.

    The same event always gives the same bytes (sorted keys, no spaces), so
    a rebuilt row sends what the original row sent.
    """
    document = {
        "type": event.type,
        "id": event.id,
        "tenant_id": event.tenantid,
        "job_id": completion.job_id,
        "timestamp": completion.completed_at.isoformat().replace("+00:00", "Z"),
        "data": completion.model_dump(mode="json"),
    }
    return json.dumps(
        document, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()


async def schedule_delivery(
    conn: AsyncConnection, event: CloudEvent, *, table: str = TABLE
) -> str | None:
    """Insert a pending delivery for a completed event with a callback URL.

    Returns the webhook id when a row was inserted, and None when the event
    has no callback URL or the job already has a row.
    """
    completion = VerificationCompletedV1.model_validate(event.data)
    if not completion.callback_url:
        return None

    webhook_id = webhook_id_for_job(event.tenantid, completion.job_id)
    query = sql.SQL(
        "INSERT INTO {} (webhook_id, tenant_id, job_id, event_id, subject, "
        "request_id, traceparent, url, body, status, attempts, next_attempt_at, "
        "created_at, updated_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending', 0, %s, %s, %s) "
        "ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id"
    ).format(sql.Identifier(table))
    row = await (
        await conn.execute(
            query,
            (
                webhook_id,
                event.tenantid,
                completion.job_id,
                event.id,
                event.subject,
                event.requestid,
                event.traceparent,
                completion.callback_url,
                webhook_body(event, completion).decode(),
                event.time,
                event.time,
                event.time,
            ),
        )
    ).fetchone()
    return None if row is None else webhook_id


def status_after(attempted: VerificationCallbackAttemptedV1) -> str:
    """Return the delivery status that an attempt leaves."""
    if attempted.outcome == "failed":
        return "pending"
    return attempted.outcome


async def record_attempt(
    conn: AsyncConnection, event: CloudEvent, *, table: str = TABLE
) -> bool:
    """Apply a callback-attempted event to its delivery row.

    Returns whether the row changed. The highest attempt number wins, and
    of two events with that number (an attempt made again after a crash)
    the later one. An older attempt, or one whose row does not exist,
    changes nothing.
    """
    attempted = VerificationCallbackAttemptedV1.model_validate(event.data)
    query = sql.SQL(
        "UPDATE {} SET attempts = %s, status = %s, next_attempt_at = %s, "
        "last_status_code = %s, last_error = %s, updated_at = %s, "
        "lease_owner = NULL, lease_until = NULL "
        "WHERE webhook_id = %s AND tenant_id = %s "
        "AND (attempts < %s OR (attempts = %s AND updated_at < %s))"
    ).format(sql.Identifier(table))
    cursor = await conn.execute(
        query,
        (
            attempted.attempt,
            status_after(attempted),
            attempted.next_attempt_at,
            attempted.status_code,
            attempted.error,
            event.time,
            attempted.webhook_id,
            event.tenantid,
            attempted.attempt,
            attempted.attempt,
            event.time,
        ),
    )
    return cursor.rowcount > 0


async def claim_due(
    conn: AsyncConnection,
    *,
    owner: str,
    limit: int,
    tenant_cap: int,
    in_flight: dict[str, int],
    lease_seconds: float,
) -> list[DueDelivery]:
    """Lease up to `limit` due deliveries for `owner`, oldest due first.

    A tenant gets at most `tenant_cap` minus its `in_flight` count, so one
    tenant's backlog cannot take every slot. Rows leased by another worker
    are skipped until their lease ends.

    NOTE: the window function ranks every due row on each call. Tests ran it
    with a few dozen due rows at most, and a far larger backlog slows each poll.
    """
    query = """
        WITH due AS (
            SELECT webhook_id, next_attempt_at,
                   row_number() OVER (
                       PARTITION BY tenant_id ORDER BY next_attempt_at
                   ) AS tenant_rank,
                   %(cap)s - coalesce((%(in_flight)s::jsonb ->> tenant_id)::int, 0)
                       AS tenant_room
            FROM webhook_deliveries
            WHERE status = 'pending' AND next_attempt_at <= now()
              AND (lease_until IS NULL OR lease_until < now())
        ),
        picked AS (
            SELECT d.webhook_id FROM webhook_deliveries d
            JOIN due USING (webhook_id)
            WHERE due.tenant_rank <= due.tenant_room
            ORDER BY due.next_attempt_at
            LIMIT %(limit)s
            FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE webhook_deliveries w
        SET lease_owner = %(owner)s,
            lease_until = now() + make_interval(secs => %(lease)s)
        FROM picked WHERE w.webhook_id = picked.webhook_id
        RETURNING w.webhook_id, w.tenant_id, w.job_id, w.event_id, w.subject,
                  w.request_id, w.traceparent, w.url, w.body, w.attempts
    """
    cursor = conn.cursor(row_factory=dict_row)
    await cursor.execute(
        query,
        {
            "cap": tenant_cap,
            "in_flight": json.dumps(in_flight),
            "limit": limit,
            "owner": owner,
            "lease": lease_seconds,
        },
    )
    rows: list[dict[str, Any]] = await cursor.fetchall()
    return [DueDelivery(**{**row, "body": row["body"].encode()}) for row in rows]


async def release_lease(conn: AsyncConnection, webhook_id: str, owner: str) -> None:
    """Give up a lease without recording an attempt, so the attempt is made again."""
    await conn.execute(
        "UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL "
        "WHERE webhook_id = %s AND lease_owner = %s",
        (webhook_id, owner),
    )


def next_attempt_time(
    attempt_time: datetime, retry_in: float | None
) -> datetime | None:
    """Return when the next attempt is due, or None after the last one."""
    if retry_in is None:
        return None
    return attempt_time + timedelta(seconds=retry_in)
