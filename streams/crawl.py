"""Crawl stage: site.crawl-requested -> crawl process -> site.page-fetched per
page, site.page-removed per vanished page, site.crawl-completed.

A page counts as changed when the SHA-256 of its title and main text differs
from the last crawl's, and only changed pages are stored and indexed again.
"""

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import structlog

from connectors.site_tables import (
    CrawlCounts,
    KnownPage,
    crawl_row,
    delete_page,
    fetch_crawl,
    load_known_pages,
    save_page,
    save_progress,
    start_crawl,
)
from connectors.sites.config import CrawlConfig
from connectors.sites.runner import CrawlProcessError, run_crawl
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.sites import (
    CrawlOutcome,
    SiteCrawlCompletedV1,
    SiteCrawlRequestedV1,
    SitePageFetchedV1,
    SitePageRemovedV1,
)
from streams.emit import emit
from streams.runtime import Runtime
from streams.site_pdfs import hand_over_pdf
from tidings.ids import page_document_id

log = structlog.get_logger(__name__)

PROGRESS_INTERVAL_SECONDS = 1.0
GONE_REASONS = frozenset({"http_404", "http_410"})


def page_text_key(tenant_id: str, site_id: str, document_id: str, sha: str) -> str:
    return f"tenants/{tenant_id}/sites/{site_id}/pages/{document_id}/{sha}.json"


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest()


def crawl_config(
    request: SiteCrawlRequestedV1, runtime: Runtime, output_dir: str
) -> CrawlConfig:
    settings = runtime.settings
    return CrawlConfig(
        start_url=request.start_url,
        allowed_domains=tuple(request.allowed_domains),
        path_prefixes=tuple(request.path_prefixes),
        output_dir=output_dir,
        max_pages=request.max_pages,
        max_depth=request.max_depth,
        delay_seconds=request.delay_seconds,
        max_seconds=request.max_seconds,
        max_page_bytes=settings.site_max_page_bytes,
        max_pdf_bytes=settings.max_upload_bytes,
        concurrency=settings.site_crawl_concurrency,
        allow_networks=tuple(settings.site_url_allow_networks),
    )


