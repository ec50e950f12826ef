"""Registry status words and the comparison of a record with the subject."""

import pytest

from connectors.verification.records import RegistryRecord, normalize_registry_status
from connectors.verification.registry import (
    RegistrySubject,
    best_registry_match,
    compare_registry_record,
    normalize_registration_number,
)


def record(**changes: str | None) -> RegistryRecord:
    fields: dict[str, str | None] = {
        "name": "深圳示例科技有限公司",
        "number": "91440300EXAMPLE0001",
        "raw_status": "存续",
        "legal_representative": "张三",
        "address": None,
        "country": "CN",
    }
    fields.update(changes)
    return RegistryRecord(
        name=fields["name"] or "",
        number=fields["number"],
        status=normalize_registry_status(fields["raw_status"]),
        raw_status=fields["raw_status"],
        legal_representative=fields["legal_representative"],
        address=fields["address"],
        country=fields["country"],
    )


SUBJECT = RegistrySubject(
    name="深圳示例科技有限責任公司",
    registration_number="9144 0300 EXAMPLE 0001",
    legal_representative="張三",
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("active", "active"),
        ("Active", "active"),
        ("存续（在营、开业、在册）", "active"),
        ("吊销", "revoked"),
        ("吊销，未注销", "revoked"),
        ("注销", "dissolved"),
        ("Dissolved", "dissolved"),
        ("struck-off", "revoked"),
        ("inactive", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_status_words(value: str | None, expected: str) -> None:
    assert normalize_registry_status(value) == expected


def test_number_normalised() -> None:
    assert normalize_registration_number("９１４４-0300 example") == "91440300EXAMPLE"


def test_matching_record_has_no_reasons() -> None:
    comparison = compare_registry_record(SUBJECT, record())

    assert comparison.name_matches
    assert comparison.number_matches is True
    assert comparison.representative_matches is True
    assert comparison.reasons == ()


def test_revoked_status_is_reason() -> None:
    comparison = compare_registry_record(SUBJECT, record(raw_status="吊销"))

    assert comparison.status == "revoked"
    assert comparison.reasons == ("the registry lists the company as revoked (吊销)",)


def test_different_number_is_reason() -> None:
    comparison = compare_registry_record(SUBJECT, record(number="91440300OTHER0002"))

    assert comparison.number_matches is False
    assert "registration number" in comparison.reasons[0]


def test_different_representative_is_reason() -> None:
    comparison = compare_registry_record(SUBJECT, record(legal_representative="李四"))

    assert comparison.representative_matches is False


def test_unknown_number_not_compared() -> None:
    comparison = compare_registry_record(SUBJECT, record(number=None))

    assert comparison.number_matches is None


def test_best_match_prefers_number() -> None:
    records = [
        record(name="深圳示例科技有限公司", number="OTHER"),
        record(name="深圳示例科技发展有限公司"),
    ]

    best = best_registry_match(SUBJECT, records)

    assert best is not None
    assert best.record.name == "深圳示例科技发展有限公司"


def test_best_match_of_nothing() -> None:
    assert best_registry_match(SUBJECT, []) is None
