"""Job state: rebuilt from the history alone, kept through a killed worker,
and shown by `tidings verify`."""

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import psycopg
import pytest

from schemas import topics
from streams.app import APP_ID
from tests.integration.history_helpers import wait_caught_up
from tests.integration.verification.provider_server import ProviderServer
from tests.integration.verification_jobs.helpers import (
    PROVIDER_CHECKS,
    count_events,
    run_job,
    submit,
    unique_name,
    wait_completed,
)
from tests.stack import REPO_ROOT, Stack
from tidings.history.rebuild import rebuild_view
from tidings.history.views import VIEWS
from tidings.settings import Settings

pytestmark = pytest.mark.integration

KILL_BATCH = 40


def completed_ids(db: psycopg.Connection, job_ids: list[str]) -> int:
    row = db.execute(
        "SELECT count(*) FROM verification_jobs "
        "WHERE job_id = ANY(%s) AND status = 'completed'",
        (job_ids,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_worker_killed_mid_backlog(
    stack: Stack, healthy: ProviderServer, vapi: httpx.Client, db: psycopg.Connection
) -> None:
    job_ids = [
        submit(vapi, unique_name("lag"), PROVIDER_CHECKS, priority="batch")
        for _ in range(KILL_BATCH)
    ]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and completed_ids(db, job_ids) < 5:
        time.sleep(0.2)
    killed = stack.worker_pid()
    os.kill(killed, signal.SIGKILL)

    final = wait_completed(vapi, job_ids, timeout=400)
    counts = count_events(stack, set(job_ids))
    check_rows = dict(
        db.execute(
            "SELECT job_id, count(*) FROM verification_checks "
            "WHERE job_id = ANY(%s) GROUP BY job_id",
            (job_ids,),
        ).fetchall()
    )
    trail = dict(
        db.execute(
            "SELECT job_id, count(*) FROM verification_events "
            "WHERE job_id = ANY(%s) GROUP BY job_id",
            (job_ids,),
        ).fetchall()
    )
    reruns = db.execute(
        "SELECT count(*) FROM verification_queue WHERE job_id = ANY(%s) AND runs > 1",
        (job_ids,),
    ).fetchone()
    open_jobs = db.execute(
        "SELECT count(*) FROM verification_queue "
        "WHERE job_id = ANY(%s) AND finished_at IS NULL",
        (job_ids,),
    ).fetchone()

    print(f"jobs run twice after the kill: {reruns}")
    assert stack.worker_pid() != killed
    assert {job["status"] for job in final.values()} == {"completed"}
    assert {job["verdict"] for job in final.values()} == {"pass"}
    assert open_jobs == (0,)
    assert set(check_rows.values()) == {len(PROVIDER_CHECKS)}
    assert set(trail.values()) == {2 + len(PROVIDER_CHECKS)}
    # A rerun may publish an event again, but always under the same id.
    for spec, expected in (
        (topics.VERIFICATION_REQUESTED, 1),
        (topics.VERIFICATION_CHECKED, len(PROVIDER_CHECKS)),
        (topics.VERIFICATION_COMPLETED, 1),
    ):
        per_job = {job_id: len(counts.ids[spec.name][job_id]) for job_id in job_ids}
        assert set(per_job.values()) == {expected}, spec.name


def test_rebuild_equals_live(
    stack: Stack, healthy: ProviderServer, vapi: httpx.Client
) -> None:
    run_job(vapi, unique_name("rebuild"), PROVIDER_CHECKS)
    wait_caught_up(
        stack,
        APP_ID,
        [spec.name for spec in VIEWS["verification_jobs"].topics],
        timeout=300,
    )
    settings = Settings(
        data_dir=stack.data_dir,
        kafka_bootstrap=stack.kafka_bootstrap,
        database_url=stack.database_url,
    )

    report = asyncio.run(rebuild_view(VIEWS["verification_jobs"], settings, check=True))
    rows = {table.table: table.rebuilt_rows for table in report.tables}

    assert report.equal, [(t.table, t.differences) for t in report.tables]
    assert rows["verification_jobs"] > 0
    assert rows["verification_checks"] >= rows["verification_jobs"]
    assert rows["verification_events"] >= 3 * rows["verification_jobs"]


def test_cli_prints_verdict(
    stack: Stack, healthy: ProviderServer, vapi: httpx.Client
) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TIDINGS_")
    }
    env |= {
        "TIDINGS_API_URL": stack.api_url,
        "TIDINGS_API_KEY": vapi.headers["Authorization"].removeprefix("Bearer "),
    }
    name = unique_name("cli")

    result = subprocess.run(
        [sys.executable, "-m", "tidings", "verify", "--name", name,
         "--check", "registry", "--check", "sanctions"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = result.stdout.splitlines()

    assert result.returncode == 0, result.stderr
    assert "requested: company" in lines[0]
    assert any(line.endswith("registry: clear") for line in lines)
    assert any(line.endswith("sanctions: clear") for line in lines)
    assert lines[-1].startswith("verdict: pass (score 0.00)  [vjob_")
