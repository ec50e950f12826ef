"""The view of website crawls that `tidings rebuild sites` rebuilds.

It contains the tables that the API and the crawl stage write: `site_crawls`
(one row per crawl) and `site_pages` (the pages that the site's last crawls
left). Page removals and fetches come from two topics, whose relative order
Kafka does not keep, so the event times order them: a removal deletes a page
fetched before it and hides fetches older than itself.
"""

from dataclasses import dataclass, field
from datetime import datetime

import structlog
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from connectors.site_tables import KnownPage, crawl_row, insert_crawl, save_page
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.sites import (
    SiteCrawlCompletedV1,
    SiteCrawlRequestedV1,
    SitePageFetchedV1,
    SitePageRemovedV1,
)
from tidings.history.views import TableSpec, View
from tidings.settings import Settings

log = structlog.get_logger(__name__)

SITE_CRAWLS_TABLE = TableSpec(
    name="site_crawls",
    key=("crawl_id",),
    # NOTE: started_at and finished_at are not compared, because the crawl
    # stage sets them to Postgres' now() and no event carries them. The
    # rebuild takes the times of the crawl's first and last events instead.
    columns=(
        "tenant_id",
        "site_id",
        "start_url",
        "limits",
        "status",
        "stop_reason",
        "detail",
        "fetched",
        "changed",
        "unchanged",
        "removed",
        "pdfs",
        "failed",
        "created_at",
        "trace_id",
    ),
)
SITE_PAGES_TABLE = TableSpec(
    name="site_pages",
    key=("tenant_id", "document_id"),
    # NOTE: fetched_at is not compared either, because the stage saves the
    # page with now() just after it publishes the page's event.
    columns=(
        "site_id",
        "url",
        "title",
        "content_sha256",
        "version",
        "text_uri",
        "last_crawl_id",
        "changed_crawl_id",
    ),
)

# A page removed at or after this fetch's time is gone.
DELETE_OLDER_PAGE_SQL = """
DELETE FROM {} WHERE tenant_id = %s AND document_id = %s AND fetched_at <= %s
"""

MARK_RUNNING_SQL = """
UPDATE {} SET status = CASE WHEN status = 'requested' THEN 'running'
    ELSE status END,
    started_at = LEAST(COALESCE(started_at, %(time)s), %(time)s)
WHERE crawl_id = %(crawl_id)s
"""

COMPLETE_CRAWL_SQL = """
UPDATE {} SET status = %(outcome)s, stop_reason = %(stop_reason)s,
    detail = %(detail)s, fetched = %(fetched)s, changed = %(changed)s,
    unchanged = %(unchanged)s, removed = %(removed)s, pdfs = %(pdfs)s,
    failed = %(failed)s, started_at = COALESCE(started_at, %(time)s),
    finished_at = %(time)s
WHERE crawl_id = %(crawl_id)s
"""


@dataclass
class SitesBuilder:
    """The writes of the API and the crawl stage to the crawl tables.

    Completions are applied after each pass over the topics, because the
    crawl-requested event that inserts the row is on another topic.
    """

    settings: Settings
    # The latest removal of each (tenant id, document id).
    removals: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # The time of each crawl's first page event, in the current pass.
    started: dict[str, datetime] = field(default_factory=dict)
    completions: list[CloudEvent] = field(default_factory=list)

    async def apply(self, conn: AsyncConnection, event: CloudEvent) -> None:
        if event.type == topics.SITE_CRAWL_REQUESTED.event_type:
            await self._requested(conn, event)
        elif event.type == topics.SITE_PAGE_FETCHED.event_type:
            await self._fetched(conn, event)
        elif event.type == topics.SITE_PAGE_REMOVED.event_type:
            await self._removed(conn, event)
        elif event.type == topics.SITE_CRAWL_COMPLETED.event_type:
            SiteCrawlCompletedV1.model_validate(event.data)
            self.completions.append(event)

    async def finish(self, conn: AsyncConnection) -> None:
        table = sql.Identifier(SITE_CRAWLS_TABLE.shadow)
        for crawl_id, time in self.started.items():
            await conn.execute(
                sql.SQL(MARK_RUNNING_SQL).format(table),
                {"crawl_id": crawl_id, "time": time},
            )
        for event in self.completions:
            completed = SiteCrawlCompletedV1.model_validate(event.data)
            await conn.execute(
                sql.SQL(COMPLETE_CRAWL_SQL).format(table),
                {
                    **completed.model_dump(exclude={"failed"}),
                    "failed": Jsonb(completed.failed),
                    "time": event.time,
                },
            )
        self.started = {}
        self.completions = []

    async def _requested(self, conn: AsyncConnection, event: CloudEvent) -> None:
        request = SiteCrawlRequestedV1.model_validate(event.data)
        await insert_crawl(
            conn, **crawl_row(event, request), table=SITE_CRAWLS_TABLE.shadow
        )

    async def _fetched(self, conn: AsyncConnection, event: CloudEvent) -> None:
        page = SitePageFetchedV1.model_validate(event.data)
        self._note_start(page.crawl_id, event.time)
        removed_at = self.removals.get((event.tenantid, page.document_id))
        if removed_at is not None and removed_at >= event.time:
            return
        await save_page(
            conn,
            tenant_id=event.tenantid,
            site_id=page.site_id,
            crawl_id=page.crawl_id,
            page=KnownPage(
                page.document_id,
                page.url,
                page.content_sha256,
                page.version,
                page.text_uri,
            ),
            title=page.title,
            changed=page.changed,
            fetched_at=event.time,
            table=SITE_PAGES_TABLE.shadow,
        )

    async def _removed(self, conn: AsyncConnection, event: CloudEvent) -> None:
        removed = SitePageRemovedV1.model_validate(event.data)
        self._note_start(removed.crawl_id, event.time)
        key = (event.tenantid, removed.document_id)
        self.removals[key] = max(event.time, self.removals.get(key, event.time))
        await conn.execute(
            sql.SQL(DELETE_OLDER_PAGE_SQL).format(
                sql.Identifier(SITE_PAGES_TABLE.shadow)
            ),
            (event.tenantid, removed.document_id, event.time),
        )

    def _note_start(self, crawl_id: str, time: datetime) -> None:
        self.started[crawl_id] = min(time, self.started.get(crawl_id, time))


SITE_TOPICS = (
    topics.SITE_CRAWL_REQUESTED,
    topics.SITE_PAGE_FETCHED,
    topics.SITE_PAGE_REMOVED,
    topics.SITE_CRAWL_COMPLETED,
)

SITES_VIEW = View(
    name="sites",
    description="Website crawls and the pages they left, from the four "
    "tidings.site.* topics (what the API and the crawl stage write).",
    topics=SITE_TOPICS,
    tables=(SITE_CRAWLS_TABLE, SITE_PAGES_TABLE),
    builder=SitesBuilder,
)
