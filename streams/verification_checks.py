"""The four checks of a verification job, each through its connector.

A check returns a `CheckOutcome`: `clear`, `flagged` (with reasons and
evidence), `unavailable` (the provider returned no usable result, with the
provider's reason code) or `skipped`. Provider errors never escape a check,
so one failing provider cannot stop the others.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.verification.adverse import assess_search_results
from connectors.verification.errors import (
    ProviderConfigError,
    ProviderError,
    UrlRejectedError,
)
from connectors.verification.names import NameKind
from connectors.verification.records import to_registry_record, to_search_result
from connectors.verification.registry import RegistrySubject, best_registry_match
from connectors.verification.resilience import AttemptReport, CallContext
from connectors.verification.website import WebsiteSubject, check_website
from schemas.verification import (
    CheckName,
    CheckStatus,
    Evidence,
    Reason,
    Subject,
    VerificationCheckedV1,
)
from streams.verification_toolkit import Toolkit

# Evidence items kept per check, so events stay small.
MAX_EVIDENCE = 5
SNIPPET_CHARS = 300


@dataclass
class CheckOutcome:
    status: CheckStatus
    provider: str
    score: float = 0.0
    reasons: list[Reason] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0


def name_kind(subject: Subject) -> NameKind:
    # A merchant is a business, so its name is compared like a company's.
    return "person" if subject.kind == "person" else "company"


def unavailable(
    check: CheckName, provider: str, code: str, detail: str
) -> CheckOutcome:
    return CheckOutcome(
        status="unavailable",
        provider=provider,
        reasons=[Reason(code=code, detail=detail, check=check)],
    )


class AttemptCounter:
    """Counts the HTTP attempts that a provider guard reports.

    A call that an open circuit breaker stopped sent no request, so it
    does not count.
    """

    def __init__(self) -> None:
        self.attempts = 0

    def __call__(self, report: AttemptReport) -> None:
        if report.outcome != "unavailable":
            self.attempts += 1


def _provider_label(toolkit: Toolkit, check: CheckName) -> str:
    settings = getattr(toolkit.settings, check)
    return str(settings.preset or "custom")


async def _query(
    toolkit: Toolkit,
    check: CheckName,
    params: dict[str, str],
    context: CallContext,
    counter: AttemptCounter,
) -> list[dict[str, Any]] | CheckOutcome:
    """Return the provider's records, or the unavailable outcome of the check."""
    provider = getattr(toolkit, check)
    label = _provider_label(toolkit, check)
    if provider is None:
        return unavailable(check, label, "not_configured", toolkit.missing[check])
    try:
        records: list[dict[str, Any]] = await provider.query(
            params, context, on_attempt=counter
        )
    except ProviderConfigError as exc:
        return unavailable(check, label, "not_configured", str(exc))
    except ProviderError as exc:
        outcome = unavailable(check, label, exc.reason, exc.detail)
        outcome.attempts = counter.attempts
        return outcome
    return records


async def check_web_search(
    toolkit: Toolkit, subject: Subject, context: CallContext
) -> CheckOutcome:
    """Search the subject's name and flag adverse hits that name the subject."""
    counter = AttemptCounter()
    found = await _query(
        toolkit, "web_search", {"query": subject.name}, context, counter
    )
    if isinstance(found, CheckOutcome):
        return found

    results = [to_search_result(record) for record in found]
    assessment = assess_search_results(results, subject.name, name_kind(subject))
    outcome = CheckOutcome(
        status="clear",
        provider=_provider_label(toolkit, "web_search"),
        score=assessment.score,
        attempts=counter.attempts,
        details={
            "results": len(results),
            "categories": [str(category) for category in assessment.categories],
        },
    )
    outcome.evidence = [
        Evidence(
            check="web_search",
            url=item.url,
            title=item.title,
            snippet=item.snippet[:SNIPPET_CHARS],
        )
        for item in assessment.evidence[:MAX_EVIDENCE]
    ]
    if assessment.score >= toolkit.settings.adverse_min_score:
        outcome.status = "flagged"
        categories = ", ".join(str(category) for category in assessment.categories)
        outcome.reasons.append(
            Reason(
                code="adverse_media",
                detail=f"{len(assessment.evidence)} search hits carry adverse "
                f"signals ({categories}); the strongest scores "
                f"{assessment.score:.2f}",
                check="web_search",
            )
        )
    return outcome


async def check_registry(
    toolkit: Toolkit, subject: Subject, context: CallContext
) -> CheckOutcome:
    """Look the company up and compare name, number, representative and status."""
    label = _provider_label(toolkit, "registry")
    if subject.kind == "person":
        return CheckOutcome(
            status="skipped",
            provider=label,
            reasons=[
                Reason(
                    code="not_applicable",
                    detail="a company registry has no entries for persons",
                    check="registry",
                )
            ],
        )

    params = {
        "name": subject.name,
        "number": subject.registration_number or "",
        "country": subject.country or "",
    }
    counter = AttemptCounter()
    found = await _query(toolkit, "registry", params, context, counter)
    if isinstance(found, CheckOutcome):
        return found

    records = [to_registry_record(record) for record in found]
    registry_subject = RegistrySubject(
        name=subject.name, registration_number=subject.registration_number
    )
    match = best_registry_match(registry_subject, records)
    outcome = CheckOutcome(status="clear", provider=label, attempts=counter.attempts)
    if match is None:
        outcome.status = "flagged"
        outcome.score = 0.5
        outcome.reasons.append(
            Reason(
                code="registry_not_found",
                detail=f"the registry has no company named {subject.name!r}",
                check="registry",
            )
        )
        return outcome

    record = match.record
    outcome.details = {
        "registered_name": record.name,
        "number": record.number,
        "status": record.status,
        "raw_status": record.raw_status,
        "legal_representative": record.legal_representative,
        "name_score": round(match.name_score, 1),
    }
    if match.status in ("revoked", "dissolved"):
        outcome.status = "flagged"
        outcome.score = 1.0
        outcome.reasons.append(
            Reason(
                code="registry_inactive",
                detail=f"the registry lists {record.name!r} as {match.status}"
                + (f" ({record.raw_status})" if record.raw_status else ""),
                check="registry",
            )
        )
    mismatches = [
        reason
        for reason in match.reasons
        if not reason.startswith("the registry lists")
    ]
    if mismatches:
        outcome.status = "flagged"
        outcome.score = max(outcome.score, 0.6)
        outcome.reasons.append(
            Reason(
                code="registry_mismatch",
                detail="; ".join(mismatches),
                check="registry",
            )
        )
    return outcome


