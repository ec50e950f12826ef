"""Fairness: one tenant's large batch backlog does not hold up another tenant's
realtime job, and every job of the backlog still ends exactly once."""

import time
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from schemas import topics
from tests.integration.verification.provider_server import ProviderServer
from tests.integration.verification_jobs.helpers import (
    count_events,
    submit,
    unique_name,
    wait_completed,
)
from tests.stack import Stack
from tidings.tenants import create_tenant

pytestmark = pytest.mark.integration

BACKLOG = 2000
BATCH = 1000
CHECKS = ["web_search", "sanctions"]


def tenant_client(stack: Stack) -> httpx.Client:
    with psycopg.connect(stack.database_url) as conn:
        _, key = create_tenant(conn, f"t-fair-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=stack.api_url, headers=headers, timeout=120)


@pytest.fixture()
def tenants(stack: Stack) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with tenant_client(stack) as first, tenant_client(stack) as second:
        yield first, second


def completed_count(db: psycopg.Connection, job_ids: list[str]) -> int:
    row = db.execute(
        "SELECT count(*) FROM verification_queue "
        "WHERE job_id = ANY(%s) AND finished_at IS NOT NULL",
        (job_ids,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def wait_all_finished(db: psycopg.Connection, job_ids: list[str]) -> int:
    deadline = time.monotonic() + 900
    done = completed_count(db, job_ids)
    while done < len(job_ids) and time.monotonic() < deadline:
        time.sleep(2)
        done = completed_count(db, job_ids)
    return done


def test_realtime_job_beats_backlog(
    stack: Stack,
    provider: ProviderServer,
    tenants: tuple[httpx.Client, httpx.Client],
    db: psycopg.Connection,
) -> None:
    tenant_a, tenant_b = tenants
    backlog: list[str] = []
    for start in range(0, BACKLOG, BATCH):
        jobs = [
            {
                "subject": {"kind": "company", "name": unique_name("bulk", str(n))},
                "checks": CHECKS,
                "priority": "batch",
            }
            for n in range(start, start + BATCH)
        ]
        response = tenant_a.post("/v1/verifications/batch", json={"jobs": jobs})
        assert response.status_code == 202, response.text
        backlog += response.json()["job_ids"]

    done_at_submit = completed_count(db, backlog)
    urgent = submit(tenant_b, unique_name("urgent"), CHECKS, priority="realtime")
    job = wait_completed(tenant_b, [urgent], timeout=300)[urgent]
    # Counted from the completion events' times, so the polling interval
    # of this test does not matter.
    row = db.execute(
        "SELECT count(*) FROM verification_jobs WHERE job_id = ANY(%s) "
        "AND completed_at <= (SELECT completed_at FROM verification_jobs "
        "WHERE job_id = %s)",
        (backlog, urgent),
    ).fetchone()
    assert row is not None
    done_before_urgent = int(row[0])
    finished = wait_all_finished(db, backlog)
    counts = count_events(stack, {*backlog, urgent})
    checked = counts.records[topics.VERIFICATION_CHECKED.name]
    completed = counts.records[topics.VERIFICATION_COMPLETED.name]
    trail = db.execute(
        "SELECT count(*) FROM verification_events WHERE job_id = ANY(%s)", (backlog,)
    ).fetchone()

    print(f"backlog done when the realtime job was submitted: {done_at_submit}")
    print(f"backlog done when the realtime job completed: {done_before_urgent}")
    assert job["status"] == "completed"
    assert done_at_submit < BACKLOG // 2
    assert done_before_urgent < BACKLOG // 2
    assert finished == BACKLOG
    assert set(completed.values()) == {1}
    assert len(completed) == BACKLOG + 1
    assert set(checked.values()) == {len(CHECKS)}
    assert max(counts.event_ids.values()) == 1
    assert trail == (BACKLOG * (2 + len(CHECKS)),)
