"""CloudEvents envelope in Kafka binary content mode: encoding and decoding."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas.envelope import (
    HEADER_PREFIX,
    REQUIRED_ATTRIBUTES,
    CloudEvent,
    EnvelopeError,
    child_traceparent,
    from_record,
    new_traceparent,
    trace_id_of,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def make_event(**overrides: object) -> CloudEvent:
    fields: dict[str, object] = {
        "type": "dev.tidings.document.uploaded.v1",
        "source": "tidings/api",
        "subject": "doc_0123456789abcdef01234567",
        "tenantid": "tenant-a",
        "data": {"document_id": "doc_0123456789abcdef01234567", "name": "报告.pdf"},
        "id": "3f2b8c1e-0000-4000-8000-000000000001",
        "time": datetime(2024, 5, 17, 8, 30, 15, 123456, tzinfo=UTC),
        "requestid": "idem-42",
        "traceparent": TRACEPARENT,
    }
    fields.update(overrides)
    return CloudEvent(**fields)  # type: ignore[arg-type]


def valid_headers() -> list[tuple[str, bytes]]:
    return make_event().to_headers()


# Round trip


def test_round_trip_list_headers() -> None:
    event = make_event()
    assert from_record(event.to_headers(), event.to_value()) == event


def test_round_trip_dict_headers() -> None:
    event = make_event()
    assert from_record(dict(event.to_headers()), event.to_value()) == event


def test_round_trip_str_header_values() -> None:
    # Some Kafka clients return header values as str, not bytes.
    event = make_event()
    headers = {name: value.decode() for name, value in event.to_headers()}
    assert from_record(headers, event.to_value()) == event  # type: ignore[arg-type]


def test_round_trip_without_extensions() -> None:
    event = make_event(requestid=None, traceparent=None)
    decoded = from_record(event.to_headers(), event.to_value())
    assert decoded == event


def test_round_trip_non_utc_time() -> None:
    offset = timezone(timedelta(hours=8))
    event = make_event(time=datetime(2024, 5, 17, 16, 30, tzinfo=offset))
    decoded = from_record(event.to_headers(), event.to_value())
    assert decoded.time == event.time


def test_round_trip_default_id_and_time() -> None:
    event = CloudEvent(type="t", source="s", subject="x", tenantid="t1", data={})
    assert from_record(event.to_headers(), event.to_value()) == event


# Encoding


def test_headers_use_ce_prefix() -> None:
    names = [name for name, _ in valid_headers()]
    for name in names:
        assert name.startswith(HEADER_PREFIX) or name == "content-type", name


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ce_specversion", b"1.0"),
        ("ce_time", b"2024-05-17T08:30:15.123456Z"),
        ("ce_tenantid", b"tenant-a"),
        ("ce_requestid", b"idem-42"),
        ("ce_traceparent", TRACEPARENT.encode()),
        ("content-type", b"application/json"),
    ],
)
def test_header_value(header: str, expected: bytes) -> None:
    assert dict(valid_headers())[header] == expected


@pytest.mark.parametrize("extension", ["ce_requestid", "ce_traceparent"])
def test_unset_extension_omitted(extension: str) -> None:
    headers = make_event(requestid=None, traceparent=None).to_headers()
    assert extension not in dict(headers)


def test_value_is_utf8_json() -> None:
    value = make_event().to_value()
    assert "报告.pdf".encode() in value


# Decoding errors


@pytest.mark.parametrize("attribute", REQUIRED_ATTRIBUTES)
def test_missing_header_named(attribute: str) -> None:
    header = HEADER_PREFIX + attribute
    headers = [(name, value) for name, value in valid_headers() if name != header]
    with pytest.raises(EnvelopeError) as error:
        from_record(headers, b"{}")
    assert header in str(error.value)


@pytest.mark.parametrize("attribute", REQUIRED_ATTRIBUTES)
def test_empty_header_named(attribute: str) -> None:
    header = HEADER_PREFIX + attribute
    headers = {**dict(valid_headers()), header: b""}
    with pytest.raises(EnvelopeError) as error:
        from_record(headers, b"{}")
    assert header in str(error.value)


def test_all_missing_headers_named() -> None:
    with pytest.raises(EnvelopeError) as error:
        from_record(None, b"{}")
    for attribute in REQUIRED_ATTRIBUTES:
        assert HEADER_PREFIX + attribute in str(error.value)


@pytest.mark.parametrize(
    "value",
    [b"not json", b"{", b"{'single': 'quotes'}", b"\xff\xfe"],
)
def test_non_json_value_rejected(value: bytes) -> None:
    with pytest.raises(EnvelopeError, match="not valid JSON"):
        from_record(valid_headers(), value)


def test_non_utf8_value_rejected() -> None:
    with pytest.raises(EnvelopeError):
        from_record(valid_headers(), b"\xff")


def test_non_utf8_header_rejected() -> None:
    headers = {**dict(valid_headers()), "ce_subject": b"\xff"}
    with pytest.raises(EnvelopeError):
        from_record(headers, b"{}")


@pytest.mark.parametrize(
    "value",
    # An empty or missing value (a tombstone) decodes as null.
    [b"[]", b"[1, 2]", b'"text"', b"42", b"null", b"true", b"", None],
)
def test_non_object_value_rejected(value: bytes | None) -> None:
    with pytest.raises(EnvelopeError, match="JSON object"):
        from_record(valid_headers(), value)


@pytest.mark.parametrize("time", [b"yesterday", b"2024-13-01T00:00:00Z"])
def test_invalid_time_rejected(time: bytes) -> None:
    headers = {**dict(valid_headers()), "ce_time": time}
    with pytest.raises(EnvelopeError, match="ce_time"):
        from_record(headers, b"{}")


def test_envelope_error_is_value_error() -> None:
    assert issubclass(EnvelopeError, ValueError)


# Trace context


def test_trace_id_property() -> None:
    assert make_event().trace_id == TRACE_ID


def test_child_keeps_trace_id() -> None:
    child = child_traceparent(TRACEPARENT)
    assert trace_id_of(child) == TRACE_ID


def test_child_new_span_id() -> None:
    child = child_traceparent(TRACEPARENT)
    assert child.split("-")[2] != TRACEPARENT.split("-")[2]


@pytest.mark.parametrize(
    "parent", [None, "", "garbage", "00-short-00f067aa0ba902b7-01"]
)
def test_child_without_parent_starts_trace(parent: str | None) -> None:
    child = child_traceparent(parent)
    assert trace_id_of(child) is not None


def test_new_traceparent_format() -> None:
    version, trace_id, span_id, flags = new_traceparent().split("-")
    assert version == "00"
    assert len(trace_id) == 32
    assert len(span_id) == 16
    assert flags == "01"


def test_new_traceparent_unique() -> None:
    assert trace_id_of(new_traceparent()) != trace_id_of(new_traceparent())


@pytest.mark.parametrize(
    ("traceparent", "expected"),
    [
        (TRACEPARENT, TRACE_ID),
        (None, None),
        ("", None),
        ("00-abc-def-01", None),
        (f"00-{TRACE_ID}-00f067aa0ba902b7", None),
    ],
)
def test_trace_id_of_cases(traceparent: str | None, expected: str | None) -> None:
    assert trace_id_of(traceparent) == expected
