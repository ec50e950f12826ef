"""The verdict of a verification job, from the statuses and reasons of its checks.

Rules, first match wins:

1. `fail`: a sanctions match, or a registry that lists the company as
   revoked or dissolved.
2. `incomplete`: a check is `unavailable` (circuit open, timeouts, 5xx,
   malformed responses, not configured), or no check could run at all. The
   provider's reason is among the verdict's reasons, so the caller can see
   what to retry.
3. `review`: any other flagged check (adverse media, registry mismatch or
   no registry entry, website problems).
4. `pass`: every check that ran is clear.

The score is the highest check score, because one strong signal is enough
to doubt a subject.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.verification import Evidence, Reason, Verdict, VerificationCheckedV1

# Reason codes that decide a `fail` verdict on their own.
FAIL_CODES = frozenset({"sanctions_match", "registry_inactive"})


@dataclass(frozen=True)
class JobVerdict:
    verdict: Verdict
    score: float
    reasons: list[Reason]
    evidence: list[Evidence]


def decide_verdict(results: Iterable[VerificationCheckedV1]) -> JobVerdict:
    """Combine the checked events of one job into its verdict."""
    checks = list(results)
    reasons = [reason for check in checks for reason in check.reasons]
    evidence = [item for check in checks for item in check.evidence]
    score = max((check.score for check in checks), default=0.0)
    statuses = {check.status for check in checks}
    significant = [
        reason
        for reason in reasons
        if reason.code not in ("not_applicable", "no_website")
    ]

    if any(reason.code in FAIL_CODES for reason in reasons):
        return JobVerdict("fail", score, significant, evidence)
    if "unavailable" in statuses:
        return JobVerdict("incomplete", score, significant, evidence)
    if not statuses & {"clear", "flagged"}:
        nothing_ran = Reason(
            code="no_checks_ran",
            detail="every requested check was skipped for this subject, so "
            "nothing was verified; request checks that fit the subject",
        )
        return JobVerdict("incomplete", score, [*significant, nothing_ran], evidence)
    if "flagged" in statuses:
        return JobVerdict("review", score, significant, evidence)
    return JobVerdict("pass", score, significant, evidence)
