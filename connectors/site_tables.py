"""Postgres tables of website crawls: crawl progress and the pages indexed.

Rows are keyed by crawl id and by page document id, so a replayed crawl
request rewrites the same rows.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from schemas.envelope import CloudEvent
from schemas.sites import LIMIT_FIELDS, SiteCrawlRequestedV1


@dataclass(frozen=True)
class KnownPage:
    """A page as the last crawl of its site left it."""

    document_id: str
    url: str
    content_sha256: str
    version: int
    text_uri: str


@dataclass
class CrawlCounts:
    fetched: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    pdfs: int = 0
    failed: dict[str, int] | None = None

    def fail(self, reason: str) -> None:
        if self.failed is None:
            self.failed = {}
        self.failed[reason] = self.failed.get(reason, 0) + 1

    def failures(self) -> dict[str, int]:
        return dict(self.failed or {})


def crawl_row(event: CloudEvent, request: SiteCrawlRequestedV1) -> dict[str, Any]:
    """Return the columns of a crawl's row that its request event sets."""
    return {
        "tenant_id": event.tenantid,
        "crawl_id": request.crawl_id,
        "site_id": request.site_id,
        "start_url": request.start_url,
        "limits": request.model_dump(include=set(LIMIT_FIELDS)),
        "created_at": event.time,
        "trace_id": event.trace_id,
    }


async def insert_crawl(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    crawl_id: str,
    site_id: str,
    start_url: str,
    limits: dict[str, Any],
    created_at: datetime,
    trace_id: str | None,
    table: str = "site_crawls",
) -> None:
    """Insert the crawl as requested, unless it exists. The table name is a
    parameter so that a rebuild can fill a shadow table."""
    await conn.execute(
        sql.SQL(
            "INSERT INTO {} (crawl_id, tenant_id, site_id, start_url, limits, "
            " status, created_at, trace_id) "
            "VALUES (%s, %s, %s, %s, %s, 'requested', %s, %s) "
            "ON CONFLICT (crawl_id) DO NOTHING"
        ).format(sql.Identifier(table)),
        (crawl_id, tenant_id, site_id, start_url, Jsonb(limits), created_at, trace_id),
    )


async def start_crawl(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    crawl_id: str,
    site_id: str,
    start_url: str,
    limits: dict[str, Any],
    created_at: datetime,
    trace_id: str | None,
) -> None:
    """Mark the crawl running and reset its counts, because a replayed
    request crawls again from the start. The row is inserted when missing,
    because the worker may read the request before the API writes the row."""
    await conn.execute(
        "INSERT INTO site_crawls (crawl_id, tenant_id, site_id, start_url, limits, "
        " status, created_at, started_at, trace_id) "
        "VALUES (%s, %s, %s, %s, %s, 'running', %s, now(), %s) "
        "ON CONFLICT (crawl_id) DO UPDATE SET status = 'running', "
        " started_at = now(), finished_at = NULL, stop_reason = NULL, "
        " detail = NULL, fetched = 0, changed = 0, unchanged = 0, removed = 0, "
        " pdfs = 0, failed = '{}'::jsonb",
        (crawl_id, tenant_id, site_id, start_url, Jsonb(limits), created_at, trace_id),
    )


async def save_progress(
    conn: AsyncConnection,
    crawl_id: str,
    counts: CrawlCounts,
    *,
    status: str | None = None,
    stop_reason: str | None = None,
    detail: str | None = None,
) -> None:
    await conn.execute(
        "UPDATE site_crawls SET fetched = %s, changed = %s, unchanged = %s, "
        " removed = %s, pdfs = %s, failed = %s, "
        " status = COALESCE(%s, status), stop_reason = COALESCE(%s, stop_reason), "
        " detail = COALESCE(%s, detail), "
        " finished_at = CASE WHEN %s::text IS NULL THEN finished_at ELSE now() END "
        "WHERE crawl_id = %s",
        (
            counts.fetched,
            counts.changed,
            counts.unchanged,
            counts.removed,
            counts.pdfs,
            Jsonb(counts.failures()),
            status,
            stop_reason,
            detail,
            status,
            crawl_id,
        ),
    )


