"""Read a bounded slice of Kafka history without touching consumer groups.

The consumer gets a throwaway group id, `enable.auto.commit=false` and its
partitions through `assign()`, so it never joins a group and never commits an
offset: the platform's own consumer groups keep their positions.
"""

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import structlog
from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from tidings.history.errors import ReplayError

log = structlog.get_logger(__name__)

GROUP_PREFIX = "tidings-history-"
BATCH_SIZE = 5000
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class PartitionRange:
    """Offsets [start, end) of one partition to read."""

    topic: str
    partition: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return max(0, self.end - self.start)


def open_consumer(bootstrap: str) -> Consumer:
    """Create a consumer that reads by assignment and never commits."""
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"{GROUP_PREFIX}{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "fetch.max.bytes": 52_428_800,
            "queued.max.messages.kbytes": 65_536,
        }
    )


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _offsets_for_times(
    consumer: Consumer, partitions: list[TopicPartition], timeout: float
) -> dict[tuple[str, int], int]:
    try:
        found = consumer.offsets_for_times(partitions, timeout=timeout)
    except KafkaException as exc:
        raise ReplayError(f"cannot look up offsets for a timestamp: {exc}") from exc
    return {(tp.topic, tp.partition): tp.offset for tp in found}


def plan_ranges(
    consumer: Consumer,
    topics: list[str],
    start: datetime | None,
    end: datetime | None,
    *,
    timeout: float = 15.0,
) -> list[PartitionRange]:
    """Turn a time window into offset ranges, one per partition.

    The start offset is the first record whose timestamp is at or after
    `start` (Kafka's offsets-for-times lookup), and the end offset the first
    one at or after `end`. The end is capped at the high watermark at planning
    time, so the read ends even while producers keep writing. No `start`
    means the low watermark, no `end` the high watermark.
    """
    try:
        metadata = consumer.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise ReplayError(f"cannot list topics: {exc}") from exc
    missing = [name for name in topics if name not in metadata.topics]
    if missing:
        raise ReplayError(
            f"topic(s) {', '.join(missing)} do not exist on the cluster; list the "
            "topics with `tidings topics`"
        )

    partitions = [
        (name, number)
        for name in topics
        for number in sorted(metadata.topics[name].partitions)
    ]
    watermarks = {}
    for name, number in partitions:
        try:
            watermarks[(name, number)] = consumer.get_watermark_offsets(
                TopicPartition(name, number), timeout=timeout
            )
        except KafkaException as exc:
            raise ReplayError(
                f"cannot read the watermarks of {name}[{number}]: {exc}"
            ) from exc

    starts: dict[tuple[str, int], int] = {}
    ends: dict[tuple[str, int], int] = {}
    if start is not None:
        starts = _offsets_for_times(
            consumer,
            [TopicPartition(t, p, _millis(start)) for t, p in partitions],
            timeout,
        )
    if end is not None:
        ends = _offsets_for_times(
            consumer,
            [TopicPartition(t, p, _millis(end)) for t, p in partitions],
            timeout,
        )

    ranges = []
    for key in partitions:
        low, high = watermarks[key]
        # A negative offset means no record at or after that time.
        first = starts.get(key, low)
        first = high if first < 0 else max(first, low)
        last = ends.get(key, high)
        last = high if last < 0 else min(last, high)
        ranges.append(PartitionRange(key[0], key[1], first, max(first, last)))
    return ranges


def plan_after(
    consumer: Consumer, previous: list[PartitionRange], *, timeout: float = 15.0
) -> list[PartitionRange]:
    """Plan the records written since `previous` was read: from each range's
    end to the partition's current high watermark."""
    ranges = []
    for done in previous:
        try:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(done.topic, done.partition), timeout=timeout
            )
        except KafkaException as exc:
            raise ReplayError(
                f"cannot read the watermarks of {done.topic}[{done.partition}]: {exc}"
            ) from exc
        ranges.append(
            PartitionRange(done.topic, done.partition, done.end, max(done.end, high))
        )
    return ranges


def read_ranges(
    consumer: Consumer, ranges: list[PartitionRange], *, idle_timeout: float = 30.0
) -> Iterator[list[Message]]:
    """Yield batches of records inside the ranges, in offset order per partition.

    Raises ReplayError when no record arrives for `idle_timeout` seconds
    while some range is still unread.
    """
    active = {(r.topic, r.partition): r for r in ranges if r.size > 0}
    if not active:
        return
    consumer.assign(
        [TopicPartition(r.topic, r.partition, r.start) for r in active.values()]
    )
    last_progress = time.monotonic()
    while active:
        messages = consumer.consume(num_messages=BATCH_SIZE, timeout=POLL_SECONDS)
        batch = []
        for message in messages:
            key = (message.topic() or "", message.partition() or 0)
            offset = message.offset() or 0
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    _finish(consumer, active, key)
                    continue
                raise ReplayError(f"cannot read {key[0]}[{key[1]}]: {error.str()}")
            bounds = active.get(key)
            if bounds is None or offset >= bounds.end:
                _finish(consumer, active, key)
                continue
            batch.append(message)
            if offset >= bounds.end - 1:
                _finish(consumer, active, key)
        if messages:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > idle_timeout:
            pending = ", ".join(f"{t}[{p}]" for t, p in sorted(active))
            raise ReplayError(
                f"no record arrived for {idle_timeout:g} s while {pending} still "
                "had records to read; check the broker's health"
            )
        if batch:
            yield batch


def _finish(
    consumer: Consumer,
    active: dict[tuple[str, int], PartitionRange],
    key: tuple[str, int],
) -> None:
    if active.pop(key, None) is not None:
        # Stop fetching past the range; the records would be dropped anyway.
        consumer.pause([TopicPartition(key[0], key[1])])
