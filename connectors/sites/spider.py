"""The Scrapy spider of a site crawl. It runs inside the crawl process and
reports every outcome through `emit` as a JSON-ready record:

- `page`: an HTML page with its decoded main text and title,
- `pdf`: a linked PDF saved under the output folder,
- `failed`: a URL that yielded no page, with a reason code.
"""

import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import HtmlResponse, Response
from scrapy.linkextractors import IGNORED_EXTENSIONS, LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from connectors.sites.config import CrawlConfig
from connectors.sites.decoding import decode_page
from connectors.sites.extraction import extract_main_text
from connectors.sites.middlewares import (
    BlockedUrlError,
    OffsiteRedirectError,
    RedirectLoopError,
)
from connectors.sites.urls import CrawlScope, canonical_url, has_repeated_segments

Record = dict[str, Any]
HTML_TYPES = ("text/html", "application/xhtml+xml")
PDF_TYPES = ("application/pdf", "application/x-pdf")


def failure_reason(failure: Failure) -> str:
    """Map a Scrapy or Twisted failure to a stable reason code."""
    error = failure.value
    if isinstance(error, BlockedUrlError):
        return f"blocked_{error.reason}"
    if isinstance(error, RedirectLoopError):
        return "redirect_loop"
    if isinstance(error, OffsiteRedirectError):
        return "offsite_redirect"
    if isinstance(error, HttpError):
        return f"http_{error.response.status}"
    if isinstance(error, IgnoreRequest):
        message = str(error)
        if "robots.txt" in message:
            return "robots_txt"
        if "max redirections" in message:
            return "too_many_redirects"
        return "ignored"
    if isinstance(error, DownloadCancelledError):
        # Scrapy cancels a download when it passes DOWNLOAD_MAXSIZE.
        return "too_large"
    if isinstance(error, DownloadTimeoutError):
        return "timeout"
    if isinstance(error, CannotResolveHostError):
        return "dns_failed"
    if isinstance(error, DownloadConnectionRefusedError):
        return "connection_refused"
    return "download_failed"


def _media_type(response: Response) -> str:
    header = response.headers.get("Content-Type") or b""
    return header.decode("latin-1").split(";", 1)[0].strip().lower()


class SiteSpider(Spider):
    name = "tidings-site"

    def __init__(self, config: CrawlConfig, emit: Callable[[Record], None]) -> None:
        super().__init__()
        self.config = config
        self.emit = emit
        self.scope = CrawlScope(config.allowed_domains, config.path_prefixes)
        self.output_dir = Path(config.output_dir)
        self.scheduled: set[str] = set()
        self.emitted: set[str] = set()
        self.truncated = False
        self.links = LinkExtractor(
            deny_extensions=[ext for ext in IGNORED_EXTENSIONS if ext != "pdf"],
            tags=("a", "area"),
            attrs=("href",),
            unique=True,
        )

    def _request(self, url: str, depth: int) -> Request:
        meta: dict[str, Any] = {"source_url": url}
        if url.lower().endswith(".pdf"):
            meta["download_maxsize"] = self.config.max_pdf_bytes
        return Request(url, callback=self.parse, errback=self.failed, meta=meta)

    async def start(self) -> AsyncIterator[Request]:
        url = canonical_url(self.config.start_url)
        self.scheduled.add(url)
        yield self._request(url, 0)

    def _schedule(self, url: str, depth: int) -> Request | None:
        if url in self.scheduled or not self.scope.allows(url):
            return None
        if has_repeated_segments(url):
            self.emit({"type": "failed", "url": url, "reason": "url_trap"})
            return None
        if len(self.scheduled) >= self.config.max_pages:
            self.truncated = True
            return None
        self.scheduled.add(url)
        return self._request(url, depth)

    def parse(self, response: Response) -> Iterator[Request]:
        source_url = response.meta.get("source_url", response.url)
        final_url = canonical_url(response.url)
        media_type = _media_type(response)
        if media_type in PDF_TYPES or response.body[:5] == b"%PDF-":
            self._save_pdf(response, final_url)
            return
        if media_type and media_type not in HTML_TYPES:
            self.emit({"type": "failed", "url": source_url, "reason": "not_html"})
            return
        if final_url in self.emitted:
            return
        self.emitted.add(final_url)

        header = (response.headers.get("Content-Type") or b"").decode("latin-1")
        decoded = decode_page(response.body, header or None)
        extracted = extract_main_text(decoded.text, final_url)
        self.emit(
            {
                "type": "page",
                "url": final_url,
                "requested_url": source_url,
                "status": response.status,
                "depth": response.meta.get("depth", 0),
                "title": extracted.title,
                "text": extracted.text,
                "language": extracted.language,
                "encoding": decoded.encoding,
                "encoding_source": decoded.source,
                "declared_encoding": decoded.declared,
                "bytes": len(response.body),
                "redirects": response.meta.get("redirect_urls", []),
            }
        )

        # Links are read from a response decoded the same way as the text.
        html = HtmlResponse(
            url=response.url,
            body=decoded.text.encode("utf-8"),
            encoding="utf-8",
            request=response.request,
        )
        depth = response.meta.get("depth", 0) + 1
        for link in self.links.extract_links(html):
            request = self._schedule(canonical_url(link.url), depth)
            if request is not None:
                yield request

    def _save_pdf(self, response: Response, url: str) -> None:
        body = response.body
        sha256 = hashlib.sha256(body).hexdigest()
        path = self.output_dir / f"{sha256}.pdf"
        path.write_bytes(body)
        name = url.rstrip("/").rsplit("/", 1)[-1] or "document.pdf"
        self.emit(
            {
                "type": "pdf",
                "url": url,
                "path": str(path),
                "sha256": sha256,
                "size_bytes": len(body),
                "filename": name,
            }
        )

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self.emit(
            {
                "type": "failed",
                "url": request.meta.get("source_url", request.url),
                "reason": failure_reason(failure),
                "detail": str(failure.value)[:500],
            }
        )
