"""Materialized views that `tidings rebuild` can rebuild from Kafka history.

A view names the topics it is built from, the tables it fills, and a builder
that applies events to those tables with the same functions the live stages
use, only with the shadow tables' names.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import psycopg
import structlog
from psycopg import AsyncConnection, sql
from pydantic import ValidationError

from connectors.document_tables import (
    ChunkRow,
    record_document_event,
    replace_chunks,
)
from connectors.embedder import Embedder, shared_embedder
from connectors.objectstore import ObjectStore, ObjectStoreError, open_object_store
from connectors.verification_tables import (
    FILLED_ONCE_COLUMNS,
    record_verification_event,
)
from connectors.webhook_deliveries import record_attempt, schedule_delivery
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.events import DocumentParsedV1
from schemas.sites import SitePageRemovedV1
from streams.chunk_indexes import CHUNK_INDEX_LOCK_ID
from streams.index import build_chunk_rows
from tidings.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TableSpec:
    """A table of a view and how `--check` compares two versions of it."""

    name: str
    key: tuple[str, ...]  # primary key columns
    columns: tuple[str, ...]  # other columns, compared for equality
    vectors: tuple[str, ...] = ()  # embeddings, compared by cosine distance

    @property
    def shadow(self) -> str:
        return f"{self.name}_shadow"


class ViewBuilder(Protocol):
    async def apply(self, conn: AsyncConnection, event: CloudEvent) -> None:
        """Apply one event. Raise one of SKIPPED_EVENT_ERRORS for an event
        that the live stage would dead-letter."""

    async def finish(self, conn: AsyncConnection) -> None:
        """Write what `apply` deferred; called after each pass over the topics."""


@dataclass(frozen=True)
class View:
    name: str
    description: str
    topics: tuple[topics.TopicSpec, ...]
    tables: tuple[TableSpec, ...]
    builder: Callable[[Settings], ViewBuilder]
    # Advisory lock held from the shadow tables' creation until the swap
    # commits, to keep out jobs that change the live tables' indexes.
    lock_id: int | None = None
    # Runs inside the swap's transaction, after the shadows got the live names.
    after_swap: Callable[[AsyncConnection], Awaitable[None]] | None = None

    def table(self, name: str) -> TableSpec:
        return next(table for table in self.tables if table.name == name)


DOCUMENTS_TABLE = TableSpec(
    name="documents",
    key=("tenant_id", "document_id"),
    columns=(
        "filename",
        "content_type",
        "size_bytes",
        "sha256",
        "object_uri",
        "status",
        "reason",
        "detail",
        "attempt",
        "page_count",
        "chunk_count",
        "created_at",
        "status_time",
        "status_rank",
    ),
)
DOCUMENT_EVENTS_TABLE = TableSpec(
    name="document_events",
    key=("event_id",),
    columns=(
        "tenant_id",
        "document_id",
        "event_type",
        "status",
        "attempt",
        "reason",
        "detail",
        "time",
        "trace_id",
    ),
)
DOCUMENT_CHUNKS_TABLE = TableSpec(
    name="document_chunks",
    key=("chunk_id",),
    columns=(
        "tenant_id",
        "document_id",
        "chunk_index",
        "page",
        "content",
        "search_text",
    ),
    vectors=("embedding",),
)


def page_removal(event: CloudEvent) -> tuple[tuple[str, str], datetime] | None:
    """Return (tenant id, document id) and time of a site.page-removed event,
    or None for any other event."""
    if event.type != topics.SITE_PAGE_REMOVED.event_type:
        return None
    removed = SitePageRemovedV1.model_validate(event.data)
    return (event.tenantid, removed.document_id), event.time


# The site page stage deletes a removed page's document row. A row that got
# events after the removal belongs to the page's return and stays.
DELETE_REMOVED_DOCUMENT_SQL = """
DELETE FROM {documents} d
WHERE d.tenant_id = %(tenant)s AND d.document_id = %(document)s
  AND NOT EXISTS (
    SELECT 1 FROM {events} e
    WHERE e.tenant_id = d.tenant_id AND e.document_id = d.document_id
      AND e.time > %(removed_at)s
  )
