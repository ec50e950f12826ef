"""URL canonical form and crawl scope.

Two links that differ only in a fragment, the order of query parameters,
percent-encoding case or a tracking parameter name the same page, so the
crawl keys pages by `canonical_url`.
"""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that only track a visitor or a campaign and never change
# the page: Google Analytics (utm_*), Google and Microsoft ad click ids,
# Facebook, Mailchimp, HubSpot, Marketo and Matomo.
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "igshid",
    }
)

# A path that repeats the same run of segments this many times in a row is a
# crawler trap (relative links that grow the path on every page).
MAX_SEGMENT_REPEATS = 3


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Return the canonical form of an http(s) URL.

    The host is lower-cased, the default port, the fragment and tracking
    parameters are dropped, the query is sorted and percent-encoding is
    normalized (w3lib `canonicalize_url`).
    """
    parts = urlsplit(url.strip())
    # Filter the raw pairs, so bytes that are not UTF-8 stay as they were.
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not _is_tracking(unquote(pair.split("=", 1)[0]))
    )
    netloc = (parts.hostname or "").lower().rstrip(".")
    if ":" in netloc:
        netloc = f"[{netloc}]"
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    if parts.port is not None and parts.port != default_port:
        netloc = f"{netloc}:{parts.port}"
    path = parts.path or "/"
    cleaned = urlunsplit((parts.scheme.lower(), netloc, path, query, ""))
    return canonicalize_url(cleaned, keep_fragments=False)


def has_repeated_segments(url: str, repeats: int = MAX_SEGMENT_REPEATS) -> bool:
    """Return whether the path repeats a run of 1 to 3 segments `repeats`
    times in a row, as in /a/b/a/b/a/b/."""
    segments = [part for part in urlsplit(url).path.split("/") if part]
    for width in range(1, 4):
        run = width * repeats
        for start in range(0, len(segments) - run + 1):
            window = segments[start : start + run]
            first = window[:width]
            if all(window[i : i + width] == first for i in range(0, run, width)):
                return True
    return False


@dataclass(frozen=True)
class CrawlScope:
    """The hosts and path prefixes a crawl may follow links into."""

    domains: tuple[str, ...]
    path_prefixes: tuple[str, ...] = ()

    def allows(self, url: str) -> bool:
        """Return whether `url` is on an allowed host (or a subdomain of
        one) and under an allowed path prefix, if any are set."""
        if not self.allows_host(url):
            return False
        if not self.path_prefixes:
            return True
        path = urlsplit(url).path or "/"
        return any(path.startswith(prefix) for prefix in self.path_prefixes)

    def allows_host(self, url: str) -> bool:
        """Return whether `url` is http(s) on an allowed host or subdomain."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return False
        host = (parts.hostname or "").lower()
        return any(
            host == domain or host.endswith("." + domain) for domain in self.domains
        )
