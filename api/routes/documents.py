"""Document upload, status and retry."""

import hashlib
from pathlib import PurePath
from typing import Annotated, Any

import structlog
from fastapi import (
    APIRouter,
    File,
    Form,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi.responses import JSONResponse
from psycopg import AsyncConnection

from api.deps import ServicesDep, TenantDep
from api.models import DocumentAccepted, DocumentList, DocumentPublic
from connectors.document_tables import (
    FINAL_STATUSES,
    claim_retry,
    fetch_document,
    list_documents,
    lock_document,
    record_document_event,
)
from connectors.kafka_producer import KafkaUnavailableError
from connectors.pdf import PdfError, sniff_pdf
from connectors.secrets import encrypt_secret
from schemas import topics
from schemas.envelope import CloudEvent, child_traceparent
from schemas.events import DocumentUploadedV1
from tidings.ids import derived_event_id, document_id

router = APIRouter(prefix="/v1/documents", tags=["documents"])
log = structlog.get_logger(__name__)

DocumentIdPath = Annotated[
    str, Path(pattern=r"^doc_[0-9a-f]{24}$", description="A document id.")
]

READ_BLOCK = 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024


def _public(row: dict[str, Any]) -> DocumentPublic:
    return DocumentPublic(**row, updated_at=row["status_time"])


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        detail=f"File is larger than the limit of {limit} bytes "
        "(setting TIDINGS_MAX_UPLOAD_BYTES); split it or raise the limit",
    )


async def _read_upload(upload: UploadFile, limit: int) -> bytes:
    blocks = []
    size = 0
    while block := await upload.read(READ_BLOCK):
        size += len(block)
        if size > limit:
            raise _too_large(limit)
        blocks.append(block)
    return b"".join(blocks)


def _clean_filename(name: str | None) -> str:
    # Control characters (NUL among them) cannot be stored in Postgres text.
    printable = "".join(ch for ch in (name or "") if ch.isprintable())
    base = PurePath(printable.replace("\\", "/")).name.strip()
    return base[:255] or "upload.pdf"


async def _publish_upload(
    services: ServicesDep,
    conn: AsyncConnection,
    tenant_id: str,
    payload: DocumentUploadedV1,
    request_id: str | None,
    traceparent: str | None,
) -> CloudEvent:
    event = CloudEvent(
        id=derived_event_id(
            tenant_id, payload.document_id, payload.attempt, "uploaded"
        ),
        type=topics.DOCUMENT_UPLOADED.event_type,
        source="tidings/api",
        subject=payload.document_id,
        tenantid=tenant_id,
        requestid=request_id,
        traceparent=child_traceparent(traceparent),
        data=payload.model_dump(mode="json"),
    )
    try:
        await services.producer.publish(
            topics.DOCUMENT_UPLOADED, payload.document_id, event
        )
    except KafkaUnavailableError as exc:
        log.error("upload_not_accepted", tenant_id=tenant_id, error=str(exc))
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="Kafka is unavailable, so the document was not accepted; "
            "retry the same upload later",
            headers={"Retry-After": "5"},
        ) from exc

    # The status stage writes the same row from the event. Writing it here
    # too lets the caller read the document as soon as it gets the response.
    await record_document_event(conn, event)
    log.info(
        "document_accepted",
        tenant_id=tenant_id,
        document_id=payload.document_id,
        attempt=payload.attempt,
        trace_id=event.trace_id,
    )
    return event


async def _claim_retry(
    conn: AsyncConnection, tenant_id: str, existing: dict[str, Any]
) -> int:
    claimed = await claim_retry(
        conn, tenant_id, existing["document_id"], existing["attempt"]
    )
    if not claimed:
        raise HTTPException(
            409,
            detail=f"Document {existing['document_id']} is already being retried; "
            "wait for its final state, then retry again if needed",
        )
    return int(existing["attempt"]) + 1


async def _store_upload(
    services: ServicesDep,
    tenant_id: str,
    doc_id: str,
    file: UploadFile,
    data: bytes,
    sha256: str,
    attempt: int,
    password: str | None,
) -> DocumentUploadedV1:
    """Write the file to the object store and describe it for the event."""
    object_key = f"tenants/{tenant_id}/documents/{doc_id}/source.pdf"
    object_uri = await services.store.put(object_key, data)
    return DocumentUploadedV1(
        document_id=doc_id,
        filename=_clean_filename(file.filename),
        content_type=file.content_type or "application/pdf",
        size_bytes=len(data),
        sha256=sha256,
        object_uri=object_uri,
        attempt=attempt,
        encrypted_password=encrypt_secret(services.fernet, password)
        if password
        else None,
    )


