"""Website crawls: start one, read its progress."""

import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, Header, HTTPException, Path, Request, status
from psycopg import AsyncConnection

from api.deps import ServicesDep, TenantDep
from api.site_models import CrawlAccepted, CrawlPublic, SiteCreate
from connectors.kafka_producer import KafkaUnavailableError
from connectors.site_tables import fetch_crawl, insert_crawl
from connectors.sites.urls import CrawlScope, canonical_url
from connectors.verification.errors import UrlRejectedError
from connectors.verification.url_guard import UrlGuard
from schemas import topics
from schemas.envelope import CloudEvent, child_traceparent
from schemas.sites import LIMIT_FIELDS, SiteCrawlRequestedV1
from tidings.ids import derived_event_id, site_id

router = APIRouter(prefix="/v1/sites", tags=["sites"])
log = structlog.get_logger(__name__)

CrawlIdPath = Annotated[
    str, Path(pattern=r"^crawl_[0-9a-f]{24}$", description="A crawl id.")
]


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(422, detail=detail)


async def _check_start_url(services: ServicesDep, url: str) -> str:
    """Return the canonical start URL, or raise 422 naming what is wrong."""
    guard = UrlGuard(allow_networks=services.settings.site_url_allow_networks)
    try:
        await guard.check(url)
    except UrlRejectedError as exc:
        raise _unprocessable(f"url {url!r} is rejected: {exc.detail}") from exc
    return canonical_url(url)


def _check_limits(services: ServicesDep, body: SiteCreate) -> None:
    settings = services.settings
    if body.max_pages > settings.site_max_pages:
        raise _unprocessable(
            f"max_pages {body.max_pages} is above the limit of "
            f"{settings.site_max_pages} (setting TIDINGS_SITE_MAX_PAGES); lower it"
        )
    if body.max_seconds > settings.site_max_seconds:
        raise _unprocessable(
            f"max_seconds {body.max_seconds:g} is above the limit of "
            f"{settings.site_max_seconds:g} (setting TIDINGS_SITE_MAX_SECONDS); "
            "lower it"
        )


def _check_same_request(
    existing: dict[str, Any], payload: SiteCrawlRequestedV1, key: str
) -> None:
    """Raise 422 when a reused Idempotency-Key comes with another URL or limits."""
    limits = payload.model_dump(mode="json", include=set(LIMIT_FIELDS))
    if existing["start_url"] == payload.start_url and existing["limits"] == limits:
        return
    raise _unprocessable(
        f"Idempotency-Key {key!r} was already used for crawl {existing['crawl_id']} "
        "with a different url or limits; send the same request to get that "
        "crawl, or use a new key for a new crawl"
    )


def _crawl_id(tenant_id: str, idempotency_key: str | None) -> str:
    if idempotency_key:
        seed = derived_event_id(tenant_id, "crawl", idempotency_key)
    else:
        seed = str(uuid.uuid4())
    return "crawl_" + uuid.UUID(seed).hex[:24]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=CrawlAccepted)
async def create_crawl(
    request: Request,
    body: SiteCreate,
    services: ServicesDep,
    tenant: TenantDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    traceparent: Annotated[str | None, Header()] = None,
) -> CrawlAccepted:
    """Crawl a website and index its pages next to the tenant's documents.

    Returns 202 once the crawl request is durable in Kafka. Crawling the same
    start URL again re-indexes only pages whose text changed and removes
    pages that are gone. The same Idempotency-Key and request return the same
    crawl, and the same key with another URL or other limits is rejected (422).
    """
    _check_limits(services, body)
    start_url = await _check_start_url(services, body.url)
    host = urlsplit(start_url).hostname or ""
    domains = body.allowed_domains or [host]
    if not CrawlScope(tuple(domains), tuple(body.path_prefixes)).allows(start_url):
        raise _unprocessable(
            f"url {start_url!r} lies outside allowed_domains {domains} and "
            f"path_prefixes {body.path_prefixes}; widen them or change the url"
        )

    tenant_id = tenant.tenant_id
    crawl = _crawl_id(tenant_id, idempotency_key)
    site = site_id(tenant_id, start_url)
    status_url = str(request.url_for("read_crawl", crawl_id=crawl))
    payload = SiteCrawlRequestedV1(
        crawl_id=crawl,
        site_id=site,
        start_url=start_url,
        allowed_domains=domains,
        path_prefixes=body.path_prefixes,
        max_pages=body.max_pages,
        max_depth=body.max_depth,
        delay_seconds=body.delay_seconds,
        max_seconds=body.max_seconds,
    )

    async with services.pool.connection() as conn, conn.transaction():
        if idempotency_key:
            # Requests with one key wait here for each other, so two
            # concurrent identical requests publish one crawl.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"crawl\x1f{tenant_id}\x1f{crawl}",),
            )
            existing = await fetch_crawl(conn, tenant_id, crawl)
            if existing is not None:
                _check_same_request(existing, payload, idempotency_key)
                return CrawlAccepted(
                    crawl_id=crawl,
                    site_id=site,
                    start_url=start_url,
                    status=existing["status"],
                    status_url=status_url,
                )
        await _publish_crawl(
            services, conn, tenant_id, payload, idempotency_key, traceparent
        )

    return CrawlAccepted(
        crawl_id=crawl,
        site_id=site,
        start_url=start_url,
        status="requested",
        status_url=status_url,
    )


async def _publish_crawl(
    services: ServicesDep,
    conn: AsyncConnection,
    tenant_id: str,
    payload: SiteCrawlRequestedV1,
    idempotency_key: str | None,
    traceparent: str | None,
) -> None:
    """Publish the crawl request, then write its row for readers of the crawl."""
    crawl = payload.crawl_id
    site = payload.site_id
    start_url = payload.start_url
    event = CloudEvent(
        id=derived_event_id(tenant_id, crawl, "crawl-requested"),
        type=topics.SITE_CRAWL_REQUESTED.event_type,
        source="tidings/api",
        subject=crawl,
        tenantid=tenant_id,
        requestid=idempotency_key,
        traceparent=child_traceparent(traceparent),
        data=payload.model_dump(mode="json"),
    )
    try:
        await services.producer.publish(topics.SITE_CRAWL_REQUESTED, site, event)
    except KafkaUnavailableError as exc:
        log.error("crawl_not_accepted", tenant_id=tenant_id, error=str(exc))
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="Kafka is unavailable, so the crawl was not accepted; retry later",
            headers={"Retry-After": "5"},
        ) from exc

    await insert_crawl(
        conn,
        tenant_id=tenant_id,
        crawl_id=crawl,
        site_id=site,
        start_url=start_url,
        limits=payload.model_dump(include=set(LIMIT_FIELDS)),
        created_at=event.time,
        trace_id=event.trace_id,
    )
    log.info(
        "crawl_accepted",
        tenant_id=tenant_id,
        crawl_id=crawl,
        site_id=site,
        start_url=start_url,
        trace_id=event.trace_id,
    )


@router.get("/{crawl_id}", response_model=CrawlPublic, name="read_crawl")
async def read_crawl(
    crawl_id: CrawlIdPath, services: ServicesDep, tenant: TenantDep
) -> CrawlPublic:
    """Progress and counts of one crawl, and how many changed pages are
    indexed so far."""
    async with services.pool.connection() as conn:
        row = await fetch_crawl(conn, tenant.tenant_id, crawl_id)
    if row is None:
        raise HTTPException(404, detail=f"Crawl {crawl_id} not found")
    return CrawlPublic(**row)
