"""Verification jobs: submit one or many, and read a job's state and trail."""

import uuid
from functools import lru_cache
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from psycopg import AsyncConnection

from api.catalog_events import new_event, publish_all
from api.deps import ServicesDep, TenantDep
from api.verification_models import (
    JOB_ID_PATTERN,
    CheckResultPublic,
    VerificationAccepted,
    VerificationBatchAccepted,
    VerificationBatchCreate,
    VerificationCreate,
    VerificationPublic,
)
from connectors.verification.errors import UrlRejectedError
from connectors.verification.settings import VerificationSettings
from connectors.verification.url_guard import UrlGuard
from connectors.verification_queue import enqueue_job
from connectors.verification_tables import (
    fetch_job,
    find_job_by_key,
    record_verification_event,
)
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.verification import VerificationRequestedV1
from tidings.ids import derived_event_id, verification_job_id

router = APIRouter(prefix="/v1/verifications", tags=["verifications"])
log = structlog.get_logger(__name__)

JobIdPath = Annotated[
    str, Path(pattern=JOB_ID_PATTERN, description="A verification job id.")
]
MAX_KEY_LENGTH = 200


@lru_cache(maxsize=1)
def verification_settings() -> VerificationSettings:
    return VerificationSettings()


@lru_cache(maxsize=1)
def url_guard() -> UrlGuard:
    return UrlGuard(allow_networks=verification_settings().url_allow_networks)


async def _check_urls(body: VerificationCreate, position: str = "") -> None:
    """Reject callback and website URLs that point inside the network."""
    for field, url in (
        ("callback_url", body.callback_url),
        ("subject.website", body.subject.website),
    ):
        if not url:
            continue
        try:
            await url_guard().check(url)
        except UrlRejectedError as exc:
            raise HTTPException(
                422,
                detail=f"{position}{field} {url!r} is not allowed ({exc.reason}): "
                f"{exc.detail}",
            ) from exc


def _check_key(key: str | None) -> None:
    if key is None:
        return
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise HTTPException(
            422,
            detail=f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable "
            "characters, such as a UUID",
        )


def _requested_event(
    tenant_id: str,
    job_id: str,
    body: VerificationCreate,
    key: str | None,
    traceparent: str | None,
) -> CloudEvent:
    payload = VerificationRequestedV1(
        job_id=job_id,
        subject=body.subject,
        checks=body.checks,
        priority=body.priority,
        callback_url=body.callback_url,
        body_sha256=body.body_sha256(),
    )
    return new_event(
        topics.VERIFICATION_REQUESTED,
        tenant_id,
        job_id,
        payload,
        derived_event_id(tenant_id, job_id, "requested"),
        key,
        traceparent,
    )


def _accepted(
    request: Request, job_id: str, job_status: str, duplicate: bool, code: int
) -> JSONResponse:
    body = VerificationAccepted(
        job_id=job_id,
        status=job_status,
        duplicate=duplicate,
        status_url=str(request.url_for("read_verification", job_id=job_id)),
    )
    return JSONResponse(body.model_dump(), status_code=code)


