"""Fair dispatch of a stage's records across tenants.

A stage reads its topics in offset order, so one tenant's burst (a PDF of
hundreds of pages, a crawl of a thousand pages) would make every other
tenant wait behind it. The dispatcher buffers records per tenant and runs
them on a few workers, which take tenants in round-robin order. One
tenant's records run one at a time, in arrival order, so the order of each
key is kept.

A record's offset may be committed only after its handler has finished. The
stage acknowledges each record when its job ends, and Faust commits up to the
first offset that is not acknowledged yet, so processing stays at-least-once.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import structlog

from schemas.envelope import HEADER_PREFIX

log = structlog.get_logger(__name__)

Job = Callable[[], Awaitable[None]]

TENANT_HEADER = HEADER_PREFIX + "tenantid"


def tenant_of(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> str:
    """Return the record's tenant id header, or "" when it has none.

    Records without a tenant share one queue, and the stage dead-letters them.
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for name, value in pairs:
        if name != TENANT_HEADER:
            continue
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value or "")
    return ""


class FairDispatcher:
    """Per-tenant FIFO queues served round-robin by a fixed set of workers."""

    def __init__(self, stage: str, workers: int, max_buffered: int) -> None:
        if workers < 1 or max_buffered < 1:
            raise ValueError(
                f"stage {stage!r}: workers ({workers}) and max_buffered "
                f"({max_buffered}) must be at least 1"
            )
        self.stage = stage
        self.workers = workers
        self._queues: dict[str, deque[Job]] = {}
        # Tenants with queued records and no running one, in turn order.
        self._ready: deque[str] = deque()
        self._room = asyncio.Semaphore(max_buffered)
        self._wakeup = asyncio.Condition()

    @property
    def buffered(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    async def submit(self, tenant_id: str, job: Job) -> None:
        """Queue a job for the tenant, waiting while the buffer is full."""
        await self._room.acquire()
        async with self._wakeup:
            queue = self._queues.get(tenant_id)
            if queue is None:
                queue = self._queues[tenant_id] = deque()
                self._ready.append(tenant_id)
            queue.append(job)
            self._wakeup.notify()

    async def _next(self) -> tuple[str, Job]:
        async with self._wakeup:
            await self._wakeup.wait_for(lambda: bool(self._ready))
            tenant_id = self._ready.popleft()
            return tenant_id, self._queues[tenant_id].popleft()

    async def _finish(self, tenant_id: str) -> None:
        self._room.release()
        async with self._wakeup:
            if self._queues[tenant_id]:
                # Back of the line, behind every tenant that is waiting.
                self._ready.append(tenant_id)
                self._wakeup.notify()
            else:
                del self._queues[tenant_id]

    async def _work(self) -> None:
        while True:
            tenant_id, job = await self._next()
            try:
                await job()
            except Exception:
                # The record stays unacknowledged, so its offset is not
                # committed and a restart runs it again.
                log.exception("stage_job_failed", stage=self.stage, tenant_id=tenant_id)
            finally:
                await self._finish(tenant_id)

    @asynccontextmanager
    async def running(self) -> AsyncIterator["FairDispatcher"]:
        """Run the workers for the duration of the block."""
        tasks = [
            asyncio.create_task(self._work(), name=f"{self.stage}-worker-{number}")
            for number in range(self.workers)
        ]
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
