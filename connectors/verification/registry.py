"""Comparison of a company-registry record with what the subject claims."""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from connectors.verification.names import compare_names
from connectors.verification.records import RegistryRecord, RegistryStatus

# Names scoring at least this (0-100) after normalisation count as the same.
NAME_MATCH_THRESHOLD = 90.0


@dataclass(frozen=True)
class RegistrySubject:
    name: str
    registration_number: str | None = None
    legal_representative: str | None = None


@dataclass(frozen=True)
class RegistryComparison:
    """Agreement of a registry record with the subject.

    A `*_matches` value is None when the subject or the record lacks that
    detail. `reasons` lists each disagreement and an inactive status.
    """

    record: RegistryRecord
    name_score: float
    name_matches: bool
    number_matches: bool | None
    representative_matches: bool | None
    status: RegistryStatus
    reasons: tuple[str, ...]


def normalize_registration_number(number: str) -> str:
    """Return the number in upper case without spaces, dashes or full-width forms."""
    folded = unicodedata.normalize("NFKC", number).upper()
    return "".join(character for character in folded if character.isalnum())


def compare_registry_record(
    subject: RegistrySubject,
    record: RegistryRecord,
    *,
    name_threshold: float = NAME_MATCH_THRESHOLD,
) -> RegistryComparison:
    """Compare name, number, legal representative and status with the subject."""
    reasons: list[str] = []
    name = compare_names(subject.name, record.name, "company")
    name_matches = name.score >= name_threshold
    if not name_matches:
        reasons.append(
            f"the registered name {record.name!r} differs from {subject.name!r} "
            f"(similarity {name.score:.0f} of 100)"
        )

    number_matches = None
    if subject.registration_number and record.number:
        number_matches = normalize_registration_number(
            subject.registration_number
        ) == normalize_registration_number(record.number)
        if not number_matches:
            reasons.append(
                f"the registration number {record.number!r} differs from "
                f"{subject.registration_number!r}"
            )

    representative_matches = None
    if subject.legal_representative and record.legal_representative:
        representative = compare_names(
            subject.legal_representative, record.legal_representative, "person"
        )
        representative_matches = representative.score >= name_threshold
        if not representative_matches:
            reasons.append(
                f"the legal representative {record.legal_representative!r} differs "
                f"from {subject.legal_representative!r}"
            )

    if record.status != "active":
        raw = f" ({record.raw_status})" if record.raw_status else ""
        reasons.append(f"the registry lists the company as {record.status}{raw}")

    return RegistryComparison(
        record=record,
        name_score=name.score,
        name_matches=name_matches,
        number_matches=number_matches,
        representative_matches=representative_matches,
        status=record.status,
        reasons=tuple(reasons),
    )


def best_registry_match(
    subject: RegistrySubject, records: Iterable[RegistryRecord]
) -> RegistryComparison | None:
    """Return the comparison with the record that fits the subject best.

    A matching registration number ranks first, then the name score.
    """
    comparisons = [compare_registry_record(subject, record) for record in records]
    if not comparisons:
        return None
    return max(
        comparisons,
        key=lambda item: (item.number_matches is True, item.name_score),
    )
