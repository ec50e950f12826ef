"""Site page stage: site.page-fetched -> document.parsed for changed pages,
and site.page-removed -> the page's chunks deleted.

A changed page becomes a `document.parsed` event with one page of text, so
the index stage chunks, embeds and indexes it with the same code as a PDF.
The page's version is the document's attempt.
"""

import structlog

from connectors.site_tables import delete_page_document
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.events import DocumentParsedV1
from schemas.sites import SitePageFetchedV1, SitePageRemovedV1
from streams.emit import emit
from streams.runtime import Runtime

log = structlog.get_logger(__name__)


async def _current_version(runtime: Runtime, tenant_id: str, document_id: str) -> int:
    assert runtime.pool is not None
    async with runtime.pool.connection() as conn:
        cursor = await conn.execute(
            "SELECT version FROM site_pages WHERE tenant_id = %s AND document_id = %s",
            (tenant_id, document_id),
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def handle_page_fetched(event: CloudEvent, runtime: Runtime) -> None:
    page = SitePageFetchedV1.model_validate(event.data)
    if not page.changed:
        return
    # A replayed event of an older version must not index outdated text.
    if await _current_version(runtime, event.tenantid, page.document_id) > page.version:
        return

    parsed = DocumentParsedV1(
        document_id=page.document_id,
        filename=page.url,
        sha256=page.content_sha256,
        attempt=page.version,
        page_count=1,
        text_uri=page.text_uri,
        text_chars=page.text_chars,
    )
    await emit(runtime, topics.DOCUMENT_PARSED, event, parsed, page.document_id)


async def handle_page_removed(event: CloudEvent, runtime: Runtime) -> None:
    assert runtime.pool is not None
    removed = SitePageRemovedV1.model_validate(event.data)
    # NOTE: an older document.parsed of this page that the index stage has
    # not processed yet writes the chunks back after this delete. A later
    # crawl removes them again.
    async with runtime.pool.connection() as conn:
        chunks = await delete_page_document(conn, event.tenantid, removed.document_id)
    log.info(
        "site_page_removed",
        tenant_id=event.tenantid,
        crawl_id=removed.crawl_id,
        document_id=removed.document_id,
        url=removed.url,
        reason=removed.reason,
        chunks_deleted=chunks,
    )


async def handle_site_page_event(event: CloudEvent, runtime: Runtime) -> None:
    if event.type == topics.SITE_PAGE_REMOVED.event_type:
        await handle_page_removed(event, runtime)
    else:
        await handle_page_fetched(event, runtime)
