"""Payload models of the verification domain.

A job is requested once, gets one `verification.checked` event per check,
ends with one `verification.completed` event, and each attempt to deliver
the completion to the caller's callback URL is a
`verification.callback-attempted` event. Every event is keyed by job id, so
one job's events stay in order on one partition.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.base import Payload

SubjectKind = Literal["company", "person", "merchant"]
CheckName = Literal["web_search", "registry", "website", "sanctions"]
Priority = Literal["realtime", "batch"]
# clear: the check ran and found nothing against the subject.
# flagged: it found something (adverse news, a registry mismatch, a sanctions
#   match, an unreachable or inconsistent website).
# unavailable: the provider returned no usable result (circuit open, timeouts, 5xx,
#   malformed responses after the retries).
# skipped: the check cannot run for this subject, for example `website`
#   without a known website.
CheckStatus = Literal["clear", "flagged", "unavailable", "skipped"]
Verdict = Literal["pass", "review", "fail", "incomplete"]
CallbackOutcome = Literal["delivered", "failed", "rejected", "gave_up"]


class Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Subject(Part):
    """The person, company or merchant to verify, with the facts the caller has."""

    kind: SubjectKind
    name: str = Field(min_length=1, max_length=300)
    registration_number: str | None = Field(default=None, max_length=100)
    website: str | None = Field(default=None, max_length=2000)
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=320)
    address: str | None = Field(default=None, max_length=1000)
    country: str | None = Field(
        default=None, max_length=2, description="ISO 3166-1 alpha-2 code."
    )


class Reason(Part):
    """The cause of a check status or a verdict."""

    code: str = Field(description="Stable code such as adverse_media or timeout.")
    detail: str = Field(description="Readable sentence for the caller.")
    check: CheckName | None = None


class Evidence(Part):
    """A source that supports a reason: a URL with a snippet, or a record."""

    check: CheckName
    url: str | None = None
    title: str | None = None
    snippet: str | None = None


class VerificationRequestedV1(Payload):
    """A caller asked for a verification job."""

    job_id: str
    subject: Subject
    checks: list[CheckName] = Field(min_length=1)
    priority: Priority = "batch"
    callback_url: str | None = None
    body_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the canonical request body. A second request "
        "with the same idempotency key must have the same hash.",
    )


class VerificationCheckedV1(Payload):
    """One check of a job finished or was given up."""

    job_id: str
    check: CheckName
    status: CheckStatus
    provider: str = Field(description="Configured provider name, or 'builtin'.")
    score: float = Field(
        ge=0, le=1, description="Risk found by this check: 0 none, 1 certain."
    )
    reasons: list[Reason] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    attempts: int = Field(ge=0, description="HTTP attempts made, 0 if none.")
    duration_ms: int = Field(ge=0)
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="Check-specific facts, for example the registry record or "
        "the matched sanctions entry.",
    )


class VerificationCompletedV1(Payload):
    """Every check of a job is done or given up; the verdict is final."""

    job_id: str
    verdict: Verdict
    score: float = Field(ge=0, le=1, description="Overall risk: 0 none, 1 certain.")
    checks: dict[str, CheckStatus] = Field(description="Check name -> status.")
    reasons: list[Reason] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    callback_url: str | None = None
    requested_at: datetime
    completed_at: datetime


class VerificationCallbackAttemptedV1(Payload):
    """One attempt to deliver a job's completion to its callback URL."""

    job_id: str
    webhook_id: str = Field(
        description="Standard Webhooks message id, the same for every attempt "
        "of one completion."
    )
    attempt: int = Field(ge=1)
    url: str
    outcome: CallbackOutcome
    status_code: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = Field(
        default=None,
        description="Time of the next attempt, or null after the last one.",
    )
