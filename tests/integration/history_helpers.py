"""Helpers for the event-history tests: fresh topics, synthetic events, lag."""

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

from confluent_kafka import ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from schemas.envelope import CloudEvent
from tests.stack import REPO_ROOT, Stack
from tidings.history.catalog import read_watermarks


def create_topic(stack: Stack, prefix: str, partitions: int = 2) -> str:
    """Create a topic with a unique name and return the name."""
    name = f"test.{prefix}.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    futures = admin.create_topics([NewTopic(name, partitions, 1)])
    futures[name].result(timeout=30)
    return name


def synthetic_event(event_type: str, tenant: str, millis: int) -> CloudEvent:
    return CloudEvent(
        type=event_type,
        source="tests/history",
        subject=f"item-{uuid.uuid4().hex[:6]}",
        tenantid=tenant,
        data={"marker": uuid.uuid4().hex},
        time=datetime.fromtimestamp(millis / 1000, UTC),
    )


def produce(
    stack: Stack,
    topic: str,
    events: list[tuple[CloudEvent, int]],
    partition: int | None = None,
) -> None:
    """Send events with explicit record timestamps (Unix milliseconds)."""
    producer = Producer(
        {"bootstrap.servers": stack.kafka_bootstrap, "enable.idempotence": True}
    )
    for event, millis in events:
        extra = {} if partition is None else {"partition": partition}
        producer.produce(
            topic,
            key=event.subject.encode(),
            value=event.to_value(),
            headers=event.to_headers(),
            timestamp=millis,
            **extra,
        )
    assert producer.flush(30) == 0


def run_cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `tidings ARGS` against the test stack."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TIDINGS_")
    }
    env |= {
        "TIDINGS_DATA_DIR": str(stack.data_dir),
        "TIDINGS_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "TIDINGS_DATABASE_URL": stack.database_url,
        "TIDINGS_LOG_FORMAT": "json",
    }
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def wait_caught_up(
    stack: Stack, group: str, topics: list[str], timeout: float = 60.0
) -> None:
    """Wait until `group` committed the high watermark of every partition of
    `topics` that contains records."""
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap})
    metadata = admin.list_topics(timeout=10)
    partitions = [
        TopicPartition(topic, number)
        for topic in topics
        for number in metadata.topics[topic].partitions
    ]
    deadline = time.monotonic() + timeout
    behind: list[tuple[str, int]] = []
    while time.monotonic() < deadline:
        marks = read_watermarks(admin, partitions, stack.kafka_bootstrap, 10)
        request = [ConsumerGroupTopicPartitions(group, partitions)]
        result = admin.list_consumer_group_offsets(request)[group].result()
        committed = {
            (tp.topic, tp.partition): tp.offset for tp in result.topic_partitions
        }
        behind = [
            key
            for key, (low, high) in marks.items()
            if high > low and committed.get(key, -1) < high
        ]
        if not behind:
            return
        time.sleep(0.5)
    raise AssertionError(f"group {group} is still behind on {behind}")