@dataclass
class CrawlSession:
    """The state of one crawl while its records arrive."""

    runtime: Runtime
    event: CloudEvent
    request: SiteCrawlRequestedV1
    known: dict[str, KnownPage]
    counts: CrawlCounts = field(default_factory=CrawlCounts)
    seen: set[str] = field(default_factory=set)
    not_found: set[str] = field(default_factory=set)
    saved_at: float = 0.0

    @property
    def tenant_id(self) -> str:
        return self.event.tenantid

    async def on_record(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if kind == "page":
            await self._page(record)
        elif kind == "pdf":
            await self._pdf(record)
        elif kind == "failed":
            self._failed(record)
        if time.monotonic() - self.saved_at >= PROGRESS_INTERVAL_SECONDS:
            await self.save()

    async def save(self, **final: str) -> None:
        assert self.runtime.pool is not None
        async with self.runtime.pool.connection() as conn:
            await save_progress(conn, self.request.crawl_id, self.counts, **final)
        self.saved_at = time.monotonic()

    async def _page(self, record: dict[str, Any]) -> None:
        assert self.runtime.store is not None and self.runtime.pool is not None
        url = record["url"]
        self.seen.update({url, record.get("requested_url", url)})
        title = record.get("title") or ""
        text = record.get("text") or ""
        if not text.strip():
            self.counts.fail("no_text")
            return

        sha = content_hash(title, text)
        document_id = page_document_id(self.tenant_id, url)
        previous = self.known.get(url)
        changed = previous is None or previous.content_sha256 != sha
        if changed:
            version = previous.version + 1 if previous else 1
            # The title leads the indexed text, so a search for title words
            # finds the page.
            body = {"pages": [f"{title}\n\n{text}" if title else text]}
            key = page_text_key(self.tenant_id, self.request.site_id, document_id, sha)
            text_uri = await self.runtime.store.put(
                key, json.dumps({**body, "url": url, "title": title}).encode()
            )
        else:
            assert previous is not None
            version, text_uri = previous.version, previous.text_uri

        page = KnownPage(document_id, url, sha, version, text_uri)
        payload = SitePageFetchedV1(
            crawl_id=self.request.crawl_id,
            site_id=self.request.site_id,
            document_id=document_id,
            url=url,
            title=title,
            depth=int(record.get("depth") or 0),
            encoding=record.get("encoding") or "utf-8",
            content_sha256=sha,
            text_uri=text_uri,
            text_chars=len(text),
            changed=changed,
            version=version,
        )
        await emit(
            self.runtime,
            topics.SITE_PAGE_FETCHED,
            self.event,
            payload,
            document_id,
            id_parts=(url,),
        )
        async with self.runtime.pool.connection() as conn:
            await save_page(
                conn,
                tenant_id=self.tenant_id,
                site_id=self.request.site_id,
                crawl_id=self.request.crawl_id,
                page=page,
                title=title,
                changed=changed,
            )
        self.counts.fetched += 1
        if changed:
            self.counts.changed += 1
        else:
            self.counts.unchanged += 1

    async def _pdf(self, record: dict[str, Any]) -> None:
        path = Path(record["path"])
        published = await hand_over_pdf(
            self.runtime, self.event, path, record["sha256"], record["filename"]
        )
        path.unlink(missing_ok=True)
        self.counts.pdfs += 1
        log.info(
            "site_pdf_found",
            tenant_id=self.tenant_id,
            crawl_id=self.request.crawl_id,
            url=record["url"],
            published=published,
        )

    def _failed(self, record: dict[str, Any]) -> None:
        reason = str(record.get("reason") or "download_failed")
        self.counts.fail(reason)
        if reason in GONE_REASONS:
            self.not_found.add(record["url"])
        log.debug(
            "site_url_failed",
            tenant_id=self.tenant_id,
            crawl_id=self.request.crawl_id,
            url=record.get("url"),
            reason=reason,
        )

    async def remove_vanished(self, complete: bool) -> None:
        """Remove pages of earlier crawls that returned 404 or 410. When no
        limit stopped the crawl, also remove the pages it no longer reached."""
        assert self.runtime.pool is not None
        for url, page in self.known.items():
            if url in self.seen and url not in self.not_found:
                continue
            if url in self.not_found:
                reason = "not_found"
            elif complete:
                reason = "not_linked"
            else:
                continue
            payload = SitePageRemovedV1(
                crawl_id=self.request.crawl_id,
                site_id=self.request.site_id,
                document_id=page.document_id,
                url=url,
                reason=reason,  # type: ignore[arg-type]
            )
            await emit(
                self.runtime,
                topics.SITE_PAGE_REMOVED,
                self.event,
                payload,
                page.document_id,
                id_parts=(url,),
            )
            async with self.runtime.pool.connection() as conn:
                await delete_page(conn, self.tenant_id, page.document_id)
            self.counts.removed += 1


def stop_reason(done: dict[str, Any]) -> str:
    reason = done.get("reason")
    if reason in ("closespider_timeout", "time_limit"):
        return "time_limit"
    if reason == "finished":
        return "page_limit" if done.get("truncated") else "finished"
    return "crawler_failed"


def crawl_outcome(reason: str, counts: CrawlCounts) -> tuple[str, str]:
    """Return the outcome and a readable detail of a finished crawl."""
    failures = ", ".join(f"{k}: {v}" for k, v in sorted(counts.failures().items()))
    if reason == "crawler_failed":
        return "failed", "the crawl process stopped unexpectedly; see worker logs"
    if counts.fetched == 0 and counts.pdfs == 0:
        return "failed", f"no page was fetched ({failures or 'no URL reached'})"
    if reason == "page_limit":
        return "partial", "stopped at max_pages; raise it to crawl further"
    if reason == "time_limit":
        return "partial", "stopped at the time limit; raise max_seconds"
    return "completed", ""


FINAL_CRAWL_STATUSES = frozenset(get_args(CrawlOutcome))


async def handle_crawl_requested(event: CloudEvent, runtime: Runtime) -> None:
    assert runtime.pool is not None
    request = SiteCrawlRequestedV1.model_validate(event.data)
    bound = log.bind(
        tenant_id=event.tenantid,
        crawl_id=request.crawl_id,
        site_id=request.site_id,
        trace_id=event.trace_id,
    )
    async with runtime.pool.connection() as conn:
        existing = await fetch_crawl(conn, event.tenantid, request.crawl_id)
        # A final status is saved only after crawl-completed is published, so
        # a second copy of the request (a retried POST, a replay) is done.
        if existing is not None and existing["status"] in FINAL_CRAWL_STATUSES:
            bound.info("crawl_already_finished", status=existing["status"])
            return
        await start_crawl(conn, **crawl_row(event, request))
        known = await load_known_pages(conn, event.tenantid, request.site_id)
    bound.info("crawl_started", start_url=request.start_url, known_pages=len(known))

    session = CrawlSession(runtime, event, request, known)
    with tempfile.TemporaryDirectory(prefix="tidings-crawl-") as output_dir:
        config = crawl_config(request, runtime, output_dir)
        try:
            done = await run_crawl(config, session.on_record)
        except CrawlProcessError as exc:
            # The pages that arrived are kept; the crawl ends failed.
            bound.error("crawl_process_error", error=str(exc))
            done = {"reason": "crawler_failed"}

    reason = stop_reason(done)
    await session.remove_vanished(complete=reason == "finished")
    outcome, detail = crawl_outcome(reason, session.counts)
    counts = session.counts
    completed = SiteCrawlCompletedV1(
        crawl_id=request.crawl_id,
        site_id=request.site_id,
        outcome=outcome,  # type: ignore[arg-type]
        stop_reason=reason,
        fetched=counts.fetched,
        changed=counts.changed,
        unchanged=counts.unchanged,
        removed=counts.removed,
        pdfs=counts.pdfs,
        failed=counts.failures(),
        detail=detail,
    )
    await emit(runtime, topics.SITE_CRAWL_COMPLETED, event, completed, request.site_id)
    await session.save(status=outcome, stop_reason=reason, detail=detail)
    bound.info(
        "crawl_completed",
        outcome=outcome,
        stop_reason=reason,
        fetched=counts.fetched,
        changed=counts.changed,
        unchanged=counts.unchanged,
        removed=counts.removed,
        failed=counts.failures(),
    )
