"""Payload models, one per event type and major version.

Payloads are plain JSON objects with no framework fields. Within a major
version a change may only add optional fields; `schemas/json/` holds the
committed JSON Schema of each model and a test compares them.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas import topics

FailureOutcome = Literal["failed", "no_text"]
Stage = Literal["upload", "parse", "index"]


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


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


PAYLOADS: dict[str, type[Payload]] = {
    topics.DOCUMENT_UPLOADED.event_type: DocumentUploadedV1,
    topics.DOCUMENT_PARSED.event_type: DocumentParsedV1,
    topics.DOCUMENT_INDEXED.event_type: DocumentIndexedV1,
    topics.DOCUMENT_FAILED.event_type: DocumentFailedV1,
}
