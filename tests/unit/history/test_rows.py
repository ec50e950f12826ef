"""Decoding Kafka records into export rows."""

import json
from datetime import UTC, datetime

from tests.unit.history.records import EVENT, record
from tidings.history.replay import ReplayQuery
from tidings.history.rows import COLUMNS, decode_row


def test_decode_row_attributes() -> None:
    row = decode_row(record())
    assert row is not None
    assert (row.id, row.type, row.tenantid) == (EVENT.id, EVENT.type, "tnt_a")
    assert row.time == EVENT.time
    assert row.datacontenttype == "application/json"


def test_decode_row_payload_is_json_text() -> None:
    row = decode_row(record())
    assert row is not None
    assert json.loads(row.data) == EVENT.data


def test_decode_row_kafka_position() -> None:
    row = decode_row(record())
    assert row is not None
    assert (row.kafka_topic, row.kafka_partition, row.kafka_offset) == (
        "tidings.document.indexed.v1",
        1,
        42,
    )
    assert row.kafka_key == "doc_1"
    assert row.kafka_timestamp == datetime(2026, 1, 2, 3, 4, 5, 679000, tzinfo=UTC)


def test_decode_row_missing_header() -> None:
    headers = [(n, v) for n, v in EVENT.to_headers() if n != "ce_tenantid"]
    assert decode_row(record(headers=headers)) is None


def test_decode_row_not_json() -> None:
    assert decode_row(record(value=b"{not json")) is None


def test_decode_row_json_array() -> None:
    assert decode_row(record(value=b"[1, 2]")) is None


def test_decode_row_bad_time() -> None:
    headers = [
        (n, b"yesterday" if n == "ce_time" else v) for n, v in EVENT.to_headers()
    ]
    assert decode_row(record(headers=headers)) is None


def test_decode_row_binary_header() -> None:
    headers = [(n, b"\xff" if n == "ce_id" else v) for n, v in EVENT.to_headers()]
    assert decode_row(record(headers=headers)) is None


def test_row_json_has_every_column() -> None:
    row = decode_row(record())
    assert row is not None
    assert list(row.to_json()) == list(COLUMNS)


def test_row_json_time_is_utc_text() -> None:
    row = decode_row(record())
    assert row is not None
    assert row.to_json()["time"] == "2026-01-02T03:04:05.678901Z"


def test_query_filters_tenant() -> None:
    row = decode_row(record())
    assert row is not None
    assert not ReplayQuery(topics=("t",), tenants=frozenset({"tnt_b"})).accepts(row)


def test_query_filters_type() -> None:
    row = decode_row(record())
    assert row is not None
    query = ReplayQuery(topics=("t",), event_types=frozenset({EVENT.type}))
    assert query.accepts(row)
