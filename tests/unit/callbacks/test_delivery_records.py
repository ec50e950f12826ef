"""Webhook ids, bodies and attempt events of the callbacks stage."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors.verification.webhooks import DeliveryAttempt
from connectors.webhook_deliveries import (
    DueDelivery,
    status_after,
    webhook_body,
    webhook_id_for_job,
)
from connectors.webhook_secrets import WebhookSecret
from schemas.envelope import CloudEvent
from schemas.verification import (
    VerificationCallbackAttemptedV1,
    VerificationCompletedV1,
)
from streams.callback_delivery import attempted_event, outcome_of

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def completed() -> tuple[CloudEvent, VerificationCompletedV1]:
    payload = VerificationCompletedV1(
        job_id="job-1",
        verdict="review",
        score=0.4,
        checks={"registry": "flagged"},
        callback_url="https://hooks.example.com/x",
        requested_at=NOW,
        completed_at=NOW,
    )
    event = CloudEvent(
        type="dev.tidings.verification.completed.v1",
        source="tests",
        subject="job-1",
        tenantid="tenant-a",
        data=payload.model_dump(mode="json"),
    )
    return event, payload


def attempt(outcome: str, retry_in: float | None) -> DeliveryAttempt:
    return DeliveryAttempt(
        webhook_id="msg_1",
        tenant_id="tenant-a",
        job_id="job-1",
        attempt=2,
        url="https://hooks.example.com/x",
        timestamp=int(NOW.timestamp()),
        outcome=outcome,  # type: ignore[arg-type]
        status_code=503 if outcome == "failed" else None,
        error=None,
        retry_in=retry_in,
    )


def due() -> DueDelivery:
    return DueDelivery(
        webhook_id="msg_1",
        tenant_id="tenant-a",
        job_id="job-1",
        event_id="event-1",
        subject="job-1",
        request_id="key-1",
        traceparent=None,
        url="https://hooks.example.com/x",
        body=b"{}",
        attempts=1,
    )


def test_webhook_id_stable_per_job() -> None:
    assert webhook_id_for_job("tenant-a", "job-1") == webhook_id_for_job(
        "tenant-a", "job-1"
    )


def test_webhook_id_differs_per_tenant() -> None:
    assert webhook_id_for_job("tenant-a", "job-1") != webhook_id_for_job(
        "tenant-b", "job-1"
    )


def test_body_is_deterministic() -> None:
    event, payload = completed()

    assert webhook_body(event, payload) == webhook_body(event, payload)


def test_body_carries_tenant_and_job() -> None:
    event, payload = completed()

    body = json.loads(webhook_body(event, payload))

    assert body["tenant_id"] == "tenant-a"
    assert body["job_id"] == "job-1"
    assert body["id"] == event.id
    assert body["data"]["verdict"] == "review"


@pytest.mark.parametrize(
    ("outcome", "retry_in", "expected"),
    [
        ("delivered", None, "delivered"),
        ("rejected", None, "rejected"),
        ("failed", 3.0, "failed"),
        ("failed", None, "gave_up"),
    ],
)
def test_outcome_of_attempt(
    outcome: str, retry_in: float | None, expected: str
) -> None:
    assert outcome_of(attempt(outcome, retry_in)) == expected


def test_attempted_event_schedules_next() -> None:
    event = attempted_event(due(), attempt("failed", 30.0), "worker-1")
    payload = VerificationCallbackAttemptedV1.model_validate(event.data)

    assert payload.next_attempt_at == NOW + timedelta(seconds=30)
    assert event.time == NOW
    assert event.tenantid == "tenant-a"
    assert event.requestid == "key-1"


def test_last_attempt_has_no_next() -> None:
    event = attempted_event(due(), attempt("failed", None), "worker-1")

    assert event.data["outcome"] == "gave_up"
    assert event.data["next_attempt_at"] is None


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("failed", "pending"),
        ("delivered", "delivered"),
        ("rejected", "rejected"),
        ("gave_up", "gave_up"),
    ],
)
def test_status_after_outcome(outcome: str, status: str) -> None:
    attempted = VerificationCallbackAttemptedV1(
        job_id="job-1", webhook_id="msg_1", attempt=1, url="https://x", outcome=outcome
    )

    assert status_after(attempted) == status


def secret_with_previous(valid_until: datetime) -> WebhookSecret:
    return WebhookSecret(
        tenant_id="tenant-a",
        secret="whsec_new",
        created_at=NOW,
        rotated_at=NOW,
        previous_secret="whsec_old",
        previous_valid_until=valid_until,
    )


def test_previous_secret_within_grace() -> None:
    secret = secret_with_previous(datetime.now(UTC) + timedelta(hours=1))

    assert secret.previous_secrets == ("whsec_old",)


def test_previous_secret_after_grace() -> None:
    secret = secret_with_previous(datetime.now(UTC) - timedelta(seconds=1))

    assert secret.previous_secrets == ()
