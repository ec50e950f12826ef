"""Hand a PDF linked from a crawled site to the PDF pipeline.

The PDF becomes a document upload of the crawl's tenant, with the same
document id and event id an upload of the same bytes through the API gets,
so a PDF that is both uploaded and linked is processed once.
"""

from pathlib import Path

from connectors.document_tables import fetch_document, record_document_event
from schemas import topics
from schemas.envelope import CloudEvent, child_traceparent
from schemas.events import DocumentUploadedV1
from streams.runtime import Runtime
from tidings.ids import derived_event_id, document_id


async def hand_over_pdf(
    runtime: Runtime, cause: CloudEvent, path: Path, sha256: str, filename: str
) -> bool:
    """Publish `document.uploaded` for the PDF at `path` unless the tenant
    has that document already; return whether it was published."""
    assert runtime.store is not None and runtime.pool is not None
    assert runtime.producer is not None
    tenant_id = cause.tenantid
    doc_id = document_id(tenant_id, sha256)
    async with runtime.pool.connection() as conn:
        if await fetch_document(conn, tenant_id, doc_id) is not None:
            return False

    data = path.read_bytes()
    object_key = f"tenants/{tenant_id}/documents/{doc_id}/source.pdf"
    object_uri = await runtime.store.put(object_key, data)
    payload = DocumentUploadedV1(
        document_id=doc_id,
        filename=filename[:255],
        content_type="application/pdf",
        size_bytes=len(data),
        sha256=sha256,
        object_uri=object_uri,
        attempt=1,
    )
    event = CloudEvent(
        id=derived_event_id(tenant_id, doc_id, 1, "uploaded"),
        type=topics.DOCUMENT_UPLOADED.event_type,
        source=f"tidings/worker/{runtime.settings.worker_id}",
        subject=doc_id,
        tenantid=tenant_id,
        requestid=None,
        traceparent=child_traceparent(cause.traceparent),
        data=payload.model_dump(mode="json"),
    )
    await runtime.producer.publish(topics.DOCUMENT_UPLOADED, doc_id, event)
    async with runtime.pool.connection() as conn:
        await record_document_event(conn, event)
    return True
