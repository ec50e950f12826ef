"""One tenant's slow receiver does not hold up another tenant's callback."""

import pytest

from tests.integration.callbacks.conftest import StartReceiver, TenantClient
from tests.integration.callbacks.events import (
    completed_event,
    ended,
    new_job_id,
    publish,
    read_attempts,
)
from tests.integration.verification.servers import Reply
from tests.stack import Stack

pytestmark = pytest.mark.integration

BACKLOG = 16


async def test_slow_tenant_does_not_block_other(
    stack: Stack,
    tenant: TenantClient,
    other_tenant: TenantClient,
    start_receiver: StartReceiver,
) -> None:
    # Each of the busy tenant's attempts takes 1.5 s of the 2 s timeout, and
    # at most 4 run at once per tenant, so its backlog takes several rounds.
    slow = await start_receiver(Reply(status=200, delay=1.5))
    fast = await start_receiver(Reply(status=200))
    backlog = [new_job_id() for _ in range(BACKLOG)]
    quick_job = new_job_id()

    await publish(
        stack,
        *(
            completed_event(tenant.tenant_id, job, f"http://127.0.0.1:{slow.port}/h")
            for job in backlog
        ),
        completed_event(
            other_tenant.tenant_id, quick_job, f"http://127.0.0.1:{fast.port}/h"
        ),
    )
    quick = await read_attempts(stack, quick_job, ended)
    last_of_backlog = [(await read_attempts(stack, job, ended))[-1] for job in backlog]

    assert [e.data["outcome"] for e in quick] == ["delivered"]
    assert {e.data["outcome"] for e in last_of_backlog} == {"delivered"}
    assert len(slow.requests) == BACKLOG
    # Attempt times are whole seconds; the quick delivery came before the
    # busy tenant's backlog was through.
    assert quick[0].time < max(e.time for e in last_of_backlog)
