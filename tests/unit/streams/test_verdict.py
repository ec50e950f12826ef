"""Verdict rules: fail, incomplete, review and pass from the check results."""

import pytest

from schemas.verification import CheckStatus, Reason, VerificationCheckedV1
from streams.verdict import decide_verdict


def checked(
    check: str, status: CheckStatus, code: str | None = None, score: float = 0.0
) -> VerificationCheckedV1:
    reasons = [Reason(code=code, detail=f"{code} found", check=check)] if code else []
    return VerificationCheckedV1(
        job_id="vjob_000000000000000000000001",
        check=check,
        status=status,
        provider="test",
        score=score,
        reasons=reasons,
        attempts=1,
        duration_ms=5,
    )


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        ([checked("web_search", "clear"), checked("registry", "clear")], "pass"),
        ([checked("sanctions", "flagged", "sanctions_match", 0.95)], "fail"),
        ([checked("registry", "flagged", "registry_inactive", 1.0)], "fail"),
        ([checked("web_search", "flagged", "adverse_media", 0.6)], "review"),
        ([checked("registry", "flagged", "registry_mismatch", 0.6)], "review"),
        ([checked("website", "flagged", "website_not_https", 0.5)], "review"),
        (
            [
                checked("web_search", "unavailable", "unavailable"),
                checked("registry", "clear"),
            ],
            "incomplete",
        ),
        (
            [
                checked("web_search", "unavailable", "timeout"),
                checked("sanctions", "flagged", "sanctions_match", 0.9),
            ],
            "fail",
        ),
        (
            [
                checked("web_search", "unavailable", "http_status"),
                checked("registry", "flagged", "registry_mismatch", 0.6),
            ],
            "incomplete",
        ),
        (
            [
                checked("website", "skipped", "no_website"),
                checked("sanctions", "clear"),
            ],
            "pass",
        ),
        ([checked("website", "skipped", "no_website")], "incomplete"),
    ],
)
def test_verdict_rules(results: list[VerificationCheckedV1], verdict: str) -> None:
    assert decide_verdict(results).verdict == verdict


def test_incomplete_names_provider_reason() -> None:
    result = decide_verdict(
        [
            checked("web_search", "unavailable", "unavailable"),
            checked("registry", "clear"),
        ]
    )

    assert [reason.code for reason in result.reasons] == ["unavailable"]
    assert result.reasons[0].check == "web_search"


def test_skip_reasons_left_out() -> None:
    result = decide_verdict(
        [checked("website", "skipped", "no_website"), checked("sanctions", "clear")]
    )

    assert result.reasons == []


def test_nothing_ran_explained() -> None:
    result = decide_verdict([checked("registry", "skipped", "not_applicable")])

    assert [reason.code for reason in result.reasons] == ["no_checks_ran"]


def test_score_is_highest_check_score() -> None:
    result = decide_verdict(
        [
            checked("web_search", "flagged", "adverse_media", 0.6),
            checked("registry", "flagged", "registry_mismatch", 0.8),
        ]
    )

    assert result.score == 0.8
