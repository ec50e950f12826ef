"""Reason codes of the website check and trail summaries of verification events."""

import pytest

from connectors.verification_tables import summarize
from schemas.verification import (
    Reason,
    Subject,
    VerificationCallbackAttemptedV1,
    VerificationCheckedV1,
    VerificationRequestedV1,
)
from streams.verification_checks import _website_code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("the website is unreachable (timeout): no answer", "website_unreachable"),
        ("the website responded with HTTP 503", "website_unreachable"),
        ("the TLS certificate is not valid: expired", "website_tls_invalid"),
        ("the website does not use https", "website_not_https"),
        ("the name 'Acme' does not appear on the page", "website_name_missing"),
        ("the e-mail address 'a@b.c' is not on the page", "website_contact_mismatch"),
        ("the phone number '123' is not on the page", "website_contact_mismatch"),
        ("something new", "website_problem"),
    ],
)
def test_website_reason_codes(text: str, code: str) -> None:
    assert _website_code(text) == code


def test_summary_of_requested() -> None:
    payload = VerificationRequestedV1(
        job_id="vjob_1",
        subject=Subject(kind="company", name="Acme"),
        checks=["web_search", "sanctions"],
        priority="realtime",
        body_sha256="0" * 64,
    )

    assert summarize(payload) == (
        "requested: company 'Acme', checks web_search, sanctions, priority realtime"
    )


def test_summary_of_checked_names_reasons() -> None:
    payload = VerificationCheckedV1(
        job_id="vjob_1",
        check="registry",
        status="flagged",
        provider="company_registry",
        score=1.0,
        reasons=[Reason(code="registry_inactive", detail="revoked")],
        attempts=1,
        duration_ms=3,
    )

    assert summarize(payload) == "registry: flagged (registry_inactive)"


def test_summary_of_callback_attempt() -> None:
    payload = VerificationCallbackAttemptedV1(
        job_id="vjob_1",
        webhook_id="msg_1",
        attempt=3,
        url="https://hooks.example/x",
        outcome="failed",
        status_code=503,
    )

    assert summarize(payload) == "callback attempt 3: failed HTTP 503"
