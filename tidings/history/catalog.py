"""Topic catalog: partitions, retention, message counts and consumer group lag.

Message counts are high minus low watermark summed over partitions. That is
exact for Tidings' topics, whose producers are idempotent but not
transactional. On a compacted topic, or one with transaction markers, it is
an upper bound.
"""

from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    ConfigResource,
    OffsetSpec,
    ResourceType,
)

from schemas.topics import all_topic_names
from tidings.history.errors import CatalogError

log = structlog.get_logger(__name__)

# Partition -> (low watermark, high watermark)
Watermarks = Mapping[tuple[str, int], tuple[int, int]]


@dataclass(frozen=True)
class GroupLag:
    """Lag of one consumer group on one topic."""

    group: str
    topic: str
    lag: int  # summed over partitions with a committed offset
    committed_partitions: int
    partitions: int


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: int
    retention_ms: int | None
    cleanup_policy: str | None
    messages: int
    registered: bool  # named in schemas/topics.py, as a topic or its DLQ
    groups: tuple[GroupLag, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "partitions": self.partitions,
            "retention_ms": self.retention_ms,
            "cleanup_policy": self.cleanup_policy,
            "messages": self.messages,
            "registered": self.registered,
            "groups": [
                {
                    "group": group.group,
                    "lag": group.lag,
                    "committed_partitions": group.committed_partitions,
                    "partitions": group.partitions,
                }
                for group in self.groups
            ],
        }


def count_messages(watermarks: Watermarks, topic: str) -> int:
    return sum(
        high - low for (name, _), (low, high) in watermarks.items() if name == topic
    )


def group_lag(
    group: str, committed: Iterable[TopicPartition], watermarks: Watermarks
) -> list[GroupLag]:
    """Sum a group's lag per topic: high watermark minus committed offset.

    Partitions without a committed offset (negative offset) add no lag; they
    are counted apart, because where such a consumer starts depends on its
    `auto.offset.reset`.
    """
    per_topic: dict[str, list[int]] = {}
    committed_count: dict[str, int] = {}
    for position in committed:
        key = (position.topic, position.partition)
        if key not in watermarks:
            continue
        lags = per_topic.setdefault(position.topic, [])
        committed_count.setdefault(position.topic, 0)
        if position.offset < 0:
            continue
        low, high = watermarks[key]
        lags.append(max(0, high - max(position.offset, low)))
        committed_count[position.topic] += 1

    partitions = {name: 0 for name in per_topic}
    for name, _ in watermarks:
        if name in partitions:
            partitions[name] += 1
    return [
        GroupLag(
            group=group,
            topic=topic,
            lag=sum(lags),
            committed_partitions=committed_count[topic],
            partitions=partitions[topic],
        )
        for topic, lags in sorted(per_topic.items())
    ]


def _wait_all(
    futures: Mapping[Any, Future[Any]], what: str, bootstrap: str
) -> dict[Any, Any]:
    results = {}
    for key, future in futures.items():
        try:
            results[key] = future.result()
        except KafkaException as exc:
            raise CatalogError(
                f"cannot read {what} from {bootstrap}: {exc}; check that the "
                "broker is up and TIDINGS_KAFKA_BOOTSTRAP points at it"
            ) from exc
    return results


def read_watermarks(
    admin: AdminClient, partitions: list[TopicPartition], bootstrap: str, timeout: float
) -> dict[tuple[str, int], tuple[int, int]]:
    """Return (low, high) watermarks of each partition with two ListOffsets calls."""
    if not partitions:
        return {}
    lows = _wait_all(
        admin.list_offsets(
            {tp: OffsetSpec.earliest() for tp in partitions}, request_timeout=timeout
        ),
        "low watermarks",
        bootstrap,
    )
    highs = _wait_all(
        admin.list_offsets(
            {tp: OffsetSpec.latest() for tp in partitions}, request_timeout=timeout
        ),
        "high watermarks",
        bootstrap,
    )
    low_by_key = {(tp.topic, tp.partition): info.offset for tp, info in lows.items()}
    return {
        (tp.topic, tp.partition): (low_by_key[(tp.topic, tp.partition)], info.offset)
        for tp, info in highs.items()
    }


def _topic_configs(
    admin: AdminClient, names: list[str], bootstrap: str, timeout: float
) -> dict[str, dict[str, str]]:
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
    if not resources:
        return {}
    described = _wait_all(
        admin.describe_configs(resources, request_timeout=timeout),
        "topic configs",
        bootstrap,
    )
    return {
        resource.name: {key: entry.value for key, entry in entries.items()}
        for resource, entries in described.items()
    }


def _committed_offsets(
    admin: AdminClient, bootstrap: str, timeout: float
) -> dict[str, list[TopicPartition]]:
    try:
        listing = admin.list_consumer_groups(request_timeout=timeout).result()
    except KafkaException as exc:
        raise CatalogError(
            f"cannot list consumer groups on {bootstrap}: {exc}"
        ) from exc

    committed = {}
    # The Admin API lists the offsets of one group per request.
    for group in sorted(item.group_id for item in listing.valid):
        request = [ConsumerGroupTopicPartitions(group)]
        futures = admin.list_consumer_group_offsets(request, request_timeout=timeout)
        result = _wait_all(futures, f"offsets of group {group}", bootstrap)
        committed[group] = list(result[group].topic_partitions or [])
    return committed


def _retention(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def describe_topics(
    bootstrap: str, *, include_internal: bool = False, timeout: float = 15.0
) -> list[TopicInfo]:
    """Describe every topic on the cluster, sorted by name.

    Internal topics (names starting with `__`) are left out unless asked for.
    """
    admin = AdminClient({"bootstrap.servers": bootstrap})
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise CatalogError(
            f"cannot list topics on {bootstrap}: {exc}; check that the broker is "
            "up and TIDINGS_KAFKA_BOOTSTRAP points at it"
        ) from exc

    names = sorted(
        name
        for name in metadata.topics
        if include_internal or not name.startswith("__")
    )
    partitions = [
        TopicPartition(name, partition)
        for name in names
        for partition in metadata.topics[name].partitions
    ]
    watermarks = read_watermarks(admin, partitions, bootstrap, timeout)
    configs = _topic_configs(admin, names, bootstrap, timeout)
    committed = _committed_offsets(admin, bootstrap, timeout)

    lags: dict[str, list[GroupLag]] = {}
    for group, positions in committed.items():
        for lag in group_lag(group, positions, watermarks):
            lags.setdefault(lag.topic, []).append(lag)

    registered = set(all_topic_names())
    topics = [
        TopicInfo(
            name=name,
            partitions=len(metadata.topics[name].partitions),
            retention_ms=_retention(configs.get(name, {}).get("retention.ms")),
            cleanup_policy=configs.get(name, {}).get("cleanup.policy"),
            messages=count_messages(watermarks, name),
            registered=name in registered,
            groups=tuple(lags.get(name, ())),
        )
        for name in names
    ]
    log.debug("topics_described", bootstrap=bootstrap, topics=len(topics))
    return topics


def format_retention(retention_ms: int | None) -> str:
    """Render a retention for people: forever, or the largest whole unit."""
    if retention_ms is None:
        return "unknown"
    if retention_ms < 0:
        return "forever"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000)):
        if retention_ms >= size and retention_ms % size == 0:
            return f"{retention_ms // size}{unit}"
    return f"{retention_ms}ms"
