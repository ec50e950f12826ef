"""The example consumer of docs/downstream.md, run against the test stack."""

import importlib.util
import uuid
from types import ModuleType
from typing import Any

import httpx
import pytest

from schemas.topics import DOCUMENT_INDEXED
from tests.integration.helpers import pdf_path, upload_bytes, wait_final
from tests.stack import REPO_ROOT, Stack
from tidings.history.catalog import describe_topics

pytestmark = pytest.mark.integration

EXAMPLE = REPO_ROOT / "docs" / "examples" / "consumer.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("downstream_consumer", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def consumed(stack: Stack, api: httpx.Client) -> dict[str, Any]:
    """Index one new PDF, then read the indexed topic with the example."""
    data = (
        pdf_path("pypdf__crazyones.pdf").read_bytes() + f"\n% {uuid.uuid4()}\n".encode()
    )
    document_id = upload_bytes(api, "downstream.pdf", data).json()["document_id"]
    assert wait_final(api, [document_id])[document_id]["status"] == "indexed"

    example = load_example()
    group = f"test.downstream-{uuid.uuid4().hex[:8]}"
    events: list[dict[str, Any]] = []
    handled = example.consume(
        stack.kafka_bootstrap,
        group,
        [DOCUMENT_INDEXED.name],
        events.append,
        stop_when_idle=5.0,
    )
    again = example.consume(
        stack.kafka_bootstrap,
        group,
        [DOCUMENT_INDEXED.name],
        events.append,
        stop_when_idle=5.0,
    )
    return {
        "document_id": document_id,
        "group": group,
        "events": events,
        "handled": handled,
        "again": again,
    }


def test_example_reads_indexed_event(consumed: dict[str, Any]) -> None:
    mine = [e for e in consumed["events"] if e["subject"] == consumed["document_id"]]
    assert len(mine) == 1
    assert mine[0]["type"] == DOCUMENT_INDEXED.event_type
    assert mine[0]["data"]["chunk_count"] >= 1


def test_example_counts_handled(consumed: dict[str, Any]) -> None:
    assert consumed["handled"] == len(consumed["events"])


def test_example_commits_offsets(consumed: dict[str, Any]) -> None:
    # The second run of the same group starts after the committed offsets.
    assert consumed["again"] == 0


def test_example_group_has_no_lag(stack: Stack, consumed: dict[str, Any]) -> None:
    topic = next(
        t
        for t in describe_topics(stack.kafka_bootstrap)
        if t.name == DOCUMENT_INDEXED.name
    )
    lags = {group.group: group.lag for group in topic.groups}
    assert lags[consumed["group"]] == 0