async def _publish_and_record(
    services: ServicesDep, conn: AsyncConnection, events: list[CloudEvent]
) -> None:
    """Publish requested events, then write their job rows and queue them.

    The state and intake stages do the same from the events. Doing it here
    too lets the caller read a job as soon as it has the response, and lets
    runners start it however far those stages lag behind a backlog.
    """
    await publish_all(
        services.producer,
        events[0].tenantid,
        [(topics.VERIFICATION_REQUESTED, event.subject, event) for event in events],
    )
    for event in events:
        await record_verification_event(conn, event)
        await enqueue_job(conn, event)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=VerificationAccepted,
    responses={200: {"model": VerificationAccepted}},
)
async def create_verification(
    request: Request,
    body: VerificationCreate,
    services: ServicesDep,
    tenant: TenantDep,
    idempotency_key: Annotated[str | None, Header()] = None,
    traceparent: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Queue a verification job; 202 with its id once Kafka has the request.

    With an `Idempotency-Key`, the same key and the same body return the same
    job (200), and the same key with another body is rejected (422).
    """
    _check_key(idempotency_key)
    await _check_urls(body)
    tenant_id = tenant.tenant_id
    job_id = verification_job_id(tenant_id, idempotency_key or uuid.uuid4().hex)
    event = _requested_event(tenant_id, job_id, body, idempotency_key, traceparent)

    async with services.pool.connection() as conn, conn.transaction():
        if idempotency_key is not None:
            # Requests with one key wait here for each other, so two
            # concurrent identical requests publish one job.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"verification\x1f{tenant_id}\x1f{idempotency_key}",),
            )
            existing = await find_job_by_key(conn, tenant_id, idempotency_key)
            if existing is not None:
                return _existing(request, existing, body, idempotency_key)
        await _publish_and_record(services, conn, [event])

    log.info(
        "verification_accepted",
        tenant_id=tenant_id,
        job_id=job_id,
        priority=body.priority,
        trace_id=event.trace_id,
    )
    return _accepted(request, job_id, "queued", False, status.HTTP_202_ACCEPTED)


def _existing(
    request: Request, existing: dict[str, Any], body: VerificationCreate, key: str
) -> JSONResponse:
    if existing["body_sha256"] != body.body_sha256():
        raise HTTPException(
            422,
            detail=f"Idempotency-Key {key!r} was already used for job "
            f"{existing['job_id']} with a different request body; send the same "
            "body to get that job, or use a new key for a new job",
        )
    return _accepted(
        request, existing["job_id"], existing["status"], True, status.HTTP_200_OK
    )


@router.post(
    "/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=VerificationBatchAccepted,
)
async def create_verifications(
    body: VerificationBatchCreate,
    services: ServicesDep,
    tenant: TenantDep,
    traceparent: Annotated[str | None, Header()] = None,
) -> VerificationBatchAccepted:
    """Queue many jobs at once; 202 with their ids, in request order, once Kafka
    has every request. Batch jobs take no idempotency key."""
    limit = verification_settings().batch_max_jobs
    if len(body.jobs) > limit:
        raise HTTPException(
            413,
            detail=f"The request contains {len(body.jobs)} jobs, more than the limit "
            f"of {limit} (setting TIDINGS_VERIFY_BATCH_MAX_JOBS); split it",
        )
    for position, job in enumerate(body.jobs):
        await _check_urls(job, f"jobs[{position}].")

    tenant_id = tenant.tenant_id
    events = [
        _requested_event(
            tenant_id,
            verification_job_id(tenant_id, uuid.uuid4().hex),
            job,
            None,
            traceparent,
        )
        for job in body.jobs
    ]
    async with services.pool.connection() as conn:
        await _publish_and_record(services, conn, events)
    log.info("verification_batch_accepted", tenant_id=tenant_id, jobs=len(events))
    return VerificationBatchAccepted(job_ids=[event.subject for event in events])


@router.get("/{job_id}", response_model=VerificationPublic, name="read_verification")
async def read_verification(
    job_id: JobIdPath, services: ServicesDep, tenant: TenantDep
) -> VerificationPublic:
    """A job's status and verdict, each check's result, and the job's event
    trail (requests, checks, completion, callback attempts), oldest first."""
    async with services.pool.connection() as conn:
        job = await fetch_job(conn, tenant.tenant_id, job_id)
    if job is None:
        raise HTTPException(404, detail=f"Verification job {job_id} not found")
    checks = [
        CheckResultPublic(check=row.pop("check_name"), **row)
        for row in job.pop("check_results")
    ]
    job["reasons"] = job["reasons"] or []
    job["evidence"] = job["evidence"] or []
    return VerificationPublic(**job, check_results=checks)
