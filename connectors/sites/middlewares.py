"""Scrapy downloader middlewares of the site crawl: crawl scope, the SSRF
guard and redirect-loop detection. They see every request, including
robots.txt, redirect targets and meta refresh targets."""

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from connectors.sites.urls import CrawlScope, canonical_url
from connectors.verification.errors import UrlRejectedError
from connectors.verification.url_guard import UrlGuard


class BlockedUrlError(IgnoreRequest):
    """The URL resolves to an address that the crawl must not reach."""

    def __init__(self, url: str, reason: str, detail: str) -> None:
        super().__init__(f"{url} rejected: {detail}")
        self.reason = reason


class OffsiteRedirectError(IgnoreRequest):
    """A redirect or meta refresh leads outside the crawl's scope."""


class RedirectLoopError(IgnoreRequest):
    """A redirect or meta refresh leads back to a URL of the same chain."""


class ScopeMiddleware:
    """Reject requests outside the allowed hosts and path prefixes.

    The spider schedules only links in scope, so this catches redirects. It
    replaces Scrapy's offsite middleware, which drops such requests without
    calling the errback, so the crawl could not count them.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ScopeMiddleware":
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        scope: CrawlScope = self.crawler.spider.scope  # type: ignore[union-attr]
        if scope.allows(request.url):
            return
        # robots.txt sits at the root, outside any path prefix.
        is_robots = urlsplit(request.url).path == "/robots.txt"
        if is_robots and scope.allows_host(request.url):
            return
        raise OffsiteRedirectError(f"{request.url} lies outside the crawl scope")


class UrlGuardMiddleware:
    """Reject requests to loopback, private, link-local and metadata
    addresses unless the crawl's allow-list contains them."""

    def __init__(self, allow_networks: list[str]) -> None:
        self.guard = UrlGuard(allow_networks=allow_networks)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "UrlGuardMiddleware":
        return cls(crawler.settings.getlist("TIDINGS_ALLOW_NETWORKS"))

    # Twisted resolves the host again when it connects; GuardedResolver
    # checks that answer too, so DNS rebinding between the two lookups fails.
    async def process_request(self, request: Request) -> None:
        try:
            await self.guard.check(request.url)
        except UrlRejectedError as exc:
            raise BlockedUrlError(request.url, exc.reason, str(exc)) from exc


class RedirectLoopMiddleware:
    """Stop a redirect chain that comes back to a URL it already visited."""

    def process_request(self, request: Request) -> None:
        chain = request.meta.get("redirect_urls") or []
        if not chain:
            return
        current = canonical_url(request.url)
        if current in {canonical_url(url) for url in chain}:
            raise RedirectLoopError(
                f"redirect loop: {' -> '.join([*chain, request.url])}"
            )
