"""Parse stage: document.uploaded -> page text in the object store -> document.parsed.

A document that cannot be parsed, or whose text is missing or garbled, ends
with document.failed (outcome `failed` or `no_text`) and a readable reason.
"""

import json

import structlog

from connectors.objectstore import ObjectStoreError
from connectors.pdf import ExtractedPdf, PdfError
from connectors.secrets import SecretKeyError, decrypt_secret
from connectors.text_quality import assess_text
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.events import DocumentFailedV1, DocumentParsedV1, DocumentUploadedV1
from streams.emit import emit
from streams.runtime import Runtime

log = structlog.get_logger(__name__)


def text_key(tenant_id: str, document_id: str, attempt: int) -> str:
    return f"tenants/{tenant_id}/documents/{document_id}/text-{attempt}.json"


async def _fail(
    runtime: Runtime,
    event: CloudEvent,
    uploaded: DocumentUploadedV1,
    outcome: str,
    reason: str,
    detail: str,
) -> None:
    payload = DocumentFailedV1(
        document_id=uploaded.document_id,
        attempt=uploaded.attempt,
        outcome=outcome,  # type: ignore[arg-type]
        stage="parse",
        reason=reason,
        detail=detail,
    )
    await emit(runtime, topics.DOCUMENT_FAILED, event, payload, uploaded.document_id)
    log.info(
        "document_not_indexed",
        tenant_id=event.tenantid,
        document_id=uploaded.document_id,
        outcome=outcome,
        reason=reason,
        trace_id=event.trace_id,
    )


async def _extract(runtime: Runtime, uploaded: DocumentUploadedV1) -> ExtractedPdf:
    assert runtime.store is not None and runtime.extractor is not None
    password = None
    if uploaded.encrypted_password:
        assert runtime.fernet is not None
        password = decrypt_secret(runtime.fernet, uploaded.encrypted_password)

    data = await runtime.store.get(uploaded.object_uri)
    return await runtime.extractor.extract(data, password)


async def handle_uploaded(event: CloudEvent, runtime: Runtime) -> None:
    uploaded = DocumentUploadedV1.model_validate(event.data)

    try:
        extracted = await _extract(runtime, uploaded)
    except PdfError as exc:
        await _fail(runtime, event, uploaded, "failed", exc.reason, exc.detail)
        return
    except ObjectStoreError as exc:
        await _fail(runtime, event, uploaded, "failed", "object_missing", str(exc))
        return
    except SecretKeyError as exc:
        await _fail(runtime, event, uploaded, "failed", "password_unreadable", str(exc))
        return

    quality = assess_text(extracted.pages)
    if not quality.usable:
        await _fail(
            runtime,
            event,
            uploaded,
            "no_text",
            quality.reason or "no_text_layer",
            quality.detail or "the PDF contains no extractable text",
        )
        return

    assert runtime.store is not None
    body = json.dumps({"pages": extracted.pages}, ensure_ascii=False).encode()
    key = text_key(event.tenantid, uploaded.document_id, uploaded.attempt)
    text_uri = await runtime.store.put(key, body)

    parsed = DocumentParsedV1(
        document_id=uploaded.document_id,
        filename=uploaded.filename,
        sha256=uploaded.sha256,
        attempt=uploaded.attempt,
        page_count=extracted.page_count,
        text_uri=text_uri,
        text_chars=sum(len(page) for page in extracted.pages),
        failed_pages=extracted.failed_pages,
    )
    await emit(runtime, topics.DOCUMENT_PARSED, event, parsed, uploaded.document_id)
    log.info(
        "document_parsed",
        tenant_id=event.tenantid,
        document_id=uploaded.document_id,
        pages=extracted.page_count,
        trace_id=event.trace_id,
    )
