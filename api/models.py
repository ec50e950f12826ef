"""Request and response models of the HTTP API."""

from datetime import datetime

from pydantic import BaseModel, Field


class DocumentEventPublic(BaseModel):
    event_id: str
    event_type: str
    status: str
    attempt: int
    reason: str | None
    detail: str | None
    time: datetime


class DocumentPublic(BaseModel):
    document_id: str
    filename: str | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    status: str
    reason: str | None
    detail: str | None
    attempt: int
    page_count: int | None
    chunk_count: int | None
    created_at: datetime
    updated_at: datetime
    events: list[DocumentEventPublic] = []


class DocumentAccepted(BaseModel):
    document_id: str
    status: str
    attempt: int
    duplicate: bool
    status_url: str


class DocumentList(BaseModel):
    documents: list[DocumentPublic]
    limit: int
    offset: int


class DocumentHit(BaseModel):
    document_id: str
    filename: str | None
    page: int
    chunk_index: int
    snippet: str
    score: float
    matched_by: list[str]
    url: str | None = Field(
        default=None, description="Source URL when the hit is a crawled web page."
    )
    title: str | None = Field(
        default=None, description="Page title when the hit is a crawled web page."
    )


class DocumentSearchResults(BaseModel):
    query: str
    hits: list[DocumentHit]