async def check_website_of(
    toolkit: Toolkit, subject: Subject, context: CallContext
) -> CheckOutcome:
    """Fetch the subject's website and compare it with the subject."""
    if not subject.website:
        return CheckOutcome(
            status="skipped",
            provider="builtin",
            reasons=[
                Reason(
                    code="no_website",
                    detail="the subject has no website to check",
                    check="website",
                )
            ],
        )
    settings = toolkit.settings
    website_subject = WebsiteSubject(
        name=subject.name,
        kind=name_kind(subject),
        email=subject.email,
        phone=subject.phone,
    )
    try:
        result = await check_website(
            subject.website,
            website_subject,
            guard=toolkit.url_guard,
            timeout=settings.website_timeout_seconds,
            max_bytes=settings.website_max_bytes,
            max_redirects=settings.website_max_redirects,
        )
    except UrlRejectedError as exc:
        return CheckOutcome(
            status="flagged",
            provider="builtin",
            score=0.5,
            attempts=1,
            reasons=[Reason(code="website_rejected", detail=str(exc), check="website")],
        )

    outcome = CheckOutcome(
        status="flagged" if result.reasons else "clear",
        provider="builtin",
        score=0.5 if result.reasons else 0.0,
        attempts=1 + len(result.redirects),
        details={
            "final_url": result.final_url,
            "status_code": result.status_code,
            "tls_valid": result.tls_valid,
            "name_present": result.name_present,
        },
    )
    if result.reasons:
        outcome.reasons = [
            Reason(code=_website_code(text), detail=text, check="website")
            for text in result.reasons
        ]
        outcome.evidence.append(
            Evidence(check="website", url=result.final_url or result.url)
        )
    return outcome


# Reason codes by the start of `WebsiteCheck.reasons` texts.
_WEBSITE_CODES = (
    ("the website is unreachable", "website_unreachable"),
    ("the website responded with HTTP", "website_unreachable"),
    ("the TLS certificate is not valid", "website_tls_invalid"),
    ("the website does not use https", "website_not_https"),
    ("the name ", "website_name_missing"),
    ("the e-mail address", "website_contact_mismatch"),
    ("the phone number", "website_contact_mismatch"),
)


def _website_code(text: str) -> str:
    for prefix, code in _WEBSITE_CODES:
        if text.startswith(prefix):
            return code
    return "website_problem"


async def check_sanctions(
    toolkit: Toolkit, subject: Subject, context: CallContext
) -> CheckOutcome:
    """Fuzzy-match the subject's name against the sanctions list."""
    if toolkit.sanctions is None:
        return unavailable(
            "sanctions", "builtin", "not_configured", toolkit.missing["sanctions"]
        )
    # A full OpenSanctions list has about a million names, so matching runs
    # in a thread to keep the event loop serving the other jobs.
    matches = await asyncio.to_thread(
        toolkit.sanctions.match,
        subject.name,
        name_kind(subject),
        min_score=toolkit.settings.sanctions_min_score,
    )
    if not matches:
        return CheckOutcome(
            status="clear",
            provider="builtin",
            details={"entries_searched": len(toolkit.sanctions)},
        )

    best = matches[0]
    return CheckOutcome(
        status="flagged",
        provider="builtin",
        score=round(best.score / 100, 4),
        reasons=[
            Reason(
                code="sanctions_match",
                detail=f"the name matches the listed {best.entry.schema.lower()} "
                f"{best.entry.name!r} (as {best.matched_name!r}, score "
                f"{best.score:.0f} of 100, {', '.join(best.entry.datasets)})",
                check="sanctions",
            )
        ],
        details={
            "matches": [
                {
                    "id": match.entry.id,
                    "name": match.entry.name,
                    "matched_name": match.matched_name,
                    "score": round(match.score, 1),
                    "datasets": list(match.entry.datasets),
                    "sanctions": list(match.entry.sanctions)[:3],
                }
                for match in matches
            ]
        },
    )


CheckFunction = Callable[[Toolkit, Subject, CallContext], Awaitable[CheckOutcome]]

CHECKS: dict[CheckName, CheckFunction] = {
    "web_search": check_web_search,
    "registry": check_registry,
    "website": check_website_of,
    "sanctions": check_sanctions,
}


def to_checked_event(
    job_id: str, check: CheckName, outcome: CheckOutcome, started: float
) -> VerificationCheckedV1:
    return VerificationCheckedV1(
        job_id=job_id,
        check=check,
        status=outcome.status,
        provider=outcome.provider,
        score=min(1.0, max(0.0, outcome.score)),
        reasons=outcome.reasons,
        evidence=outcome.evidence,
        attempts=outcome.attempts,
        duration_ms=int((time.monotonic() - started) * 1000),
        details=outcome.details,
    )
