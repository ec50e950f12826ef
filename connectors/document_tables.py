"""Postgres tables materialized from document events.

Every write is keyed by a deterministic id (event id, document id, chunk
index), so a replayed or duplicated event changes nothing.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from schemas import topics
from schemas.envelope import CloudEvent

# Later stages outrank earlier ones within an attempt, so an event that is
# processed late never moves a document back to an earlier status.
_STATUS_RANK = {"uploaded": 0, "parsed": 1, "indexed": 2, "failed": 2, "no_text": 2}
FINAL_STATUSES = frozenset({"indexed", "failed", "no_text"})


@dataclass(frozen=True)
class ChunkRow:
    chunk_id: str
    chunk_index: int
    page: int
    content: str
    search_text: str  # segmented text for to_tsvector
    embedding: np.ndarray


def status_of(event: CloudEvent) -> str:
    if event.type == topics.DOCUMENT_FAILED.event_type:
        return str(event.data["outcome"])
    for spec, status in (
        (topics.DOCUMENT_UPLOADED, "uploaded"),
        (topics.DOCUMENT_PARSED, "parsed"),
        (topics.DOCUMENT_INDEXED, "indexed"),
    ):
        if event.type == spec.event_type:
            return status
    raise ValueError(f"{event.type!r} is not a document event type")


async def record_document_event(
    conn: AsyncConnection,
    event: CloudEvent,
    *,
    documents_table: str = "documents",
    events_table: str = "document_events",
) -> None:
    """Add the event to the document's trail and move its status forward.

    The table names are parameters so that a rebuild can fill shadow tables.
    """
    data = event.data
    status = status_of(event)
    attempt = int(data.get("attempt", 1))
    rank = attempt * 10 + _STATUS_RANK[status]

    async with conn.transaction():
        await conn.execute(
            sql.SQL(
                "INSERT INTO {} (event_id, tenant_id, document_id, "
                " event_type, status, attempt, reason, detail, time, trace_id) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (event_id) DO NOTHING"
            ).format(sql.Identifier(events_table)),
            (
                event.id,
                event.tenantid,
                data["document_id"],
                event.type,
                status,
                attempt,
                data.get("reason"),
                data.get("detail"),
                event.time,
                event.trace_id,
            ),
        )
        await conn.execute(
            sql.SQL("""
            INSERT INTO {} AS d (tenant_id, document_id, filename,
                content_type, size_bytes, sha256, object_uri, status, reason,
                detail, attempt, page_count, chunk_count, created_at,
                status_time, status_rank)
            VALUES (%(tenant)s, %(document_id)s, %(filename)s, %(content_type)s,
                %(size_bytes)s, %(sha256)s, %(object_uri)s, %(status)s,
                %(reason)s, %(detail)s, %(attempt)s, %(page_count)s,
                %(chunk_count)s, %(time)s, %(time)s, %(rank)s)
            ON CONFLICT (tenant_id, document_id) DO UPDATE SET
                filename = COALESCE(EXCLUDED.filename, d.filename),
                content_type = COALESCE(EXCLUDED.content_type, d.content_type),
                size_bytes = COALESCE(EXCLUDED.size_bytes, d.size_bytes),
                sha256 = COALESCE(EXCLUDED.sha256, d.sha256),
                object_uri = COALESCE(EXCLUDED.object_uri, d.object_uri),
                page_count = COALESCE(EXCLUDED.page_count, d.page_count),
                chunk_count = COALESCE(EXCLUDED.chunk_count, d.chunk_count),
                created_at = LEAST(d.created_at, EXCLUDED.created_at),
                status = CASE WHEN EXCLUDED.status_rank >= d.status_rank
                    THEN EXCLUDED.status ELSE d.status END,
                reason = CASE WHEN EXCLUDED.status_rank >= d.status_rank
                    THEN EXCLUDED.reason ELSE d.reason END,
                detail = CASE WHEN EXCLUDED.status_rank >= d.status_rank
                    THEN EXCLUDED.detail ELSE d.detail END,
                attempt = GREATEST(d.attempt, EXCLUDED.attempt),
                status_time = CASE WHEN EXCLUDED.status_rank >= d.status_rank
                    THEN EXCLUDED.status_time ELSE d.status_time END,
                status_rank = GREATEST(d.status_rank, EXCLUDED.status_rank)
            """).format(sql.Identifier(documents_table)),
            {
                "tenant": event.tenantid,
                "document_id": data["document_id"],
                "filename": data.get("filename"),
                "content_type": data.get("content_type"),
                "size_bytes": data.get("size_bytes"),
                "sha256": data.get("sha256"),
                "object_uri": data.get("object_uri"),
                "status": status,
                "reason": data.get("reason"),
                "detail": data.get("detail"),
                "attempt": attempt,
                "page_count": data.get("page_count"),
                "chunk_count": data.get("chunk_count"),
                "time": event.time,
                "rank": rank,
            },
        )


async def replace_chunks(
    conn: AsyncConnection,
    tenant_id: str,
    document_id: str,
    rows: list[ChunkRow],
    *,
    table: str = "document_chunks",
) -> None:
    """Upsert the document's chunks and drop any left from a longer earlier run."""
    async with conn.transaction():
        async with conn.cursor() as cursor:
            await cursor.executemany(
                sql.SQL(
                    "INSERT INTO {} (chunk_id, tenant_id, document_id, "
                    " chunk_index, page, content, search_text, embedding) "
                    "VALUES (%s, %s, %s, %s, %s, %s, to_tsvector('english', %s), %s) "
                    "ON CONFLICT (chunk_id) DO UPDATE SET page = EXCLUDED.page, "
                    " content = EXCLUDED.content, search_text = EXCLUDED.search_text, "
                    " embedding = EXCLUDED.embedding"
                ).format(sql.Identifier(table)),
                [
                    (
                        row.chunk_id,
                        tenant_id,
                        document_id,
                        row.chunk_index,
                        row.page,
                        row.content,
                        row.search_text,
                        row.embedding,
                    )
                    for row in rows
                ],
            )
        await conn.execute(
            sql.SQL(
                "DELETE FROM {} WHERE tenant_id = %s AND document_id = %s "
                "AND chunk_index >= %s"
            ).format(sql.Identifier(table)),
            (tenant_id, document_id, len(rows)),
        )


