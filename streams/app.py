"""The Faust app of the document pipeline and its agents.

Agents read raw records (CloudEvents binary mode), hand each one to a plain
handler function and publish results with the idempotent producer, waiting
for the broker's acknowledgement. Each stage runs its records through a
`FairDispatcher`, so one tenant's burst does not hold up the others, and
acknowledges a record only after its handler has finished: Faust commits an
input offset only then, so processing is at-least-once.
"""

import functools
from datetime import UTC, datetime

import faust
import structlog

from schemas import topics
from streams.callbacks import add_callback_agents
from streams.catalog_agents import add_catalog_agents
from streams.chunk_indexes import add_chunk_index_timer
from streams.fair import FairDispatcher, tenant_of
from streams.index import handle_parsed
from streams.parse import handle_uploaded
from streams.runtime import Runtime
from streams.site_agents import add_site_agents
from streams.stage import Handler, process_record
from streams.status import handle_document_event
from streams.verification_agents import add_verification_agents
from tidings.settings import Settings

log = structlog.get_logger(__name__)

APP_ID = "tidings-documents"
HEARTBEAT_SECONDS = 5.0


def _position(event: faust.EventT) -> dict[str, object]:
    message = event.message
    return {
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
    }


def create_app(settings: Settings) -> faust.App:
    app = faust.App(
        APP_ID,
        broker=f"kafka://{settings.resolved_kafka_bootstrap()}",
        key_serializer="raw",
        value_serializer="raw",
        store="memory://",
        # Topics come from our registry; Faust must not create or alter them.
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_every=100,
        broker_commit_interval=1.0,
    )
    runtime = Runtime(settings)

    def channel(*specs: topics.TopicSpec) -> faust.TopicT:
        return app.topic(
            *(spec.name for spec in specs), value_type=bytes, key_type=bytes
        )

    async def consume(stage: str, stream: faust.StreamT, handler: Handler) -> None:
        await runtime.open()
        dispatcher = FairDispatcher(
            stage, settings.stage_workers, settings.stage_buffer
        )

        async def run(event: faust.EventT) -> None:
            await process_record(
                runtime,
                stage,
                handler,
                event.message.topic,
                event.key,
                event.value,
                event.headers,
                _position(event),
            )
            event.ack()

        async with dispatcher.running():
            async for event in stream.noack().events():
                await dispatcher.submit(
                    tenant_of(event.headers), functools.partial(run, event)
                )

    @app.agent(channel(topics.DOCUMENT_UPLOADED), name="parse")
    async def parse(stream: faust.StreamT) -> None:
        await consume("parse", stream, handle_uploaded)

    @app.agent(channel(topics.DOCUMENT_PARSED), name="index")
    async def index(stream: faust.StreamT) -> None:
        await consume("index", stream, handle_parsed)

    document_topics = channel(
        topics.DOCUMENT_UPLOADED,
        topics.DOCUMENT_PARSED,
        topics.DOCUMENT_INDEXED,
        topics.DOCUMENT_FAILED,
    )

    @app.agent(document_topics, name="status")
    async def status(stream: faust.StreamT) -> None:
        await consume("status", stream, handle_document_event)

    add_catalog_agents(app, runtime, channel, consume)
    add_callback_agents(app, runtime, channel, consume)
    add_site_agents(app, runtime, channel, consume)
    add_verification_agents(app, runtime, channel, consume)
    add_chunk_index_timer(app, runtime)

    started_at = datetime.now(UTC)

    @app.timer(HEARTBEAT_SECONDS)
    async def heartbeat() -> None:
        # Ready means the model is loaded and partitions are assigned.
        if not app.consumer.assignment():
            return
        await runtime.open()
        assert runtime.pool is not None
        async with runtime.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO worker_heartbeats (worker_id, started_at, seen_at) "
                "VALUES (%s, %s, now()) ON CONFLICT (worker_id) DO UPDATE "
                "SET started_at = EXCLUDED.started_at, seen_at = now()",
                (settings.worker_id, started_at),
            )

    app.tidings_runtime = runtime  # type: ignore[attr-defined]
    return app
