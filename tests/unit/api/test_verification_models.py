"""Request models of the verification routes: validation and the body hash."""

import pytest
from pydantic import ValidationError

from api.verification_models import ALL_CHECKS, VerificationCreate


def create(**fields: object) -> VerificationCreate:
    body = {"subject": {"kind": "company", "name": "Acme Ltd"}, **fields}
    return VerificationCreate.model_validate(body)


def test_defaults_all_checks_batch() -> None:
    body = create()

    assert body.checks == ALL_CHECKS
    assert body.priority == "batch"


def test_hash_ignores_spelled_out_defaults() -> None:
    assert (
        create().body_sha256()
        == create(priority="batch", checks=ALL_CHECKS).body_sha256()
    )


def test_hash_differs_for_other_subject() -> None:
    other = VerificationCreate.model_validate(
        {"subject": {"kind": "company", "name": "Acme Holdings"}}
    )

    assert create().body_sha256() != other.body_sha256()


def test_hash_ignores_name_padding() -> None:
    padded = VerificationCreate.model_validate(
        {"subject": {"kind": "company", "name": "  Acme Ltd "}}
    )

    assert padded.body_sha256() == create().body_sha256()


def test_duplicate_checks_collapsed() -> None:
    assert create(checks=["sanctions", "sanctions"]).checks == ["sanctions"]


def test_country_upper_cased() -> None:
    body = VerificationCreate.model_validate(
        {"subject": {"kind": "company", "name": "Acme", "country": "cn"}}
    )

    assert body.subject.country == "CN"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"checks": ["credit_score"]},
            "'web_search', 'registry', 'website' or 'sanctions'",
        ),
        ({"priority": "now"}, "'realtime' or 'batch'"),
        ({"subject": {"kind": "company", "name": "\t "}}, "name is blank"),
        (
            {"subject": {"kind": "robot", "name": "R2"}},
            "'company', 'person' or 'merchant'",
        ),
        ({"subject": {"kind": "company", "name": "A", "ceo": "B"}}, "Extra inputs"),
    ],
)
def test_invalid_request_rejected(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        create(**fields)
