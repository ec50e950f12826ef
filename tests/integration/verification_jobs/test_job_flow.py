"""Verification jobs end to end: HTTP API, Kafka, worker, loopback providers.

Each misbehaving provider must still end the job, in the right state, with
a readable reason, and leave nothing pending, lost or duplicated.
"""

from typing import Any

import httpx
import pytest

from tests.integration.verification.provider_server import ProviderServer
from tests.integration.verification.servers import closed_port
from tests.integration.verification_jobs.helpers import (
    PROVIDER_CHECKS,
    assert_nothing_lost_or_duplicated,
    check_result,
    reason_codes,
    run_job,
    site_url,
    submit,
    unique_name,
    wait_completed,
)
from tests.stack import Stack

pytestmark = pytest.mark.integration

ALL_CHECKS = ["web_search", "registry", "website", "sanctions"]
finished: dict[str, dict[str, Any]] = {}


def remember(job: dict[str, Any]) -> dict[str, Any]:
    finished[job["job_id"]] = job
    return job


def test_clean_company_passes(healthy: ProviderServer, vapi: httpx.Client) -> None:
    checks = ["web_search", "registry", "sanctions"]
    job = remember(run_job(vapi, unique_name("clean"), checks))
    summaries = [event["summary"] for event in job["events"]]

    assert job["verdict"] == "pass"
    assert job["check_statuses"] == {check: "clear" for check in checks}
    assert job["reasons"] == []
    assert summaries[0].startswith("requested: company")
    assert summaries[-1] == "completed: pass (score 0.00)"
    assert sorted(summaries[1:-1]) == [f"{check}: clear" for check in sorted(checks)]


def test_plain_http_website_needs_review(
    healthy: ProviderServer, vapi: httpx.Client
) -> None:
    name = unique_name("site")
    job = remember(run_job(vapi, name, ALL_CHECKS, website=site_url(name)))
    website = check_result(job, "website")

    assert job["verdict"] == "review"
    assert reason_codes(job) == {"website_not_https"}
    assert website["details"]["name_present"] is True


def test_website_without_name_needs_review(
    healthy: ProviderServer, vapi: httpx.Client
) -> None:
    job = remember(
        run_job(vapi, unique_name("site"), ["website"], website=site_url("Other Co"))
    )

    assert job["verdict"] == "review"
    assert reason_codes(job) == {"website_not_https", "website_name_missing"}


def test_unreachable_website_needs_review(
    healthy: ProviderServer, vapi: httpx.Client
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    job = remember(run_job(vapi, unique_name("site"), ["website"], website=url))

    assert job["verdict"] == "review"
    assert reason_codes(job) == {"website_unreachable"}


def test_adverse_media_needs_review(
    healthy: ProviderServer, vapi: httpx.Client
) -> None:
    job = remember(run_job(vapi, unique_name("adverse"), PROVIDER_CHECKS))
    search = check_result(job, "web_search")

    assert job["verdict"] == "review"
    assert search["status"] == "flagged"
    assert reason_codes(job) == {"adverse_media"}
    assert search["evidence"][0]["url"] == "https://news.example/fraud"


def test_revoked_registry_fails(healthy: ProviderServer, vapi: httpx.Client) -> None:
    job = remember(run_job(vapi, unique_name("revoked"), PROVIDER_CHECKS))
    registry = check_result(job, "registry")

    assert job["verdict"] == "fail"
    assert "registry_inactive" in reason_codes(job)
    assert registry["details"]["status"] == "revoked"


def test_registry_mismatch_needs_review(
    healthy: ProviderServer, vapi: httpx.Client
) -> None:
    job = remember(run_job(vapi, unique_name("mismatch"), PROVIDER_CHECKS))

    assert job["verdict"] == "review"
    assert reason_codes(job) == {"registry_mismatch"}


def test_sanctioned_alias_fails(healthy: ProviderServer, vapi: httpx.Client) -> None:
    job = remember(run_job(vapi, "黑水港航运有限公司", ["sanctions"]))
    sanctions = check_result(job, "sanctions")

    assert job["verdict"] == "fail"
    assert sanctions["status"] == "flagged"
    assert sanctions["details"]["matches"][0]["id"] == "test-company-1"


def test_person_skips_registry_and_website(
    healthy: ProviderServer, vapi: httpx.Client
) -> None:
    job = remember(
        run_job(
            vapi,
            unique_name("person"),
            ["registry", "website", "sanctions"],
            kind="person",
        )
    )

    assert job["verdict"] == "pass"
    assert job["check_statuses"] == {
        "registry": "skipped",
        "website": "skipped",
        "sanctions": "clear",
    }


@pytest.mark.parametrize(
    ("word", "verdict", "reason", "attempts"),
    [
        ("slow", "incomplete", "timeout", 3),
        ("e500", "incomplete", "http_status", 3),
        ("badjson", "incomplete", "malformed_response", 1),
        # A Retry-After beyond retry_after_max_seconds ends the retries.
        ("blocked", "incomplete", "http_status", 1),
        ("flaky", "pass", None, 3),
        ("e429", "pass", None, 2),
    ],
)
def test_misbehaving_provider(
    healthy: ProviderServer,
    vapi: httpx.Client,
    word: str,
    verdict: str,
    reason: str | None,
    attempts: int,
) -> None:
    name = unique_name(word)
    job = remember(run_job(vapi, name, PROVIDER_CHECKS))

    assert job["verdict"] == verdict
    for check in PROVIDER_CHECKS:
        result = check_result(job, check)
        assert result["attempts"] == attempts, result
        if reason is None:
            assert result["status"] == "clear"
        else:
            assert result["status"] == "unavailable"
            assert result["reasons"][0]["code"] == reason
            assert result["reasons"][0]["detail"]
    assert healthy.count("search", name) == attempts
    assert healthy.count("registry", name) == attempts


def test_connection_refused(healthy: ProviderServer, vapi: httpx.Client) -> None:
    healthy.stop()
    try:
        job = remember(run_job(vapi, unique_name("refused"), PROVIDER_CHECKS))
    finally:
        healthy.start()

    assert job["verdict"] == "incomplete"
    assert reason_codes(job) == {"connection_failed"}
    assert "check that base_url" in job["reasons"][0]["detail"]


def test_open_breaker_fails_fast(healthy: ProviderServer, vapi: httpx.Client) -> None:
    failing = [submit(vapi, unique_name("e500"), ["web_search"]) for _ in range(5)]
    failed = wait_completed(vapi, failing)
    for job in failed.values():
        remember(job)
    name = unique_name("after-breaker")
    job = remember(run_job(vapi, name, ["web_search"]))
    search = check_result(job, "web_search")

    assert {job["verdict"] for job in failed.values()} == {"incomplete"}
    assert job["verdict"] == "incomplete"
    assert search["reasons"][0]["code"] == "unavailable"
    assert "circuit breaker is open" in search["reasons"][0]["detail"]
    assert search["attempts"] == 0
    assert healthy.count("search", name) == 0


def test_breaker_recovers(healthy: ProviderServer, vapi: httpx.Client) -> None:
    # The `healthy` fixture waited for a passing probe, so the breaker that
    # the previous test opened let a probe through and closed again.
    job = remember(run_job(vapi, unique_name("recovered"), ["web_search"]))

    assert job["verdict"] == "pass"


def test_nothing_lost_or_duplicated(stack: Stack, vapi: httpx.Client) -> None:
    assert len(finished) >= 15
    assert_nothing_lost_or_duplicated(stack, finished)
