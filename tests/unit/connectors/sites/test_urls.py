"""Canonical URLs and crawl scope."""

import pytest

from connectors.sites.urls import CrawlScope, canonical_url, has_repeated_segments


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://Example.COM:80/a?b=2&a=1#top", "http://example.com/a?a=1&b=2"),
        ("https://example.com:443", "https://example.com/"),
        (
            "http://example.com/p?utm_source=x&id=7&fbclid=abc",
            "http://example.com/p?id=7",
        ),
        ("http://example.com/p?UTM_Medium=mail", "http://example.com/p"),
        (
            "http://example.com:8080/中文.html",
            "http://example.com:8080/%E4%B8%AD%E6%96%87.html",
        ),
        ("http://example.com/p?q=%e4", "http://example.com/p?q=%E4"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_repeated_segments_detected() -> None:
    assert has_repeated_segments("http://x/a/b/a/b/a/b/page.html")
    assert has_repeated_segments("http://x/docs/docs/docs/")
    assert not has_repeated_segments("http://x/docs/api/v1/docs/index.html")


def test_scope_accepts_subdomain_and_prefix() -> None:
    scope = CrawlScope(("example.com",), ("/docs/",))

    assert scope.allows("https://www.example.com/docs/a.html")
    assert not scope.allows("https://example.com/blog/a.html")
    assert not scope.allows("https://badexample.com/docs/a.html")
    assert not scope.allows("ftp://example.com/docs/a.html")
