"""Catalog arithmetic: message counts, consumer group lag, retention text."""

import pytest
from confluent_kafka import TopicPartition

from tidings.history.catalog import count_messages, format_retention, group_lag

WATERMARKS = {("a", 0): (0, 10), ("a", 1): (5, 8), ("b", 0): (0, 4)}


def test_count_messages_sums_partitions() -> None:
    assert count_messages(WATERMARKS, "a") == 13


def test_count_messages_unknown_topic() -> None:
    assert count_messages(WATERMARKS, "c") == 0


def test_group_lag_per_topic() -> None:
    committed = [
        TopicPartition("a", 0, 7),
        TopicPartition("a", 1, 8),
        TopicPartition("b", 0, 1),
    ]
    lags = {lag.topic: lag.lag for lag in group_lag("g", committed, WATERMARKS)}
    assert lags == {"a": 3, "b": 3}


def test_group_lag_skips_uncommitted() -> None:
    committed = [TopicPartition("a", 0, 2), TopicPartition("a", 1, -1001)]
    (lag,) = group_lag("g", committed, WATERMARKS)
    assert (lag.lag, lag.committed_partitions, lag.partitions) == (8, 1, 2)


def test_group_lag_below_low_watermark() -> None:
    # Records before the low watermark are deleted; they are no lag.
    (lag,) = group_lag("g", [TopicPartition("a", 1, 0)], WATERMARKS)
    assert lag.lag == 3


def test_group_lag_ignores_deleted_topic() -> None:
    assert group_lag("g", [TopicPartition("gone", 0, 3)], WATERMARKS) == []


@pytest.mark.parametrize(
    ("retention_ms", "text"),
    [
        (-1, "forever"),
        (None, "unknown"),
        (604_800_000, "7d"),
        (7_200_000, "2h"),
        (90_000, "90000ms"),
        (120_000, "2min"),
    ],
)
def test_format_retention(retention_ms: int | None, text: str) -> None:
    assert format_retention(retention_ms) == text