"""


@dataclass
class DocumentsBuilder:
    """The status stage's writes: `documents` and their `document_events`,
    and the site page stage's deletes of removed pages' documents.

    Removals are applied after each pass over the topics, because they come
    from another topic than the document events they undo.
    """

    settings: Settings
    removals: dict[tuple[str, str], datetime] = field(default_factory=dict)

    async def apply(self, conn: AsyncConnection, event: CloudEvent) -> None:
        removal = page_removal(event)
        if removal is not None:
            key, time = removal
            self.removals[key] = max(time, self.removals.get(key, time))
            return
        await record_document_event(
            conn,
            event,
            documents_table=DOCUMENTS_TABLE.shadow,
            events_table=DOCUMENT_EVENTS_TABLE.shadow,
        )

    async def finish(self, conn: AsyncConnection) -> None:
        # NOTE: a page that returns after its removal keeps the row that all
        # its events built, so created_at and attempt can still show the
        # events from before the removal, which the live row dropped.
        statement = sql.SQL(DELETE_REMOVED_DOCUMENT_SQL).format(
            documents=sql.Identifier(DOCUMENTS_TABLE.shadow),
            events=sql.Identifier(DOCUMENT_EVENTS_TABLE.shadow),
        )
        for (tenant_id, document_id), removed_at in self.removals.items():
            await conn.execute(
                statement,
                {
                    "tenant": tenant_id,
                    "document": document_id,
                    "removed_at": removed_at,
                },
            )


@dataclass
class DocumentChunksBuilder:
    """The index stage's writes: chunks and embeddings of each parsed document,
    and the site page stage's deletes of removed pages' chunks.

    For each document, the newest `document.parsed` event whose page text
    yields chunks wins, as in the live stage: a later attempt replaces the
    chunks, and an attempt without text or object leaves the earlier ones.
    Only that event's text is chunked and embedded. A `site.page-removed`
    event deletes the page's chunks, so only parsed events after the page's
    latest removal count. The two topics' relative order is not kept, so the
    event times decide what came after.
    """

    settings: Settings
    store: ObjectStore | None = None
    embedder: Embedder | None = None
    pending: dict[tuple[str, str], list[CloudEvent]] = field(default_factory=dict)
    removals: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # Removals read in the current pass, whose chunks are deleted at finish.
    new_removals: set[tuple[str, str]] = field(default_factory=set)
    missing_objects: int = 0

    async def apply(self, conn: AsyncConnection, event: CloudEvent) -> None:
        removal = page_removal(event)
        if removal is not None:
            key, time = removal
            self.removals[key] = max(time, self.removals.get(key, time))
            self.new_removals.add(key)
            return
        if event.type != topics.DOCUMENT_PARSED.event_type:
            return
        parsed = DocumentParsedV1.model_validate(event.data)
        self.pending.setdefault((event.tenantid, parsed.document_id), []).append(event)

    async def finish(self, conn: AsyncConnection) -> None:
        for tenant_id, document_id in self.new_removals:
            await conn.execute(
                sql.SQL(
                    "DELETE FROM {} WHERE tenant_id = %s AND document_id = %s"
                ).format(sql.Identifier(DOCUMENT_CHUNKS_TABLE.shadow)),
                (tenant_id, document_id),
            )
        self.new_removals = set()
        for key, events in list(self.pending.items()):
            removed_at = self.removals.get(key)
            if removed_at is not None:
                self.pending[key] = [e for e in events if e.time > removed_at]
        self.pending = {key: events for key, events in self.pending.items() if events}
        if not self.pending:
            return
        if self.store is None:
            self.store = open_object_store(self.settings)
        if self.embedder is None:
            self.embedder = shared_embedder(
                self.settings.embedding_model, self.settings.embedding_batch_size
            )
        log.info("chunks_rebuilding", documents=len(self.pending))
        for (tenant_id, document_id), events in self.pending.items():
            for event in reversed(events):
                rows = await self._rows(event)
                if rows:
                    await replace_chunks(
                        conn,
                        tenant_id,
                        document_id,
                        rows,
                        table=DOCUMENT_CHUNKS_TABLE.shadow,
                    )
                    break
        self.pending = {}

    async def _rows(self, event: CloudEvent) -> list[ChunkRow]:
        assert self.store is not None and self.embedder is not None
        parsed = DocumentParsedV1.model_validate(event.data)
        try:
            body = json.loads(await self.store.get(parsed.text_uri))
            pages = body["pages"]
        except (ObjectStoreError, ValueError, KeyError, TypeError) as exc:
            self.missing_objects += 1
            log.warning(
                "page_text_unreadable",
                tenant_id=event.tenantid,
                document_id=parsed.document_id,
                text_uri=parsed.text_uri,
                error=str(exc),
            )
            return []
        return await build_chunk_rows(
            parsed.document_id, pages, self.settings, self.embedder
        )


WEBHOOK_DELIVERIES_TABLE = TableSpec(
    name="webhook_deliveries",
    key=("webhook_id",),
    # The lease columns are the dispatcher's process state, not history.
    columns=(
        "tenant_id",
        "job_id",
        "event_id",
        "subject",
        "request_id",
        "traceparent",
        "url",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "updated_at",
    ),
)
VERIFICATION_JOBS_TABLE = TableSpec(
    name="verification_jobs",
    key=("tenant_id", "job_id"),
    columns=("status", "status_rank", *FILLED_ONCE_COLUMNS, "updated_at"),
)
VERIFICATION_CHECKS_TABLE = TableSpec(
    name="verification_checks",
    key=("tenant_id", "job_id", "check_name"),
    columns=(
        "status",
        "provider",
        "score",
        "reasons",
        "evidence",
        "details",
        "attempts",
        "duration_ms",
        "event_id",
        "checked_at",
    ),
)
VERIFICATION_EVENTS_TABLE = TableSpec(
    name="verification_events",
    key=("event_id",),
    columns=(
        "tenant_id",
        "job_id",
        "event_type",
        "summary",
        "data",
        "time",
        "trace_id",
    ),
)


@dataclass
class WebhookDeliveriesBuilder:
    """The callbacks stage's writes: one delivery per completion, moved on by
    its attempts.

    Attempts are applied after every completion has been read, because the
    two topics are read side by side and an attempt needs its row.
    """

    settings: Settings
    attempts: list[CloudEvent] = field(default_factory=list)

    async def apply(self, conn: AsyncConnection, event: CloudEvent) -> None:
        if event.type == topics.VERIFICATION_COMPLETED.event_type:
            await schedule_delivery(conn, event, table=WEBHOOK_DELIVERIES_TABLE.shadow)
        elif event.type == topics.VERIFICATION_CALLBACK_ATTEMPTED.event_type:
            self.attempts.append(event)

    async def finish(self, conn: AsyncConnection) -> None:
        for event in self.attempts:
            await record_attempt(conn, event, table=WEBHOOK_DELIVERIES_TABLE.shadow)
        self.attempts = []


class VerificationJobsBuilder:
    """The verification-state stage's writes: jobs, check results and trail."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def apply(self, conn: AsyncConnection, event: CloudEvent) -> None:
        await record_verification_event(
            conn,
            event,
            jobs_table=VERIFICATION_JOBS_TABLE.shadow,
            checks_table=VERIFICATION_CHECKS_TABLE.shadow,
            events_table=VERIFICATION_EVENTS_TABLE.shadow,
        )

    async def finish(self, conn: AsyncConnection) -> None:
        return None


