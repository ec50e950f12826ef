"""Readable request errors of `tidings verify`."""

from typing import Any

import pytest
from pydantic import ValidationError

from api.verification_models import VerificationCreate
from tidings.verify_command import request_problems


def _detail(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the 422 detail that FastAPI builds for this request body."""
    with pytest.raises(ValidationError) as caught:
        VerificationCreate.model_validate(body)
    return [
        {**error, "loc": ["body", *error["loc"]]}
        for error in caught.value.errors(include_url=False, include_context=False)
    ]


def test_problems_name_option_value_and_fix() -> None:
    detail = _detail(
        {
            "subject": {"kind": "corp", "name": "Acme"},
            "checks": ["registry", "credit"],
            "priority": "urgent",
        }
    )

    assert request_problems(detail) == [
        "invalid --kind 'corp': Input should be 'company', 'person' or 'merchant'",
        "invalid --check 'credit': Input should be 'web_search', 'registry', "
        "'website' or 'sanctions'",
        "invalid --priority 'urgent': Input should be 'realtime' or 'batch'",
    ]


def test_custom_check_message_without_prefix() -> None:
    detail = _detail({"subject": {"kind": "company", "name": "Acme", "country": "1"}})

    assert request_problems(detail) == [
        "invalid --country '1': country '1' is not an ISO 3166-1 alpha-2 code "
        "such as CN or US"
    ]


def test_missing_field_has_no_value() -> None:
    detail = _detail({"subject": {"kind": "company"}})

    assert request_problems(detail) == ["invalid --name: Field required"]


def test_text_detail_gives_no_problems() -> None:
    assert request_problems("Idempotency-Key must be 1 to 200 characters") == []
