"""The callbacks stage: schedule webhook deliveries of completed jobs.

The `callbacks` agent reads `verification.completed` and inserts one
delivery row per job that has a callback URL. It also reads
`verification.callback-attempted`, because a worker that crashed after
publishing an attempt but before updating its row leaves the row behind the
events. The dispatcher task sends the due attempts (`streams.callback_delivery`).
"""

from collections.abc import Awaitable, Callable

import faust
import structlog

from connectors.verification.settings import VerificationSettings
from connectors.webhook_deliveries import record_attempt, schedule_delivery
from schemas import topics
from schemas.envelope import CloudEvent
from streams.callback_delivery import CallbackDispatcher
from streams.runtime import Runtime
from streams.stage import Handler

log = structlog.get_logger(__name__)

Channel = Callable[..., faust.TopicT]
Consume = Callable[[str, faust.StreamT, Handler], Awaitable[None]]


def make_callback_handler(dispatcher: CallbackDispatcher) -> Handler:
    """Return the handler of the callbacks agent, which wakes `dispatcher`."""

    async def handle_callback_event(event: CloudEvent, runtime: Runtime) -> None:
        assert runtime.pool is not None
        if event.type == topics.VERIFICATION_COMPLETED.event_type:
            async with runtime.pool.connection() as conn:
                webhook_id = await schedule_delivery(conn, event)
            if webhook_id is not None:
                log.info(
                    "callback_scheduled",
                    tenant_id=event.tenantid,
                    job_id=event.data.get("job_id"),
                    webhook_id=webhook_id,
                    trace_id=event.trace_id,
                )
                dispatcher.notify()
            return

        if event.type == topics.VERIFICATION_CALLBACK_ATTEMPTED.event_type:
            async with runtime.pool.connection() as conn:
                await record_attempt(conn, event)
            return

        raise ValueError(f"the callbacks stage cannot handle event type {event.type!r}")

    return handle_callback_event


def add_callback_agents(
    app: faust.App, runtime: Runtime, channel: Channel, consume: Consume
) -> None:
    """Register the callbacks agent and the task that delivers due webhooks."""
    dispatcher = CallbackDispatcher(runtime, VerificationSettings())
    handler = make_callback_handler(dispatcher)
    callback_topics = channel(
        topics.VERIFICATION_COMPLETED, topics.VERIFICATION_CALLBACK_ATTEMPTED
    )

    @app.agent(callback_topics, name="callbacks")
    async def callbacks(stream: faust.StreamT) -> None:
        await consume("callbacks", stream, handler)

    @app.task
    async def deliver_callbacks() -> None:
        await dispatcher.run()

    app.tidings_callback_dispatcher = dispatcher  # type: ignore[attr-defined]
