"""Postgres tables materialized from verification events.

`record_verification_event` writes the job row, the per-check row and the
trail row of one event. Every write is keyed by job id, check name or event
id, and the job's status only moves forward (queued, running, completed), so
a replayed, duplicated or reordered event changes nothing.
"""

from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from schemas import topics
from schemas.envelope import CloudEvent
from schemas.verification import (
    VerificationCallbackAttemptedV1,
    VerificationCheckedV1,
    VerificationCompletedV1,
    VerificationRequestedV1,
)

JOB_STATUS_RANK = {"queued": 0, "running": 1, "completed": 2}

VerificationPayload = (
    VerificationRequestedV1
    | VerificationCheckedV1
    | VerificationCompletedV1
    | VerificationCallbackAttemptedV1
)

_PAYLOAD_TYPES: dict[str, type[VerificationPayload]] = {
    topics.VERIFICATION_REQUESTED.event_type: VerificationRequestedV1,
    topics.VERIFICATION_CHECKED.event_type: VerificationCheckedV1,
    topics.VERIFICATION_COMPLETED.event_type: VerificationCompletedV1,
    topics.VERIFICATION_CALLBACK_ATTEMPTED.event_type: VerificationCallbackAttemptedV1,
}


def decode_verification_event(event: CloudEvent) -> VerificationPayload:
    """Validate a verification event's payload; raise ValueError for other types."""
    model = _PAYLOAD_TYPES.get(event.type)
    if model is None:
        raise ValueError(f"{event.type!r} is not a verification event type")
    return model.model_validate(event.data)


def summarize(payload: VerificationPayload) -> str:
    """Return one readable line that describes the event in the job's trail."""
    if isinstance(payload, VerificationRequestedV1):
        subject = payload.subject
        return (
            f"requested: {subject.kind} {subject.name!r}, checks "
            f"{', '.join(payload.checks)}, priority {payload.priority}"
        )
    if isinstance(payload, VerificationCheckedV1):
        codes = ", ".join(reason.code for reason in payload.reasons)
        suffix = f" ({codes})" if codes else ""
        return f"{payload.check}: {payload.status}{suffix}"
    if isinstance(payload, VerificationCompletedV1):
        return f"completed: {payload.verdict} (score {payload.score:.2f})"
    status = f" HTTP {payload.status_code}" if payload.status_code else ""
    return f"callback attempt {payload.attempt}: {payload.outcome}{status}"


async def record_verification_event(
    conn: AsyncConnection,
    event: CloudEvent,
    *,
    jobs_table: str = "verification_jobs",
    checks_table: str = "verification_checks",
    events_table: str = "verification_events",
) -> None:
    """Add the event to its job's trail and apply it to the job and check rows.

    The table names are parameters so that a rebuild can fill shadow tables.
    """
    payload = decode_verification_event(event)
    async with conn.transaction():
        await _insert_trail(conn, events_table, event, payload)
        if isinstance(payload, VerificationRequestedV1):
            await _upsert_job(
                conn,
                jobs_table,
                event,
                _requested_row(event, payload),
                overriding=("requested_at",),
            )
        elif isinstance(payload, VerificationCheckedV1):
            await _upsert_check(conn, checks_table, event, payload)
            await _upsert_job(conn, jobs_table, event, _job_row(event, "running"))
        elif isinstance(payload, VerificationCompletedV1):
            await _upsert_job(
                conn,
                jobs_table,
                event,
                _completed_row(event, payload),
                earliest=COMPLETION_COLUMNS,
            )


async def _insert_trail(
    conn: AsyncConnection, table: str, event: CloudEvent, payload: VerificationPayload
) -> None:
    await conn.execute(
        sql.SQL(
            "INSERT INTO {} (event_id, tenant_id, job_id, event_type, summary, "
            " data, time, trace_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (event_id) DO NOTHING"
        ).format(sql.Identifier(table)),
        (
            event.id,
            event.tenantid,
            payload.job_id,
            event.type,
            summarize(payload),
            Jsonb(event.data),
            event.time,
            event.trace_id,
        ),
    )


def _job_row(event: CloudEvent, status: str) -> dict[str, Any]:
    return {
        "tenant_id": event.tenantid,
        "job_id": event.data["job_id"],
        "status": status,
        "status_rank": JOB_STATUS_RANK[status],
        "idempotency_key": None,
        "body_sha256": None,
        "subject": None,
        "checks": None,
        "priority": None,
        "callback_url": None,
        "verdict": None,
        "score": None,
        "check_statuses": None,
        "reasons": None,
        "evidence": None,
        "requested_at": None,
        "completed_at": None,
        "updated_at": event.time,
    }


def _requested_row(
    event: CloudEvent, payload: VerificationRequestedV1
) -> dict[str, Any]:
    return {
        **_job_row(event, "queued"),
        "idempotency_key": event.requestid,
        "body_sha256": payload.body_sha256,
        "subject": Jsonb(payload.subject.model_dump(mode="json", exclude_none=True)),
        "checks": list(payload.checks),
        "priority": payload.priority,
        "callback_url": payload.callback_url,
        "requested_at": event.time,
    }


def _completed_row(
    event: CloudEvent, payload: VerificationCompletedV1
) -> dict[str, Any]:
    return {
        **_job_row(event, "completed"),
        "verdict": payload.verdict,
        "score": payload.score,
        "check_statuses": Jsonb(payload.checks),
        "reasons": Jsonb(
            [reason.model_dump(mode="json") for reason in payload.reasons]
        ),
        "evidence": Jsonb([item.model_dump(mode="json") for item in payload.evidence]),
        "requested_at": payload.requested_at,
        "completed_at": payload.completed_at,
    }


