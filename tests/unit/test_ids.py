"""Deterministic ids: same cause, same id; different tenants, different ids."""

import hashlib
import re
import uuid

import pytest

from tidings.ids import chunk_id, derived_event_id, document_id

SHA_A = "a" * 64
SHA_B = "b" * 64


def test_document_id_stable() -> None:
    assert document_id("tenant-1", SHA_A) == document_id("tenant-1", SHA_A)


def test_document_id_differs_across_tenants() -> None:
    assert document_id("tenant-1", SHA_A) != document_id("tenant-2", SHA_A)


def test_document_id_differs_across_files() -> None:
    assert document_id("tenant-1", SHA_A) != document_id("tenant-1", SHA_B)


def test_document_id_format() -> None:
    assert re.fullmatch(r"doc_[0-9a-f]{24}", document_id("tenant-1", SHA_A))


def test_document_id_derivation() -> None:
    # A change here gives every stored document a new id.
    digest = hashlib.sha256(f"tenant-1:{SHA_A}".encode()).hexdigest()
    assert document_id("tenant-1", SHA_A) == "doc_" + digest[:24]


def test_derived_event_id_deterministic() -> None:
    first = derived_event_id("event-1", "dev.tidings.document.parsed.v1")
    second = derived_event_id("event-1", "dev.tidings.document.parsed.v1")
    assert first == second


@pytest.mark.parametrize(
    ("parts", "other"),
    [
        (("event-1", "parsed"), ("event-2", "parsed")),
        (("event-1", "parsed"), ("event-1", "indexed")),
        (("tenant", "doc", 1, "uploaded"), ("tenant", "doc", 2, "uploaded")),
        (("a", "b"), ("b", "a")),
    ],
)
def test_derived_event_id_differs(
    parts: tuple[object, ...], other: tuple[object, ...]
) -> None:
    assert derived_event_id(*parts) != derived_event_id(*other)


def test_derived_event_id_is_uuid5() -> None:
    parsed = uuid.UUID(derived_event_id("event-1", "parsed"))
    assert parsed.version == 5


def test_derived_event_id_int_and_str_equal() -> None:
    # Parts are joined as text, so an attempt number may come as int or str.
    assert derived_event_id("doc", 1) == derived_event_id("doc", "1")


@pytest.mark.parametrize(
    ("index", "expected"),
    [(0, "doc_x:00000"), (7, "doc_x:00007"), (12345, "doc_x:12345")],
)
def test_chunk_id_cases(index: int, expected: str) -> None:
    assert chunk_id("doc_x", index) == expected


def test_chunk_ids_sort_in_order() -> None:
    ids = [chunk_id("doc_x", index) for index in (10, 2, 1000, 33)]
    assert sorted(ids) == [chunk_id("doc_x", index) for index in (2, 10, 33, 1000)]
