"""`tidings rebuild webhook_deliveries`: the table follows from the events alone."""

import asyncio

import psycopg
import pytest

from schemas import topics
from streams.app import APP_ID
from tests.integration.callbacks.conftest import StartReceiver, TenantClient
from tests.integration.callbacks.events import (
    completed_event,
    ended,
    new_job_id,
    publish,
    read_attempts,
)
from tests.integration.history_helpers import wait_caught_up
from tests.integration.verification.servers import Reply
from tests.stack import Stack
from tidings.history.rebuild import rebuild_view
from tidings.history.views import VIEWS
from tidings.settings import Settings

pytestmark = pytest.mark.integration

CALLBACK_TOPICS = [
    topics.VERIFICATION_COMPLETED.name,
    topics.VERIFICATION_CALLBACK_ATTEMPTED.name,
]


async def test_rebuilt_deliveries_equal_live(
    stack: Stack,
    tenant: TenantClient,
    start_receiver: StartReceiver,
    db: psycopg.Connection,
) -> None:
    delivered = await start_receiver(Reply(status=200))
    delivered.then(Reply(status=500))
    failing = await start_receiver(Reply(status=503))
    jobs = {
        new_job_id(): f"http://127.0.0.1:{delivered.port}/hook",
        new_job_id(): f"http://127.0.0.1:{failing.port}/hook",
        new_job_id(): "http://192.168.7.7/hook",
    }
    settings = Settings(
        data_dir=stack.data_dir,
        kafka_bootstrap=stack.kafka_bootstrap,
        database_url=stack.database_url,
        topic_partitions=2,
    )

    await publish(
        stack,
        *(completed_event(tenant.tenant_id, job, url) for job, url in jobs.items()),
    )
    for job in jobs:
        await read_attempts(stack, job, ended)
    await asyncio.to_thread(wait_caught_up, stack, APP_ID, CALLBACK_TOPICS)
    report = await rebuild_view(VIEWS["webhook_deliveries"], settings, check=True)
    statuses = dict(
        db.execute(
            "SELECT job_id, status FROM webhook_deliveries WHERE tenant_id = %s",
            (tenant.tenant_id,),
        ).fetchall()
    )

    assert report.equal, report.tables
    assert report.tables[0].rebuilt_rows == report.tables[0].live_rows
    assert sorted(statuses.values()) == ["delivered", "gave_up", "rejected"]
