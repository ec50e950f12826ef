"""Typed records built from the fields that a provider's response mapping extracts."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

RegistryStatus = Literal["active", "revoked", "dissolved", "unknown"]

# Status words of company registries, folded to lower case, by meaning.
# 吊销 means a revoked business licence, and 注销 a deregistered company.
_STATUS_WORDS: dict[str, RegistryStatus] = {
    "active": "active",
    "live": "active",
    "registered": "active",
    "in business": "active",
    "存续": "active",
    "在业": "active",
    "开业": "active",
    "正常": "active",
    "revoked": "revoked",
    "struck off": "revoked",
    "suspended": "revoked",
    "吊销": "revoked",
    "吊销未注销": "revoked",
    "dissolved": "dissolved",
    "closed": "dissolved",
    "liquidated": "dissolved",
    "deregistered": "dissolved",
    "注销": "dissolved",
    "已注销": "dissolved",
}


@dataclass(frozen=True)
class SearchResult:
    """One web search hit."""

    title: str
    url: str
    snippet: str


@dataclass(frozen=True)
class RegistryRecord:
    """One company as a registry describes it."""

    name: str
    number: str | None
    status: RegistryStatus
    raw_status: str | None
    legal_representative: str | None
    address: str | None
    country: str | None


def normalize_registry_status(value: str | None) -> RegistryStatus:
    """Map a registry's status text to active, revoked, dissolved or unknown.

    Latin words must match whole ("inactive" is not "active"). Chinese text
    such as "存续（在营、开业、在册）" or "吊销，未注销" takes the status of the
    known word that occurs first in it.
    """
    if not value:
        return "unknown"
    text = value.strip().casefold().replace("-", " ").replace("_", " ")
    if text in _STATUS_WORDS:
        return _STATUS_WORDS[text]

    found: list[tuple[int, int, RegistryStatus]] = []
    for word, status in _STATUS_WORDS.items():
        position = text.find(word)
        if position >= 0 and not word.isascii():
            found.append((position, -len(word), status))
    return min(found)[2] if found else "unknown"


def to_search_result(fields: Mapping[str, Any]) -> SearchResult:
    return SearchResult(
        title=_text(fields.get("title")) or "",
        url=_text(fields.get("url")) or "",
        snippet=_text(fields.get("snippet")) or "",
    )


def to_registry_record(fields: Mapping[str, Any]) -> RegistryRecord:
    raw_status = _text(fields.get("status"))
    return RegistryRecord(
        name=_text(fields.get("name")) or "",
        number=_text(fields.get("number")),
        status=normalize_registry_status(raw_status),
        raw_status=raw_status,
        legal_representative=_text(fields.get("legal_representative")),
        address=_text(fields.get("address")),
        country=_text(fields.get("country")),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "; ".join(str(item) for item in value if item is not None) or None
    return str(value)
