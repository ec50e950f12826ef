"""Request and response models of the verification routes."""

import hashlib
import json
from datetime import datetime
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.text_checks import reject_nul
from schemas.verification import (
    CheckName,
    CheckStatus,
    Priority,
    Subject,
    Verdict,
)

JOB_ID_PATTERN = r"^vjob_[0-9a-f]{24}$"
ALL_CHECKS: list[CheckName] = list(get_args(CheckName))


class SubjectCreate(Subject):
    """The person, company or merchant to verify, with the facts the caller has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    _no_nul = field_validator("*")(reject_nul)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        name = value.strip()
        if not name:
            raise ValueError("the subject's name is blank; give the name to verify")
        return name

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if len(code) != 2 or not code.isascii() or not code.isalpha():
            raise ValueError(
                f"country {value!r} is not an ISO 3166-1 alpha-2 code such as CN or US"
            )
        return code


class VerificationCreate(BaseModel):
    """A request to verify one subject."""

    model_config = ConfigDict(extra="forbid")

    _no_nul = field_validator("*")(reject_nul)

    subject: SubjectCreate
    checks: list[CheckName] = Field(
        default_factory=lambda: list(ALL_CHECKS),
        min_length=1,
        description="Checks to run; all four by default. `website` is skipped "
        "when the subject has no website.",
    )
    priority: Priority = Field(
        default="batch",
        description="`realtime` for a user who is waiting (served first), "
        "`batch` for bulk work.",
    )
    callback_url: str | None = Field(
        default=None,
        max_length=2000,
        description="URL that receives the completion as a signed webhook.",
    )

    @field_validator("checks")
    @classmethod
    def _unique_checks(cls, value: list[CheckName]) -> list[CheckName]:
        return list(dict.fromkeys(value))

    def body_sha256(self) -> str:
        """Hash of the canonical body: defaults filled, keys sorted, no nulls.

        Two requests that mean the same job hash the same, whatever their key
        order, spacing or omitted defaults.
        """
        canonical = json.dumps(
            self.model_dump(mode="json", exclude_none=True),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


class VerificationBatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jobs: list[VerificationCreate] = Field(min_length=1)


class VerificationAccepted(BaseModel):
    job_id: str
    status: str
    duplicate: bool = Field(
        description="True when the idempotency key named an existing job."
    )
    status_url: str


class VerificationBatchAccepted(BaseModel):
    job_ids: list[str]


class CheckResultPublic(BaseModel):
    check: CheckName
    status: CheckStatus
    provider: str
    score: float
    reasons: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    details: dict[str, Any]
    attempts: int
    duration_ms: int
    checked_at: datetime


class VerificationEventPublic(BaseModel):
    event_id: str
    event_type: str
    summary: str
    data: dict[str, Any]
    time: datetime
    trace_id: str | None


class VerificationPublic(BaseModel):
    job_id: str
    status: str = Field(description="queued, running or completed.")
    verdict: Verdict | None
    score: float | None
    subject: dict[str, Any] | None
    checks: list[str] | None
    priority: str | None
    callback_url: str | None
    check_statuses: dict[str, str] | None
    reasons: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    requested_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    check_results: list[CheckResultPublic]
    events: list[VerificationEventPublic]
