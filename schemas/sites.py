"""Payload models of the site crawl events."""

from typing import Literal

from pydantic import Field

from schemas.base import Payload

CrawlOutcome = Literal["completed", "partial", "failed"]
RemovalReason = Literal["not_found", "not_linked"]


LIMIT_FIELDS = frozenset(
    {
        "allowed_domains",
        "path_prefixes",
        "max_pages",
        "max_depth",
        "delay_seconds",
        "max_seconds",
    }
)


class SiteCrawlRequestedV1(Payload):
    """A caller asked to crawl a website and index its pages."""

    crawl_id: str
    site_id: str = Field(description="Derived from the tenant and the start URL.")
    start_url: str = Field(description="Canonical form of the start URL.")
    allowed_domains: list[str] = Field(
        description="Hosts the crawl follows links into, subdomains included."
    )
    path_prefixes: list[str] = Field(
        default_factory=list,
        description="URL path prefixes links must start with; empty means any.",
    )
    max_pages: int = Field(ge=1, description="Maximum URLs fetched, PDFs included.")
    max_depth: int = Field(ge=0, description="Maximum links followed from the start.")
    delay_seconds: float = Field(ge=0, description="Pause between two requests.")
    max_seconds: float = Field(gt=0, description="Time limit of the whole crawl.")


class SitePageFetchedV1(Payload):
    """A page was fetched and its main text stored in the object store."""

    crawl_id: str
    site_id: str
    document_id: str = Field(description="Document id of the page, from its URL.")
    url: str = Field(description="Canonical URL after redirects.")
    title: str
    depth: int = Field(ge=0)
    encoding: str = Field(description="Codec the page was decoded with.")
    content_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the title and main text."
    )
    text_uri: str = Field(description="Object store URI of the text (JSON).")
    text_chars: int = Field(ge=0)
    changed: bool = Field(
        description="False when the text equals the last crawl's; nothing to index."
    )
    version: int = Field(ge=1, description="Grows by one each time the text changes.")


class SitePageRemovedV1(Payload):
    """A page of an earlier crawl is gone; its chunks are to be deleted."""

    crawl_id: str
    site_id: str
    document_id: str
    url: str
    reason: RemovalReason = Field(
        description="not_found: the server returned 404 or 410. not_linked: a "
        "complete crawl no longer reached it."
    )


class SiteCrawlCompletedV1(Payload):
    """A crawl ended. Counts cover the URLs this crawl requested."""

    crawl_id: str
    site_id: str
    outcome: CrawlOutcome = Field(
        description="partial: a page or time limit stopped the crawl early."
    )
    stop_reason: str = Field(
        description="finished, page_limit, time_limit or crawler_failed."
    )
    fetched: int = Field(ge=0, description="HTML pages with text.")
    changed: int = Field(ge=0, description="Fetched pages that are new or changed.")
    unchanged: int = Field(ge=0)
    removed: int = Field(ge=0)
    pdfs: int = Field(ge=0, description="Linked PDFs handed to the PDF pipeline.")
    failed: dict[str, int] = Field(
        default_factory=dict, description="URLs that gave no page, by reason code."
    )
    detail: str = ""