async def fetch_document(
    conn: AsyncConnection, tenant_id: str, document_id: str
) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT * FROM documents WHERE tenant_id = %s AND document_id = %s",
            (tenant_id, document_id),
        )
        document = await cursor.fetchone()
        if document is None:
            return None
        await cursor.execute(
            "SELECT event_id, event_type, status, attempt, reason, detail, time "
            "FROM document_events WHERE tenant_id = %s AND document_id = %s "
            "ORDER BY time, attempt",
            (tenant_id, document_id),
        )
        document["events"] = await cursor.fetchall()
    return document


async def list_documents(
    conn: AsyncConnection, tenant_id: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT * FROM documents WHERE tenant_id = %s "
            "ORDER BY created_at DESC, document_id LIMIT %s OFFSET %s",
            (tenant_id, limit, offset),
        )
        return await cursor.fetchall()


async def lock_document(
    conn: AsyncConnection, tenant_id: str, document_id: str
) -> None:
    """Hold a transaction-scoped advisory lock on one document.

    Requests that take it wait for each other until the holder's transaction
    ends, so only the first of several concurrent uploads of the same bytes
    publishes an event, and the others find its row.
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
        (f"document\x1f{tenant_id}\x1f{document_id}",),
    )


async def claim_retry(
    conn: AsyncConnection, tenant_id: str, document_id: str, attempt: int
) -> bool:
    """Move a failed or no_text document to `attempt + 1` unless a request did.

    The conditional update makes concurrent retries of one document race for
    one row, so exactly one of them gets the next attempt number.
    """
    cursor = await conn.execute(
        "UPDATE documents SET attempt = attempt + 1, status = 'uploaded', "
        " reason = NULL, detail = NULL, status_time = now(), "
        " status_rank = (attempt + 1) * 10 "
        "WHERE tenant_id = %s AND document_id = %s AND attempt = %s "
        " AND status IN ('failed', 'no_text')",
        (tenant_id, document_id, attempt),
    )
    return cursor.rowcount == 1
