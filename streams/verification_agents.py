"""Agents and runner task of the verification pipeline.

- `verify-intake` reads `verification.requested` and queues each job.
- `verification-state` reads all four verification topics and writes the
  job, check and trail tables, so they can be rebuilt from the history.
- A task starts the runner pool, which claims queued jobs in fair order.
"""

import os
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

import faust
import structlog

from connectors.verification.settings import VerificationSettings
from connectors.verification_tables import record_verification_event
from schemas import topics
from schemas.envelope import CloudEvent
from streams.runtime import Runtime
from streams.stage import Handler
from streams.verification_runner import RunnerPool, handle_requested
from streams.verification_toolkit import build_toolkit

log = structlog.get_logger(__name__)

Channel = Callable[..., faust.TopicT]
Consume = Callable[[str, faust.StreamT, Handler], Awaitable[None]]

VERIFICATION_TOPICS = (
    topics.VERIFICATION_REQUESTED,
    topics.VERIFICATION_CHECKED,
    topics.VERIFICATION_COMPLETED,
    topics.VERIFICATION_CALLBACK_ATTEMPTED,
)


async def handle_verification_event(event: CloudEvent, runtime: Runtime) -> None:
    assert runtime.pool is not None
    async with runtime.pool.connection() as conn:
        await record_verification_event(conn, event)


def add_verification_agents(
    app: faust.App, runtime: Runtime, channel: Channel, consume: Consume
) -> None:
    """Register the intake and state agents and the task that runs the jobs."""
    settings = VerificationSettings()
    owner = f"{runtime.settings.worker_id}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    pool: RunnerPool | None = None

    def runner_pool() -> RunnerPool:
        # Built on first use, inside the worker's event loop.
        nonlocal pool
        if pool is None:
            pool = RunnerPool(runtime, build_toolkit(settings), owner)
        return pool

    @app.agent(channel(topics.VERIFICATION_REQUESTED), name="verify-intake")
    async def verify_intake(stream: faust.StreamT) -> None:
        handler = partial(_queue, wake=runner_pool)
        await consume("verify-intake", stream, handler)

    @app.agent(channel(*VERIFICATION_TOPICS), name="verification-state")
    async def verification_state(stream: faust.StreamT) -> None:
        await consume("verification-state", stream, handle_verification_event)

    @app.task
    async def verification_runners() -> None:
        await runner_pool().serve()


async def _queue(
    event: CloudEvent, runtime: Runtime, *, wake: Callable[[], RunnerPool]
) -> None:
    await handle_requested(event, runtime, wake().wake)
