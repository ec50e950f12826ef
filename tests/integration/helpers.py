"""Helpers for tests that drive the pipeline through the HTTP API."""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from tests.corpus import PDF_DIR, expected_outcomes, require_corpus
from tests.stack import Stack

FINAL = {"indexed", "failed", "no_text"}


def upload(
    api: httpx.Client, path: Path, password: str | None = None
) -> httpx.Response:
    with path.open("rb") as handle:
        data = {"password": password} if password is not None else None
        return api.post(
            "/v1/documents",
            files={"file": (path.name, handle, "application/pdf")},
            data=data,
        )


def upload_bytes(api: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return api.post("/v1/documents", files={"file": (name, data, "application/pdf")})


def wait_final(
    api: httpx.Client, document_ids: list[str], timeout: float = 240.0
) -> dict[str, dict[str, Any]]:
    """Poll until every document is final; return the last state of each."""
    latest: dict[str, dict[str, Any]] = {}
    pending = set(document_ids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for document_id in list(pending):
            response = api.get(f"/v1/documents/{document_id}")
            if response.status_code == 200:
                latest[document_id] = response.json()
                if latest[document_id]["status"] in FINAL:
                    pending.discard(document_id)
        if pending:
            time.sleep(0.5)
    return latest


def index_pdfs(api: httpx.Client, names: tuple[str, ...]) -> None:
    """Upload corpus PDFs and fail unless every one ends indexed."""
    ids = []
    for name in names:
        response = upload(api, pdf_path(name))
        assert response.status_code == 202, response.text
        ids.append(response.json()["document_id"])
    states = wait_final(api, ids)
    assert {states[i]["status"] for i in ids} == {"indexed"}, states


def search_documents(api: httpx.Client, query: str) -> list[dict[str, Any]]:
    """Return up to 50 document hits, failing unless the search succeeds."""
    response = api.get("/v1/search/documents", params={"q": query, "limit": 50})
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


def pdf_path(name: str) -> Path:
    """Return the path of a corpus PDF, or skip the test without the corpus."""
    require_corpus()
    return PDF_DIR / name


def pipeline_outcomes(row: dict[str, str]) -> frozenset[str]:
    """Outcomes allowed for a corpus file uploaded without a password."""
    if row["expected"] == "encrypted_needs_password":
        return frozenset({"failed:encrypted"})
    return expected_outcomes(row)


def outcome_matches(status: str, reason: str | None, allowed: frozenset[str]) -> bool:
    """True when "status" or "status:reason" is among the allowed outcomes."""
    full = f"{status}:{reason}" if reason else status
    return any(full == outcome or full.startswith(outcome + ":") for outcome in allowed)


def read_topic(stack: Stack, topic: str) -> Iterator[Message]:
    """Yield the topic's records from the start to its end at the time of the call."""
    consumer = Consumer(
        {
            "bootstrap.servers": stack.kafka_bootstrap,
            "group.id": f"test-read-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = list(metadata.topics[topic].partitions)
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p))[1]
            for p in partitions
        }
        consumer.assign(
            [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]
        )
        remaining = {p for p, end in ends.items() if end > 0}
        while remaining:
            message = consumer.poll(5.0)
            if message is None:
                raise AssertionError(f"reading {topic} stalled")
            if message.error():
                continue
            if message.offset() >= ends[message.partition()] - 1:
                remaining.discard(message.partition())
            yield message
    finally:
        consumer.close()


def count_records(stack: Stack, topic: str, key: str) -> int:
    """Count the key's records on the topic, from the start to its current end."""
    return sum(
        1 for message in read_topic(stack, topic) if message.key() == key.encode()
    )