# The API searches through the index that document_chunk_state names.
# Forgetting an index that the new table lacks sends that tenant to an exact
# scan until the chunk index timer builds the index again.
FORGET_MISSING_CHUNK_INDEXES_SQL = """
UPDATE document_chunk_state s SET vector_index = NULL, updated_at = now()
WHERE s.vector_index IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.tablename = 'document_chunks'
      AND i.indexname = s.vector_index
)
"""


async def forget_missing_chunk_indexes(conn: AsyncConnection) -> None:
    """Forget recorded chunk indexes that the swapped-in table lacks.

    Runs inside the swap's transaction, after the rename.
    """
    cursor = await conn.execute(FORGET_MISSING_CHUNK_INDEXES_SQL)
    if cursor.rowcount:
        log.warning("chunk_indexes_forgotten", tenants=cursor.rowcount)


DOCUMENT_TOPICS = (
    topics.DOCUMENT_UPLOADED,
    topics.DOCUMENT_PARSED,
    topics.DOCUMENT_INDEXED,
    topics.DOCUMENT_FAILED,
)

# The catalog's views are in catalog_views.py.
VIEWS: dict[str, View] = {
    "documents": View(
        name="documents",
        description="Documents and their event trail, from the four document "
        "topics, less the pages that site.page-removed removed (what the status "
        "and site page stages write).",
        topics=(*DOCUMENT_TOPICS, topics.SITE_PAGE_REMOVED),
        tables=(DOCUMENTS_TABLE, DOCUMENT_EVENTS_TABLE),
        builder=DocumentsBuilder,
    ),
    "document_chunks": View(
        name="document_chunks",
        description="Chunks and embeddings, from document.parsed events and the "
        "page text in the object store, less the pages that site.page-removed "
        "removed (what the index and site page stages write).",
        topics=(topics.DOCUMENT_PARSED, topics.SITE_PAGE_REMOVED),
        tables=(DOCUMENT_CHUNKS_TABLE,),
        builder=DocumentChunksBuilder,
        # The chunk index timer takes this lock too, so it builds no index on
        # the live table that the shadow table would lack.
        lock_id=CHUNK_INDEX_LOCK_ID,
        after_swap=forget_missing_chunk_indexes,
    ),
    "webhook_deliveries": View(
        name="webhook_deliveries",
        description="Webhook deliveries of verification jobs, from the completed "
        "and callback-attempted topics (what the callbacks stage writes).",
        topics=(
            topics.VERIFICATION_COMPLETED,
            topics.VERIFICATION_CALLBACK_ATTEMPTED,
        ),
        tables=(WEBHOOK_DELIVERIES_TABLE,),
        builder=WebhookDeliveriesBuilder,
    ),
    "verification_jobs": View(
        name="verification_jobs",
        description="Verification jobs, their check results and event trail, "
        "from the four verification topics (what the verification-state stage "
        "writes).",
        topics=(
            topics.VERIFICATION_REQUESTED,
            topics.VERIFICATION_CHECKED,
            topics.VERIFICATION_COMPLETED,
            topics.VERIFICATION_CALLBACK_ATTEMPTED,
        ),
        tables=(
            VERIFICATION_JOBS_TABLE,
            VERIFICATION_CHECKS_TABLE,
            VERIFICATION_EVENTS_TABLE,
        ),
        builder=VerificationJobsBuilder,
    ),
}

# Errors that make a live stage dead-letter an event; a rebuild skips it.
SKIPPED_EVENT_ERRORS: tuple[type[Exception], ...] = (
    KeyError,
    ValueError,
    ValidationError,
    # Postgres rejects the values themselves (a NUL byte in text, say).
    psycopg.DataError,
)


def register_view(view: View) -> None:
    """Add a view to the registry; its name must be new."""
    if view.name in VIEWS:
        raise ValueError(f"a view named {view.name!r} is already registered")
    VIEWS[view.name] = view


def load_views() -> dict[str, View]:
    """Return every view, the catalog's views included."""
    # Imported here because those modules import this one.
    from tidings.history import catalog_views, site_views

    for view in (
        catalog_views.PRODUCTS_VIEW,
        catalog_views.RECOMMENDATIONS_VIEW,
        site_views.SITES_VIEW,
    ):
        VIEWS.setdefault(view.name, view)
    return VIEWS
