"""Index stage: document.parsed -> chunks and embeddings in Postgres
-> document.indexed.
"""

import asyncio
import json

import structlog

from connectors.document_tables import ChunkRow, replace_chunks
from connectors.embedder import Embedder
from connectors.objectstore import ObjectStoreError
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.events import DocumentFailedV1, DocumentIndexedV1, DocumentParsedV1
from streams.chunking import chunk_pages
from streams.emit import emit
from streams.runtime import Runtime
from tidings.fulltext import segment_for_index
from tidings.ids import chunk_id
from tidings.settings import Settings

log = structlog.get_logger(__name__)


async def _fail(
    runtime: Runtime,
    event: CloudEvent,
    parsed: DocumentParsedV1,
    outcome: str,
    reason: str,
    detail: str,
) -> None:
    payload = DocumentFailedV1(
        document_id=parsed.document_id,
        attempt=parsed.attempt,
        outcome=outcome,  # type: ignore[arg-type]
        stage="index",
        reason=reason,
        detail=detail,
    )
    await emit(runtime, topics.DOCUMENT_FAILED, event, payload, parsed.document_id)


async def build_chunk_rows(
    document_id: str, pages: list[str], settings: Settings, embedder: Embedder
) -> list[ChunkRow]:
    """Chunk the page texts and embed the chunks; rebuilds call this too."""
    chunks = chunk_pages(pages, settings.chunk_size, settings.chunk_overlap)
    if not chunks:
        return []

    texts = [chunk.text for chunk in chunks]
    embeddings = await asyncio.to_thread(embedder.encode, texts)
    return [
        ChunkRow(
            chunk_id=chunk_id(document_id, chunk.index),
            chunk_index=chunk.index,
            page=chunk.page,
            content=chunk.text,
            search_text=segment_for_index(chunk.text),
            embedding=embeddings[chunk.index],
        )
        for chunk in chunks
    ]


async def handle_parsed(event: CloudEvent, runtime: Runtime) -> None:
    assert runtime.store is not None
    assert runtime.embedder is not None
    assert runtime.pool is not None
    settings = runtime.settings
    parsed = DocumentParsedV1.model_validate(event.data)

    try:
        body = json.loads(await runtime.store.get(parsed.text_uri))
    except ObjectStoreError as exc:
        await _fail(runtime, event, parsed, "failed", "object_missing", str(exc))
        return
    rows = await build_chunk_rows(
        parsed.document_id, body["pages"], settings, runtime.embedder
    )
    if not rows:
        await _fail(
            runtime,
            event,
            parsed,
            "no_text",
            "no_text_layer",
            "the PDF's pages contain no text to index",
        )
        return

    async with runtime.pool.connection() as conn:
        await replace_chunks(conn, event.tenantid, parsed.document_id, rows)

    indexed = DocumentIndexedV1(
        document_id=parsed.document_id,
        attempt=parsed.attempt,
        chunk_count=len(rows),
        page_count=parsed.page_count,
        embedding_model=runtime.embedder.label,
    )
    await emit(runtime, topics.DOCUMENT_INDEXED, event, indexed, parsed.document_id)
    log.info(
        "document_indexed",
        tenant_id=event.tenantid,
        document_id=parsed.document_id,
        chunks=len(rows),
        trace_id=event.trace_id,
    )
