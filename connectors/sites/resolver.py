"""A Twisted DNS resolver that checks every answer against the SSRF guard.

Twisted resolves a host name when it connects, after the guard middleware
checked the request. Checking that answer as well means every address
Twisted connects to passed the guard, so a DNS answer that changes between
the two lookups (DNS rebinding) cannot reach an internal address. The
resolver is IPv4 only, like Scrapy's default one.
"""

import ipaddress
from typing import Any

from scrapy.crawler import Crawler
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.base import ReactorBase
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from connectors.verification.url_guard import UrlGuard, classify_address


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that fails lookups of blocked addresses."""

    def __init__(
        self,
        reactor: ReactorBase,
        cache_size: int,
        timeout: float,
        allow_networks: list[str],
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.guard = UrlGuard(allow_networks=allow_networks)

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> "GuardedResolver":
        settings = crawler.settings
        cache_size = (
            settings.getint("DNSCACHE_SIZE")
            if settings.getbool("DNSCACHE_ENABLED")
            else 0
        )
        return cls(
            reactor,
            cache_size,
            settings.getfloat("DNS_TIMEOUT"),
            settings.getlist("TIDINGS_ALLOW_NETWORKS"),
        )

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:
        deferred = super().getHostByName(name, timeout)
        deferred.addCallback(self.check_address, name)
        return deferred

    def check_address(self, address: str, name: str) -> str:
        """Return `address`, or raise DNSLookupError when it is blocked."""
        parsed = ipaddress.ip_address(address)
        if self.guard.is_allowed(parsed):
            return address
        reason = classify_address(parsed)
        if reason is not None:
            raise DNSLookupError(
                f"{name} resolved to {address}, a {reason.replace('_', ' ')} "
                "address that the crawl must not reach"
            )
        return address
