"""Stop reasons and outcomes of a finished crawl."""

import pytest

from connectors.site_tables import CrawlCounts
from streams.crawl import content_hash, crawl_outcome, stop_reason


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        ({"reason": "finished", "truncated": False}, "finished"),
        ({"reason": "finished", "truncated": True}, "page_limit"),
        ({"reason": "closespider_timeout"}, "time_limit"),
        ({"reason": "time_limit"}, "time_limit"),
        ({"reason": "crawler_failed"}, "crawler_failed"),
        ({"reason": "shutdown"}, "crawler_failed"),
    ],
)
def test_stop_reason(done: dict, expected: str) -> None:
    assert stop_reason(done) == expected


def test_outcome_failed_without_pages() -> None:
    counts = CrawlCounts()
    counts.fail("robots_txt")

    outcome, detail = crawl_outcome("finished", counts)

    assert outcome == "failed"
    assert "robots_txt: 1" in detail


def test_outcome_partial_at_page_limit() -> None:
    outcome, detail = crawl_outcome("page_limit", CrawlCounts(fetched=3))

    assert outcome == "partial"
    assert "max_pages" in detail


def test_outcome_completed() -> None:
    assert crawl_outcome("finished", CrawlCounts(fetched=3)) == ("completed", "")


def test_content_hash_covers_title() -> None:
    assert content_hash("A", "text") != content_hash("B", "text")
    assert content_hash("A", "text") == content_hash("A", "text")
