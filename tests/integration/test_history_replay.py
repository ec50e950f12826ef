"""`tidings replay` on the real broker: exact windows, filters, files, copies.

The events go to fresh topics with explicit record timestamps, so which
events lie inside the window is known exactly.
"""

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from schemas.envelope import CloudEvent
from schemas.topics import all_topic_names
from tests.integration.history_helpers import create_topic, run_cli, synthetic_event
from tests.stack import Stack
from tidings.history.errors import ReplayError
from tidings.history.reader import GROUP_PREFIX, open_consumer, plan_ranges, read_ranges
from tidings.history.replay import ReplayQuery, replay
from tidings.history.rows import COLUMNS
from tidings.history.sinks import JsonLinesSink, RepublishSink

pytestmark = pytest.mark.integration

TYPES = ("dev.test.alpha.v1", "dev.test.beta.v1")
TENANTS = ("tnt_replay_a", "tnt_replay_b", "tnt_replay_c")
INSIDE = 60


@dataclass(frozen=True)
class History:
    topics: tuple[str, str]
    start: datetime
    end: datetime
    expected: Counter[tuple[str, str]]  # (type, tenant) -> events in the window


def moment(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


@pytest.fixture(scope="module")
def history(stack: Stack) -> History:
    """Two topics with 20 events before, 60 inside and 20 after a 10 s window,
    plus one record inside it that is not a CloudEvent.

    One idempotent producer sends them in timestamp order, so each
    partition's timestamps grow with its offsets, as in production.
    """
    topics = (create_topic(stack, "replay-a"), create_topic(stack, "replay-b"))
    base = int(time.time() * 1000) - 120_000
    start, end = base + 20_000, base + 30_000
    expected: Counter[tuple[str, str]] = Counter()
    producer = Producer(
        {"bootstrap.servers": stack.kafka_bootstrap, "enable.idempotence": True}
    )

    def send(index: int, millis: int) -> CloudEvent:
        event = synthetic_event(TYPES[index % 2], TENANTS[index % 3], millis)
        producer.produce(
            topics[index % 2],
            key=event.subject.encode(),
            value=event.to_value(),
            headers=event.to_headers(),
            timestamp=millis,
        )
        return event

    for index in range(20):
        send(index, base + index)
    for index in range(INSIDE):
        millis = start + index * 150
        event = send(index, millis)
        expected[(event.type, event.tenantid)] += 1
        if index == INSIDE // 2:
            producer.produce(topics[0], key=b"junk", value=b"{not", timestamp=millis)
    for index in range(20):
        send(index, end + index)  # the end bound is exclusive
    assert producer.flush(30) == 0
    return History(topics, moment(start), moment(end), expected)


def window(history: History, **filters: frozenset[str]) -> ReplayQuery:
    return ReplayQuery(
        topics=history.topics, start=history.start, end=history.end, **filters
    )


def test_replay_window_counts(stack: Stack, history: History, tmp_path: Path) -> None:
    sink = JsonLinesSink(tmp_path / "window.jsonl")
    summary = replay(stack.kafka_bootstrap, window(history), [sink])

    assert summary.counts == history.expected
    assert summary.written == INSIDE
    assert summary.invalid == 1


def test_replay_jsonl_lines(stack: Stack, history: History, tmp_path: Path) -> None:
    path = tmp_path / "window.jsonl"
    replay(stack.kafka_bootstrap, window(history), [JsonLinesSink(path)])
    rows = [json.loads(line) for line in path.read_text().splitlines()]

    assert Counter((row["type"], row["tenantid"]) for row in rows) == history.expected
    assert all("marker" in json.loads(row["data"]) for row in rows)


def test_replay_filters_tenant_and_type(
    stack: Stack, history: History, tmp_path: Path
) -> None:
    query = window(
        history,
        tenants=frozenset({TENANTS[0]}),
        event_types=frozenset({TYPES[1]}),
    )
    summary = replay(
        stack.kafka_bootstrap, query, [JsonLinesSink(tmp_path / "some.jsonl")]
    )
    wanted = {(TYPES[1], TENANTS[0]): history.expected[(TYPES[1], TENANTS[0])]}

    assert summary.counts == wanted
    assert summary.filtered == INSIDE - wanted[(TYPES[1], TENANTS[0])]


def test_replay_cli_parquet(stack: Stack, history: History, tmp_path: Path) -> None:
    path = tmp_path / "window.parquet"
    args = [arg for topic in history.topics for arg in ("--topic", topic)]
    result = run_cli(
        stack,
        "replay",
        *args,
        "--from",
        history.start.isoformat(),
        "--to",
        history.end.isoformat(),
        "--output",
        str(path),
    )
    table = pq.read_table(path) if path.exists() else None

    assert result.returncode == 0, result.stderr
    assert table is not None
    assert table.column_names == list(COLUMNS)
    pairs = zip(table["type"].to_pylist(), table["tenantid"].to_pylist(), strict=True)
    counts = Counter(pairs)
    assert counts == history.expected
    assert f"{INSIDE} events written" in result.stdout


def test_replay_leaves_no_group(stack: Stack, history: History, tmp_path: Path) -> None:
    registry = tuple(all_topic_names(with_dlq=False))
    query = ReplayQuery(topics=(*history.topics, *registry))
    replay(stack.kafka_bootstrap, query, [JsonLinesSink(tmp_path / "all.jsonl")])
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    groups = [g.group_id for g in admin.list_consumer_groups().result().valid]

    assert [group for group in groups if group.startswith(GROUP_PREFIX)] == []


def test_republish_copies_window(stack: Stack, history: History) -> None:
    target = create_topic(stack, "replay-copy")
    sink = RepublishSink(stack.kafka_bootstrap, target)
    summary = replay(stack.kafka_bootstrap, window(history), [sink])

    consumer = open_consumer(stack.kafka_bootstrap)
    try:
        ranges = plan_ranges(consumer, [target], None, None)
        copies = [m for batch in read_ranges(consumer, ranges) for m in batch]
    finally:
        consumer.close()
    origins = [dict(m.headers()).get("tidings_replayed_from") for m in copies]

    assert summary.written == INSIDE
    assert len(copies) == INSIDE
    assert all(origin is not None for origin in origins)


def test_republish_needs_existing_topic(stack: Stack) -> None:
    with pytest.raises(ReplayError, match="does not exist"):
        RepublishSink(stack.kafka_bootstrap, "test.replay.no-such-topic")


def test_replay_unknown_topic(stack: Stack, tmp_path: Path) -> None:
    sink = JsonLinesSink(tmp_path / "none.jsonl")
    with pytest.raises(ReplayError, match="test.replay.no-such-topic"):
        replay(
            stack.kafka_bootstrap, ReplayQuery(("test.replay.no-such-topic",)), [sink]
        )
    assert not (tmp_path / "none.jsonl").exists()