# Columns that only one event type sets; a later event keeps the first value.
FILLED_ONCE_COLUMNS = (
    "idempotency_key",
    "body_sha256",
    "subject",
    "checks",
    "priority",
    "callback_url",
    "verdict",
    "score",
    "check_statuses",
    "reasons",
    "evidence",
    "requested_at",
    "completed_at",
)


# Columns of a completion. When a job has two completions (a test, or a
# replay of another run), the earliest one wins, whichever is read first.
COMPLETION_COLUMNS = (
    "verdict",
    "score",
    "check_statuses",
    "reasons",
    "evidence",
    "completed_at",
)


def _fill(name: str, overriding: tuple[str, ...], earliest: tuple[str, ...]) -> str:
    if name in overriding:
        return "{0} = COALESCE(EXCLUDED.{0}, j.{0})"
    if name in earliest:
        return (
            "{0} = CASE WHEN j.completed_at IS NULL "
            "OR EXCLUDED.completed_at < j.completed_at "
            "THEN EXCLUDED.{0} ELSE j.{0} END"
        )
    return "{0} = COALESCE(j.{0}, EXCLUDED.{0})"


async def _upsert_job(
    conn: AsyncConnection,
    table: str,
    event: CloudEvent,
    row: dict[str, Any],
    overriding: tuple[str, ...] = (),
    earliest: tuple[str, ...] = (),
) -> None:
    """Insert or merge a job row so that the result does not depend on the
    order in which the topics are read. Columns in `overriding` take this
    event's value, and columns in `earliest` the earliest completion's."""
    columns = list(row)
    fill = sql.SQL(", ").join(
        sql.SQL(_fill(name, overriding, earliest)).format(sql.Identifier(name))
        for name in FILLED_ONCE_COLUMNS
    )
    statement = sql.SQL(
        "INSERT INTO {table} AS j ({columns}) VALUES ({values}) "
        "ON CONFLICT (tenant_id, job_id) DO UPDATE SET {fill}, "
        "status = CASE WHEN EXCLUDED.status_rank > j.status_rank "
        "  THEN EXCLUDED.status ELSE j.status END, "
        "status_rank = GREATEST(j.status_rank, EXCLUDED.status_rank), "
        "updated_at = GREATEST(j.updated_at, EXCLUDED.updated_at)"
    ).format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(sql.Placeholder(name) for name in columns),
        fill=fill,
    )
    await conn.execute(statement, row)


async def _upsert_check(
    conn: AsyncConnection,
    table: str,
    event: CloudEvent,
    payload: VerificationCheckedV1,
) -> None:
    # A job that ran twice (its lease expired, or its worker died) has one
    # check row: the earliest event's, by time and then id. Keeping whichever
    # arrived first made the row depend on the order the stage or a rebuild
    # read the two events in.
    await conn.execute(
        sql.SQL(
            "INSERT INTO {table} AS c (tenant_id, job_id, check_name, status, "
            " provider, score, reasons, evidence, details, attempts, duration_ms, "
            " event_id, checked_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (tenant_id, job_id, check_name) DO UPDATE SET "
            " status = EXCLUDED.status, provider = EXCLUDED.provider, "
            " score = EXCLUDED.score, reasons = EXCLUDED.reasons, "
            " evidence = EXCLUDED.evidence, details = EXCLUDED.details, "
            " attempts = EXCLUDED.attempts, duration_ms = EXCLUDED.duration_ms, "
            " event_id = EXCLUDED.event_id, checked_at = EXCLUDED.checked_at "
            "WHERE (EXCLUDED.checked_at, EXCLUDED.event_id) "
            " < (c.checked_at, c.event_id)"
        ).format(table=sql.Identifier(table)),
        (
            event.tenantid,
            payload.job_id,
            payload.check,
            payload.status,
            payload.provider,
            payload.score,
            Jsonb([reason.model_dump(mode="json") for reason in payload.reasons]),
            Jsonb([item.model_dump(mode="json") for item in payload.evidence]),
            Jsonb(payload.details),
            payload.attempts,
            payload.duration_ms,
            event.id,
            event.time,
        ),
    )


async def fetch_job(
    conn: AsyncConnection, tenant_id: str, job_id: str
) -> dict[str, Any] | None:
    """Return the job row with its `check_results` and `events`, or None."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT * FROM verification_jobs WHERE tenant_id = %s AND job_id = %s",
            (tenant_id, job_id),
        )
        job = await cursor.fetchone()
        if job is None:
            return None
        await cursor.execute(
            "SELECT check_name, status, provider, score, reasons, evidence, details, "
            " attempts, duration_ms, checked_at FROM verification_checks "
            "WHERE tenant_id = %s AND job_id = %s ORDER BY check_name",
            (tenant_id, job_id),
        )
        job["check_results"] = await cursor.fetchall()
        await cursor.execute(
            "SELECT event_id, event_type, summary, data, time, trace_id "
            "FROM verification_events WHERE tenant_id = %s AND job_id = %s "
            "ORDER BY time, event_id",
            (tenant_id, job_id),
        )
        job["events"] = await cursor.fetchall()
    return job


async def find_job_by_key(
    conn: AsyncConnection, tenant_id: str, idempotency_key: str
) -> dict[str, Any] | None:
    """Return the job id, body hash and status of the tenant's job for a key."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT job_id, body_sha256, status FROM verification_jobs "
            "WHERE tenant_id = %s AND idempotency_key = %s",
            (tenant_id, idempotency_key),
        )
        return await cursor.fetchone()