def _accepted(
    request: Request,
    document: str,
    attempt: int,
    duplicate: bool,
    state: str,
    code: int,
) -> JSONResponse:
    body = DocumentAccepted(
        document_id=document,
        status=state,
        attempt=attempt,
        duplicate=duplicate,
        status_url=str(request.url_for("read_document", document_id=document)),
    )
    return JSONResponse(body.model_dump(), status_code=code)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentAccepted,
    responses={200: {"description": "The same file was uploaded before"}},
)
async def create_document(
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    file: Annotated[UploadFile, File(description="The PDF file.")],
    password: Annotated[
        str | None, Form(description="Password of an encrypted PDF.")
    ] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    traceparent: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Upload a PDF. Returns 202 once the upload event is durable in Kafka.

    Uploading the same bytes again returns the existing document with 200,
    unless that document failed and a password is given, which retries it.
    """
    limit = services.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise _too_large(limit)

    data = await _read_upload(file, limit)
    try:
        sniff_pdf(data)
    except PdfError as exc:
        code = 422 if exc.reason == "empty" else status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
        raise HTTPException(code, detail=exc.detail) from exc

    tenant_id = tenant.tenant_id
    sha256 = hashlib.sha256(data).hexdigest()
    doc_id = document_id(tenant_id, sha256)
    # The lookup, the retry claim and the publish share one transaction.
    # Concurrent uploads of the same bytes wait for each other at the lock,
    # and a failed publish rolls back a claimed retry.
    async with services.pool.connection() as conn, conn.transaction():
        await lock_document(conn, tenant_id, doc_id)
        existing = await fetch_document(conn, tenant_id, doc_id)

        attempt = 1
        if existing is not None:
            failed = existing["status"] in ("failed", "no_text")
            if password is None or not failed:
                return _accepted(
                    request,
                    doc_id,
                    existing["attempt"],
                    True,
                    existing["status"],
                    status.HTTP_200_OK,
                )
            attempt = await _claim_retry(conn, tenant_id, existing)

        payload = await _store_upload(
            services, tenant_id, doc_id, file, data, sha256, attempt, password
        )
        await _publish_upload(
            services, conn, tenant_id, payload, idempotency_key, traceparent
        )
    return _accepted(
        request,
        doc_id,
        attempt,
        existing is not None,
        "uploaded",
        status.HTTP_202_ACCEPTED,
    )


@router.post("/{document_id}/retry", status_code=202, response_model=DocumentAccepted)
async def retry_document(
    request: Request,
    document_id: DocumentIdPath,
    services: ServicesDep,
    tenant: TenantDep,
    password: Annotated[
        str | None, Form(description="Password of an encrypted PDF.")
    ] = None,
    traceparent: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Process a document that ended `failed` or `no_text` again, for example
    with the password of an encrypted PDF."""
    tenant_id = tenant.tenant_id
    async with services.pool.connection() as conn, conn.transaction():
        await lock_document(conn, tenant_id, document_id)
        existing = await fetch_document(conn, tenant_id, document_id)
        if existing is None:
            raise HTTPException(404, detail=f"Document {document_id} not found")
        if existing["status"] not in FINAL_STATUSES - {"indexed"}:
            raise HTTPException(
                409,
                detail=f"Document {document_id} is {existing['status']}; only a "
                "failed or no_text document can be retried",
            )

        attempt = await _claim_retry(conn, tenant_id, existing)
        payload = DocumentUploadedV1(
            document_id=document_id,
            filename=existing["filename"],
            content_type=existing["content_type"],
            size_bytes=existing["size_bytes"],
            sha256=existing["sha256"],
            object_uri=existing["object_uri"],
            attempt=attempt,
            encrypted_password=encrypt_secret(services.fernet, password)
            if password
            else None,
        )
        await _publish_upload(services, conn, tenant_id, payload, None, traceparent)
    return _accepted(request, document_id, attempt, True, "uploaded", 202)


@router.get("/{document_id}", response_model=DocumentPublic, name="read_document")
async def read_document(
    document_id: DocumentIdPath, services: ServicesDep, tenant: TenantDep
) -> DocumentPublic:
    """Status of one document and its event trail, oldest first."""
    async with services.pool.connection() as conn:
        row = await fetch_document(conn, tenant.tenant_id, document_id)
    if row is None:
        raise HTTPException(404, detail=f"Document {document_id} not found")
    return _public(row)


@router.get("", response_model=DocumentList)
async def read_documents(
    services: ServicesDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DocumentList:
    """List the caller's documents, newest first."""
    async with services.pool.connection() as conn:
        rows = await list_documents(conn, tenant.tenant_id, limit, offset)
    return DocumentList(
        documents=[_public(row) for row in rows], limit=limit, offset=offset
    )