async def load_known_pages(
    conn: AsyncConnection, tenant_id: str, site_id: str
) -> dict[str, KnownPage]:
    """Return the site's pages from earlier crawls, by canonical URL."""
    cursor = await conn.execute(
        "SELECT document_id, url, content_sha256, version, text_uri "
        "FROM site_pages WHERE tenant_id = %s AND site_id = %s",
        (tenant_id, site_id),
    )
    return {row[1]: KnownPage(*row) for row in await cursor.fetchall()}


async def save_page(
    conn: AsyncConnection,
    *,
    tenant_id: str,
    site_id: str,
    crawl_id: str,
    page: KnownPage,
    title: str,
    changed: bool,
    fetched_at: datetime | None = None,
    table: str = "site_pages",
) -> None:
    """Upsert the page as this crawl saw it. `fetched_at` defaults to now; a
    rebuild passes the event's time and a shadow table's name."""
    await conn.execute(
        sql.SQL(
            "INSERT INTO {table} AS p (tenant_id, document_id, site_id, url, "
            " title, content_sha256, version, text_uri, last_crawl_id, "
            " changed_crawl_id, fetched_at) "
            "VALUES (%(tenant)s, %(doc)s, %(site)s, %(url)s, %(title)s, %(sha)s, "
            " %(version)s, %(uri)s, %(crawl)s, %(crawl)s, "
            " COALESCE(%(fetched_at)s, now())) "
            "ON CONFLICT (tenant_id, document_id) DO UPDATE SET "
            " site_id = EXCLUDED.site_id, url = EXCLUDED.url, "
            " title = EXCLUDED.title, content_sha256 = EXCLUDED.content_sha256, "
            " version = EXCLUDED.version, text_uri = EXCLUDED.text_uri, "
            " last_crawl_id = EXCLUDED.last_crawl_id, "
            " changed_crawl_id = CASE WHEN %(changed)s "
            "  THEN EXCLUDED.changed_crawl_id ELSE p.changed_crawl_id END, "
            " fetched_at = EXCLUDED.fetched_at"
        ).format(table=sql.Identifier(table)),
        {
            "tenant": tenant_id,
            "doc": page.document_id,
            "site": site_id,
            "url": page.url,
            "title": title,
            "sha": page.content_sha256,
            "version": page.version,
            "uri": page.text_uri,
            "crawl": crawl_id,
            "changed": changed,
            "fetched_at": fetched_at,
        },
    )


async def delete_page(conn: AsyncConnection, tenant_id: str, document_id: str) -> None:
    await conn.execute(
        "DELETE FROM site_pages WHERE tenant_id = %s AND document_id = %s",
        (tenant_id, document_id),
    )


async def delete_page_document(
    conn: AsyncConnection, tenant_id: str, document_id: str
) -> int:
    """Delete a removed page's chunks and document row; return chunks deleted."""
    async with conn.transaction():
        cursor = await conn.execute(
            "DELETE FROM document_chunks WHERE tenant_id = %s AND document_id = %s",
            (tenant_id, document_id),
        )
        await conn.execute(
            "DELETE FROM documents WHERE tenant_id = %s AND document_id = %s",
            (tenant_id, document_id),
        )
    return cursor.rowcount


async def fetch_crawl(
    conn: AsyncConnection, tenant_id: str, crawl_id: str
) -> dict[str, Any] | None:
    """Return the crawl's row plus `indexed`: how many of the pages it
    changed are indexed at their current version."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(
            "SELECT * FROM site_crawls WHERE tenant_id = %s AND crawl_id = %s",
            (tenant_id, crawl_id),
        )
        crawl = await cursor.fetchone()
        if crawl is None:
            return None
        await cursor.execute(
            "SELECT count(*) FILTER (WHERE d.status = 'indexed' "
            "  AND d.attempt >= p.version) AS indexed, "
            " count(*) FILTER (WHERE d.status IN ('failed', 'no_text') "
            "  AND d.attempt >= p.version) AS not_indexed "
            "FROM site_pages p LEFT JOIN documents d "
            " ON d.tenant_id = p.tenant_id AND d.document_id = p.document_id "
            "WHERE p.tenant_id = %s AND p.changed_crawl_id = %s",
            (tenant_id, crawl_id),
        )
        counts = await cursor.fetchone()
    assert counts is not None
    crawl["indexed"] = counts["indexed"]
    crawl["not_indexed"] = counts["not_indexed"]
    return crawl
