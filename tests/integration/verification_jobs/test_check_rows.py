"""A job's check row is the same whichever order its events are read in."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from connectors.verification_tables import record_verification_event
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.verification import VerificationCheckedV1
from tests.stack import Stack

pytestmark = pytest.mark.integration

TABLES = ("verification_jobs", "verification_checks", "verification_events")


def _checked(event_id: str, seconds: int, duration_ms: int) -> CloudEvent:
    payload = VerificationCheckedV1(
        job_id="vjob_order",
        check="registry",
        status="clear",
        provider="company_registry",
        score=0.0,
        attempts=1,
        duration_ms=duration_ms,
    )
    return CloudEvent(
        type=topics.VERIFICATION_CHECKED.event_type,
        source="/tests",
        subject="vjob_order",
        tenantid="tnt_order",
        data=payload.model_dump(mode="json"),
        id=event_id,
        time=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds),
    )


async def _check_row(stack: Stack, events: list[CloudEvent], suffix: str) -> tuple:
    names = {table: f"{table}_{suffix}" for table in TABLES}
    async with await psycopg.AsyncConnection.connect(
        stack.database_url, autocommit=True
    ) as conn:
        for table, name in names.items():
            await conn.execute(f"DROP TABLE IF EXISTS {name}")
            await conn.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING ALL)")
        try:
            for event in events:
                await record_verification_event(
                    conn,
                    event,
                    jobs_table=names["verification_jobs"],
                    checks_table=names["verification_checks"],
                    events_table=names["verification_events"],
                )
            cursor = await conn.execute(
                f"SELECT event_id, duration_ms, checked_at "
                f"FROM {names['verification_checks']}"
            )
            rows = await cursor.fetchall()
        finally:
            for name in names.values():
                await conn.execute(f"DROP TABLE IF EXISTS {name}")
    assert len(rows) == 1
    return rows[0]


async def test_check_row_independent_of_order(stack: Stack) -> None:
    # Two runs of one check: a rerun after a lease expired publishes again.
    first = _checked("evt_run_1", seconds=0, duration_ms=30)
    rerun = _checked("evt_run_2", seconds=5, duration_ms=80)

    in_order = await _check_row(stack, [first, rerun], "in_order")
    reversed_order = await _check_row(stack, [rerun, first], "reversed")

    assert in_order == reversed_order
    assert in_order[0] == "evt_run_1"
