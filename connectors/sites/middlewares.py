"""Scrapy downloader middlewares of the site crawl: the SSRF guard and
redirect-loop detection. Both see every request, including robots.txt,
redirect targets and meta refresh targets."""

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from connectors.sites.urls import canonical_url
from connectors.verification.errors import UrlRejectedError
from connectors.verification.url_guard import UrlGuard


class BlockedUrlError(IgnoreRequest):
    """The URL resolves to an address that the crawl must not reach."""

    def __init__(self, url: str, reason: str, detail: str) -> None:
        super().__init__(f"{url} rejected: {detail}")
        self.reason = reason


class RedirectLoopError(IgnoreRequest):
    """A redirect or meta refresh leads back to a URL of the same chain."""


class UrlGuardMiddleware:
    """Reject requests to loopback, private, link-local and metadata
    addresses unless the crawl's allow-list contains them."""

    def __init__(self, allow_networks: list[str]) -> None:
        self.guard = UrlGuard(allow_networks=allow_networks)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "UrlGuardMiddleware":
        return cls(crawler.settings.getlist("TIDINGS_ALLOW_NETWORKS"))

    # TODO: Twisted resolves the host again when it connects, so a DNS answer
    # that changes between this check and the connection (DNS rebinding) is
    # not caught; pin the checked address with a custom DNS_RESOLVER.
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
