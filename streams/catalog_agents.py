"""Agents and the timer of the catalog and interaction stages."""

from collections.abc import Awaitable, Callable

import faust
import psycopg
import structlog

from schemas import topics
from streams.batch import consume_batches
from streams.catalog import decode_catalog_event, handle_catalog_batch
from streams.interactions import handle_interaction
from streams.runtime import Runtime
from streams.stage import Handler
from streams.vector_indexes import ensure_vector_indexes

log = structlog.get_logger(__name__)

Channel = Callable[..., faust.TopicT]
Consume = Callable[[str, faust.StreamT, Handler], Awaitable[None]]


def add_catalog_agents(
    app: faust.App, runtime: Runtime, channel: Channel, consume: Consume
) -> None:
    """Register the catalog materializer, the co-occurrence stage and the
    timer that builds per-tenant vector indexes."""
    settings = runtime.settings
    catalog_topics = channel(
        topics.CATALOG_PRODUCT_UPSERTED, topics.CATALOG_PRODUCT_DELETED
    )

    @app.agent(catalog_topics, name="catalog")
    async def catalog(stream: faust.StreamT) -> None:
        await consume_batches(
            runtime, "catalog", stream, handle_catalog_batch, decode_catalog_event
        )

    @app.agent(channel(topics.INTERACTION_RECORDED), name="interactions")
    async def interactions(stream: faust.StreamT) -> None:
        await consume("interactions", stream, handle_interaction)

    @app.timer(settings.catalog_index_check_seconds)
    async def vector_indexes() -> None:
        try:
            await ensure_vector_indexes(settings)
        except (psycopg.Error, RuntimeError) as exc:
            log.warning("vector_index_check_failed", error=str(exc))
