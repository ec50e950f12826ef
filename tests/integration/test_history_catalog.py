"""`tidings topics` and `GET /asyncapi.json` against the test stack."""

import json
import time
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition

from schemas.topics import TOPICS
from tests.integration.history_helpers import (
    create_topic,
    produce,
    run_cli,
    synthetic_event,
)
from tests.stack import TEST_ENV, Stack
from tidings.history.asyncapi import build_document

pytestmark = pytest.mark.integration

RECORDS = 7
COMMITTED = 2


@pytest.fixture(scope="module")
def catalog(stack: Stack) -> dict[str, Any]:
    """Run `tidings topics --json` after filling a fresh three-partition topic
    and committing an offset for a group on it."""
    topic = create_topic(stack, "catalog", partitions=3)
    millis = int(time.time() * 1000)
    events = [
        (synthetic_event("dev.test.catalog.v1", "tnt_catalog", millis), millis)
        for _ in range(RECORDS)
    ]
    produce(stack, topic, events, partition=0)

    group = f"test.catalog-{topic.rsplit('.', 1)[-1]}"
    consumer = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": group})
    consumer.commit(offsets=[TopicPartition(topic, 0, COMMITTED)], asynchronous=False)
    consumer.close()

    result = run_cli(stack, "topics", "--json")
    assert result.returncode == 0, result.stderr
    listed = {entry["name"]: entry for entry in json.loads(result.stdout)}
    return {"topic": topic, "group": group, "listed": listed}


def test_topics_partitions_and_count(catalog: dict[str, Any]) -> None:
    entry = catalog["listed"][catalog["topic"]]
    assert (entry["partitions"], entry["messages"]) == (3, RECORDS)


def test_topics_group_lag(catalog: dict[str, Any]) -> None:
    entry = catalog["listed"][catalog["topic"]]
    lags = {group["group"]: group for group in entry["groups"]}
    lag = lags[catalog["group"]]
    assert (lag["lag"], lag["committed_partitions"]) == (RECORDS - COMMITTED, 1)


def test_topics_unregistered_marked(catalog: dict[str, Any]) -> None:
    assert catalog["listed"][catalog["topic"]]["registered"] is False


@pytest.mark.parametrize("spec", TOPICS, ids=lambda spec: spec.name)
def test_registry_topic_listed(catalog: dict[str, Any], spec: Any) -> None:
    entry = catalog["listed"][spec.name]
    assert entry["registered"] is True
    assert entry["retention_ms"] == spec.retention_ms
    assert catalog["listed"][spec.dlq]["registered"] is True


def test_asyncapi_served_without_key(stack: Stack) -> None:
    response = httpx.get(f"{stack.api_url}/asyncapi.json", timeout=30)
    expected = build_document(
        stack.kafka_bootstrap,
        partitions=int(TEST_ENV["TIDINGS_TOPIC_PARTITIONS"]),
        replicas=1,
    )
    assert response.status_code == 200
    assert response.json() == expected


def test_asyncapi_not_in_openapi(stack: Stack) -> None:
    paths = httpx.get(f"{stack.api_url}/openapi.json", timeout=30).json()["paths"]
    assert "/asyncapi.json" not in paths
