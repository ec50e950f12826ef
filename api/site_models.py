"""Request and response models of the website crawl API."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

HOST_PATTERN = r"^[A-Za-z0-9.-]+$"


class SiteCreate(BaseModel):
    """A website to crawl, with the crawl's limits."""

    url: str = Field(
        min_length=1, max_length=2000, description="Start URL, http or https."
    )
    max_pages: int = Field(
        default=100, ge=1, description="Maximum URLs fetched, linked PDFs included."
    )
    max_depth: int = Field(
        default=5, ge=0, le=50, description="Maximum links followed from the start URL."
    )
    allowed_domains: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Hosts the crawl may follow links into, subdomains included. "
        "Empty means the start URL's host.",
    )
    path_prefixes: list[str] = Field(
        default_factory=list,
        max_length=50,
        description='URL path prefixes links must start with, such as "/docs/". '
        "Empty means any path.",
    )
    delay_seconds: float = Field(
        default=0.25, ge=0, le=60, description="Pause between two requests, seconds."
    )
    max_seconds: float = Field(
        default=600, gt=0, description="Time limit of the whole crawl, seconds."
    )

    @field_validator("allowed_domains")
    @classmethod
    def _check_domains(cls, domains: list[str]) -> list[str]:
        cleaned = []
        for domain in domains:
            host = domain.strip().lower().rstrip(".")
            if not host or "/" in host or ":" in host or " " in host:
                raise ValueError(
                    f"allowed domain {domain!r} is not a host name; write it "
                    'like "example.com", without scheme, port or path'
                )
            cleaned.append(host)
        return cleaned

    @field_validator("path_prefixes")
    @classmethod
    def _check_prefixes(cls, prefixes: list[str]) -> list[str]:
        for prefix in prefixes:
            if not prefix.startswith("/"):
                raise ValueError(
                    f'path prefix {prefix!r} must start with "/", as in "/docs/"'
                )
        return prefixes


class CrawlAccepted(BaseModel):
    crawl_id: str
    site_id: str
    start_url: str
    status: str
    status_url: str


class CrawlPublic(BaseModel):
    """Progress and counts of one crawl."""

    crawl_id: str
    site_id: str
    start_url: str
    status: str = Field(
        description="requested, running, completed, partial (a limit stopped "
        "it) or failed."
    )
    stop_reason: str | None
    detail: str | None
    limits: dict[str, Any]
    fetched: int = Field(description="HTML pages with text fetched so far.")
    changed: int = Field(description="Fetched pages that are new or changed.")
    unchanged: int
    removed: int = Field(description="Pages of earlier crawls that are gone.")
    pdfs: int = Field(description="Linked PDFs handed to the document pipeline.")
    failed: dict[str, int] = Field(description="URLs that gave no page, by reason.")
    indexed: int = Field(description="Changed pages that are searchable now.")
    not_indexed: int = Field(description="Changed pages the index stage rejected.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
