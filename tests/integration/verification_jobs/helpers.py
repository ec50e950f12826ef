"""Helpers for tests that run verification jobs through the HTTP API."""

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from schemas import topics
from schemas.envelope import from_record
from tests.integration.helpers import read_topic
from tests.stack import PROVIDER_URL, Stack

VERIFICATION_TOPICS = (
    topics.VERIFICATION_REQUESTED,
    topics.VERIFICATION_CHECKED,
    topics.VERIFICATION_COMPLETED,
)
PROVIDER_CHECKS = ["web_search", "registry"]


def unique_name(*words: str) -> str:
    """A company name no other test queries, so no cached response is reused."""
    return " ".join(["Testco", *words, uuid.uuid4().hex[:10]])


def site_url(name: str) -> str:
    return str(httpx.URL(f"{PROVIDER_URL}/site", params={"name": name}))


def submit(
    api: httpx.Client,
    name: str,
    checks: list[str] | None = None,
    *,
    kind: str = "company",
    priority: str = "realtime",
    **subject: Any,
) -> str:
    body: dict[str, Any] = {
        "subject": {"kind": kind, "name": name, **subject},
        "priority": priority,
    }
    if checks is not None:
        body["checks"] = checks
    response = api.post("/v1/verifications", json=body)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def wait_completed(
    api: httpx.Client, job_ids: list[str], timeout: float = 120.0
) -> dict[str, dict[str, Any]]:
    """Poll until every job is completed or the timeout passes; return the
    last state of each."""
    latest: dict[str, dict[str, Any]] = {}
    pending = set(job_ids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for job_id in sorted(pending):
            response = api.get(f"/v1/verifications/{job_id}")
            assert response.status_code == 200, response.text
            latest[job_id] = response.json()
            if latest[job_id]["status"] == "completed":
                pending.discard(job_id)
        if pending:
            time.sleep(0.3)
    return latest


def run_job(
    api: httpx.Client, name: str, checks: list[str] | None = None, **subject: Any
) -> dict[str, Any]:
    job_id = submit(api, name, checks, **subject)
    job = wait_completed(api, [job_id])[job_id]
    assert job["status"] == "completed", job
    return job


def reason_codes(job: dict[str, Any]) -> set[str]:
    return {reason["code"] for reason in job["reasons"]}


def check_result(job: dict[str, Any], check: str) -> dict[str, Any]:
    return next(item for item in job["check_results"] if item["check"] == check)


@dataclass
class KafkaCounts:
    """Records per topic and job, event ids per topic and job, and how often
    each event id was seen."""

    records: dict[str, Counter[str]] = field(default_factory=dict)
    ids: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    event_ids: Counter[str] = field(default_factory=Counter)


def count_events(stack: Stack, job_ids: set[str]) -> KafkaCounts:
    """Read the verification topics from the start and count the jobs' records."""
    counts = KafkaCounts()
    for spec in VERIFICATION_TOPICS:
        counts.records[spec.name] = Counter()
        counts.ids[spec.name] = {}
        for message in read_topic(stack, spec.name):
            job_id = (message.key() or b"").decode()
            if job_id in job_ids:
                event = from_record(message.headers(), message.value())
                counts.records[spec.name][job_id] += 1
                counts.ids[spec.name].setdefault(job_id, set()).add(event.id)
                counts.event_ids[event.id] += 1
    return counts


def assert_nothing_lost_or_duplicated(
    stack: Stack, jobs: dict[str, dict[str, Any]]
) -> None:
    """Each job: one requested, one checked per check, one completed on Kafka,
    and the same in Postgres (job row, check rows, trail rows)."""
    counts = count_events(stack, set(jobs))
    assert max(counts.event_ids.values()) == 1, "an event id appears twice on Kafka"
    with psycopg.connect(stack.database_url) as conn:
        for job_id, job in jobs.items():
            expected = len(job["checks"])
            requested = counts.records[topics.VERIFICATION_REQUESTED.name][job_id]
            checked = counts.records[topics.VERIFICATION_CHECKED.name][job_id]
            completed = counts.records[topics.VERIFICATION_COMPLETED.name][job_id]
            assert (requested, checked, completed) == (1, expected, 1), job_id

            check_rows = conn.execute(
                "SELECT count(*) FROM verification_checks WHERE job_id = %s",
                (job_id,),
            ).fetchone()
            trail_rows = conn.execute(
                "SELECT count(*) FROM verification_events WHERE job_id = %s",
                (job_id,),
            ).fetchone()
            open_rows = conn.execute(
                "SELECT count(*) FROM verification_queue "
                "WHERE job_id = %s AND finished_at IS NULL",
                (job_id,),
            ).fetchone()
            assert check_rows == (expected,), job_id
            assert trail_rows == (expected + 2,), job_id
            assert open_rows == (0,), job_id
