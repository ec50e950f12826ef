"""Deterministic ids, so that replays and retries land on the same rows."""

import hashlib
import uuid

_NAMESPACE = uuid.UUID("5b7e2f4c-3a6d-4c1e-9f0b-7d2a8e6c1b3f")


def document_id(tenant_id: str, sha256: str) -> str:
    """Same tenant and same bytes give the same document; tenants never share."""
    digest = hashlib.sha256(f"{tenant_id}:{sha256}".encode()).hexdigest()
    return "doc_" + digest[:24]


def derived_event_id(*parts: object) -> str:
    """Id of an event caused by another: the same cause gives the same id."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(part) for part in parts)))


def chunk_id(document_id: str, chunk_index: int) -> str:
    return f"{document_id}:{chunk_index:05d}"


def site_id(tenant_id: str, start_url: str) -> str:
    """Crawls of the same tenant and canonical start URL are one site."""
    digest = hashlib.sha256(f"{tenant_id}:site:{start_url}".encode()).hexdigest()
    return "site_" + digest[:24]


def page_document_id(tenant_id: str, url: str) -> str:
    """Return the document id of a crawled page, derived from its canonical
    URL, so a re-crawl updates the same document."""
    digest = hashlib.sha256(f"{tenant_id}:page:{url}".encode()).hexdigest()
    return "doc_" + digest[:24]


def verification_job_id(tenant_id: str, idempotency_key: str) -> str:
    """Same tenant and same idempotency key give the same job."""
    digest = hashlib.sha256(f"{tenant_id}\x1f{idempotency_key}".encode()).hexdigest()
    return "vjob_" + digest[:24]
