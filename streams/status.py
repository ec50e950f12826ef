"""Status stage: every document event -> the documents and trail tables."""

from connectors.document_tables import record_document_event
from schemas.envelope import CloudEvent
from streams.runtime import Runtime


async def handle_document_event(event: CloudEvent, runtime: Runtime) -> None:
    assert runtime.pool is not None
    async with runtime.pool.connection() as conn:
        await record_document_event(conn, event)
