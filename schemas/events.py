"""Payload models, one per event type and major version.

Payloads are plain JSON objects with no framework fields. Within a major
version a change may only add optional fields; `schemas/json/` contains the
committed JSON Schema of each model and a test compares them.
"""

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas import topics
from schemas.base import Payload
from schemas.sites import (
    SiteCrawlCompletedV1,
    SiteCrawlRequestedV1,
    SitePageFetchedV1,
    SitePageRemovedV1,
)
from schemas.verification import (
    VerificationCallbackAttemptedV1,
    VerificationCheckedV1,
    VerificationCompletedV1,
    VerificationRequestedV1,
)

FailureOutcome = Literal["failed", "no_text"]
Stage = Literal["upload", "parse", "index"]


class DocumentUploadedV1(Payload):
    """A file was stored and awaits parsing."""

    document_id: str
    filename: str
    content_type: str
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    object_uri: str = Field(description="Object store URI of the file bytes.")
    attempt: int = Field(
        default=1, ge=1, description="1 for the upload, +1 for each retry."
    )
    encrypted_password: str | None = Field(
        default=None,
        description="PDF password encrypted with the platform's secret key "
        "(Fernet token), never plaintext.",
    )


class DocumentParsedV1(Payload):
    """Page text was extracted and stored in the object store."""

    document_id: str
    filename: str
    sha256: str
    attempt: int = Field(ge=1)
    page_count: int = Field(ge=0)
    text_uri: str = Field(description="Object store URI of the page texts (JSON).")
    text_chars: int = Field(ge=0)
    failed_pages: list[int] = Field(default_factory=list)


class DocumentIndexedV1(Payload):
    """The document's chunks are searchable."""

    document_id: str
    attempt: int = Field(ge=1)
    chunk_count: int = Field(ge=0)
    page_count: int = Field(ge=0)
    embedding_model: str


class DocumentFailedV1(Payload):
    """The document ended without being indexed: `failed` or `no_text`."""

    document_id: str
    attempt: int = Field(ge=1)
    outcome: FailureOutcome
    stage: Stage
    reason: str = Field(description="Stable code such as encrypted or garbled_text.")
    detail: str = Field(description="Readable sentence: what failed, what to do.")


AttributeValue = str | int | float | bool | list[str]
InteractionKind = Literal["view", "click", "add_to_cart", "purchase"]


class ProductUpsertedV1(Payload):
    """A product was created or changed. Consumers keep the highest version."""

    product_id: str = Field(min_length=1, max_length=128)
    version: int = Field(
        ge=0,
        description="Grows with every change of the product; a lower or equal "
        "version never replaces a stored one.",
    )
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=20000)
    brand: str | None = Field(default=None, max_length=200)
    category_path: list[str] = Field(
        default_factory=list, description="Category levels, root first."
    )
    price: float | None = Field(default=None, ge=0)
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code."
    )
    stock: int | None = Field(
        default=None, ge=0, description="Units on hand; null means not tracked."
    )
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    image_url: str | None = Field(default=None, max_length=2000)


class ProductDeletedV1(Payload):
    """A product was removed. Upserts up to this version are ignored afterwards."""

    product_id: str = Field(min_length=1, max_length=128)
    version: int = Field(ge=0)


class InteractionRecordedV1(Payload):
    """A shopper interacted with a product within a session."""

    kind: InteractionKind
    session_id: str = Field(min_length=1, max_length=128)
    user_id: str | None = Field(default=None, max_length=128)
    product_id: str = Field(min_length=1, max_length=128)
    occurred_at: datetime


PAYLOADS: dict[str, type[Payload]] = {
    topics.DOCUMENT_UPLOADED.event_type: DocumentUploadedV1,
    topics.DOCUMENT_PARSED.event_type: DocumentParsedV1,
    topics.DOCUMENT_INDEXED.event_type: DocumentIndexedV1,
    topics.DOCUMENT_FAILED.event_type: DocumentFailedV1,
    topics.CATALOG_PRODUCT_UPSERTED.event_type: ProductUpsertedV1,
    topics.CATALOG_PRODUCT_DELETED.event_type: ProductDeletedV1,
    topics.INTERACTION_RECORDED.event_type: InteractionRecordedV1,
    topics.VERIFICATION_REQUESTED.event_type: VerificationRequestedV1,
    topics.VERIFICATION_CHECKED.event_type: VerificationCheckedV1,
    topics.VERIFICATION_COMPLETED.event_type: VerificationCompletedV1,
    topics.VERIFICATION_CALLBACK_ATTEMPTED.event_type: VerificationCallbackAttemptedV1,
    topics.SITE_CRAWL_REQUESTED.event_type: SiteCrawlRequestedV1,
    topics.SITE_PAGE_FETCHED.event_type: SitePageFetchedV1,
    topics.SITE_PAGE_REMOVED.event_type: SitePageRemovedV1,
    topics.SITE_CRAWL_COMPLETED.event_type: SiteCrawlCompletedV1,
}
