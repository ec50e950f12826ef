"""Verification intake and runners.

The intake stage copies each `verification.requested` event into the
Postgres work queue (see `connectors.verification_queue` for the fair
order). Runner tasks claim jobs, run the requested checks concurrently,
publish one `verification.checked` per check as it ends, then one
`verification.completed` with the verdict, and only then mark the job
finished. Event ids derive from the requested event's id (and the check
name), so a job that runs again after its worker died publishes the same ids.
"""

import asyncio
import time
from datetime import UTC, datetime

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool

from connectors.kafka_producer import KafkaUnavailableError
from connectors.postgres import open_pool
from connectors.verification.resilience import CallContext
from connectors.verification_queue import (
    QUEUE_CHANNEL,
    ClaimedJob,
    claim_job,
    enqueue_job,
    event_from_json,
    extend_lease,
    finish_job,
)
from connectors.verification_tables import record_verification_event
from schemas import topics
from schemas.envelope import CloudEvent
from schemas.verification import (
    CheckName,
    Reason,
    VerificationCheckedV1,
    VerificationCompletedV1,
    VerificationRequestedV1,
)
from streams.emit import emit
from streams.runtime import Runtime
from streams.stage import backoff_delay
from streams.verdict import decide_verdict
from streams.verification_checks import (
    CHECKS,
    CheckOutcome,
    to_checked_event,
    unavailable,
)
from streams.verification_toolkit import Toolkit

log = structlog.get_logger(__name__)

# Errors of an outage: the runner backs off, and the job runs again later.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    KafkaUnavailableError,
    OSError,
)


async def handle_requested(
    event: CloudEvent, runtime: Runtime, wake: asyncio.Event
) -> None:
    """Queue a requested job once; a duplicate event changes nothing."""
    assert runtime.pool is not None
    request = VerificationRequestedV1.model_validate(event.data)
    async with runtime.pool.connection() as conn:
        added = await enqueue_job(conn, event)
    if added:
        wake.set()
    log.debug(
        "verification_queued",
        tenant_id=event.tenantid,
        job_id=request.job_id,
        priority=request.priority,
        duplicate=not added,
    )


class JobRunner:
    """Runs claimed jobs: checks through the toolkit, events through the producer."""

    def __init__(
        self, runtime: Runtime, toolkit: Toolkit, pool: AsyncConnectionPool
    ) -> None:
        self.runtime = runtime
        self.toolkit = toolkit
        self.settings = toolkit.settings
        self.pool = pool

    async def run(self, job: ClaimedJob) -> None:
        """Run one job to its completion event and mark it finished."""
        cause = event_from_json(job.request)
        request = VerificationRequestedV1.model_validate(cause.data)
        bound = log.bind(
            tenant_id=job.tenant_id,
            job_id=job.job_id,
            trace_id=cause.trace_id,
            priority=job.priority,
            run=job.runs,
        )
        bound.debug("verification_started")
        deadline = time.monotonic() + self.settings.job_deadline_seconds
        context = CallContext(
            tenant_id=job.tenant_id,
            job_id=job.job_id,
            lane="realtime" if request.priority == "realtime" else "batch",
            deadline=deadline,
        )
        earlier = await self._earlier_results(job) if job.runs > 1 else {}
        requested_checks = list(dict.fromkeys(request.checks))
        results = await asyncio.gather(
            *(
                self._check(cause, request, check, context, earlier)
                for check in requested_checks
            )
        )

        verdict = decide_verdict(results)
        completed = VerificationCompletedV1(
            job_id=job.job_id,
            verdict=verdict.verdict,
            score=verdict.score,
            checks={result.check: result.status for result in results},
            reasons=verdict.reasons,
            evidence=verdict.evidence,
            callback_url=request.callback_url,
            requested_at=cause.time,
            completed_at=datetime.now(UTC),
        )
        await self._complete(cause, completed)
        bound.info(
            "verification_completed",
            verdict=verdict.verdict,
            reasons=[reason.code for reason in verdict.reasons],
        )

    async def _complete(
        self, cause: CloudEvent, completed: VerificationCompletedV1
    ) -> None:
        """Publish the completion, then take the job off the queue."""
        event = await emit(
            self.runtime,
            topics.VERIFICATION_COMPLETED,
            cause,
            completed,
            completed.job_id,
        )
        async with self.pool.connection() as conn:
            await record_verification_event(conn, event)
            await finish_job(conn, completed.job_id)

    async def give_up(self, job: ClaimedJob, error: BaseException) -> None:
        """Complete a job that cannot run as incomplete, naming the error."""
        cause = event_from_json(job.request)
        completed = VerificationCompletedV1(
            job_id=job.job_id,
            verdict="incomplete",
            score=0.0,
            checks={},
            reasons=[
                Reason(
                    code="internal_error",
                    detail=f"the job could not run ({type(error).__name__}: "
                    f"{str(error)[:300]}); submit it again or report the error",
                )
            ],
            callback_url=cause.data.get("callback_url"),
            requested_at=cause.time,
            completed_at=datetime.now(UTC),
        )
        await self._complete(cause, completed)

    async def _check(
        self,
        cause: CloudEvent,
        request: VerificationRequestedV1,
        check: CheckName,
        context: CallContext,
        earlier: dict[str, VerificationCheckedV1],
    ) -> VerificationCheckedV1:
        if check in earlier:
            return earlier[check]

        started = time.monotonic()
        assert context.deadline is not None
        budget = max(0.0, context.deadline - started)
        try:
            async with asyncio.timeout(budget):
                outcome = await CHECKS[check](self.toolkit, request.subject, context)
        except TimeoutError:
            outcome = self._deadline_outcome(check)
        result = to_checked_event(request.job_id, check, outcome, started)
        event = await emit(
            self.runtime,
            topics.VERIFICATION_CHECKED,
            cause,
            result,
            request.job_id,
            id_parts=(check,),
        )
        await self._record(event)
        return result

    async def _record(self, event: CloudEvent) -> None:
        # The state stage writes the same rows from the event later. Writing
        # them here too shows the result to readers at once, however far the
        # state stage lags behind a large backlog.
        async with self.pool.connection() as conn:
            await record_verification_event(conn, event)

    def _deadline_outcome(self, check: CheckName) -> CheckOutcome:
        seconds = self.settings.job_deadline_seconds
        return unavailable(
            check,
            "builtin" if check in ("website", "sanctions") else "provider",
            "deadline_exceeded",
            f"the check did not end within the job's {seconds:g} s budget "
            f"(setting TIDINGS_VERIFY_JOB_DEADLINE_SECONDS)",
        )

    async def _earlier_results(
        self, job: ClaimedJob
    ) -> dict[str, VerificationCheckedV1]:
        """Return the checks an earlier run of the job already published.

        A rerun reuses them, so each check of a job has one result even when
        the first run's worker died between checks.
        """
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT check_name, status, provider, score, reasons, evidence, "
                " details, attempts, duration_ms FROM verification_checks "
                "WHERE tenant_id = %s AND job_id = %s",
                (job.tenant_id, job.job_id),
            )
            rows = await cursor.fetchall()
        return {
            row[0]: VerificationCheckedV1(
                job_id=job.job_id,
                check=row[0],
                status=row[1],
                provider=row[2],
                score=row[3],
                reasons=[Reason.model_validate(item) for item in row[4]],
                evidence=row[5],
                details=row[6],
                attempts=row[7],
                duration_ms=row[8],
            )
            for row in rows
        }


class RunnerPool:
    """N runner tasks in one worker that claim jobs from the shared queue."""

    runner: JobRunner  # set by `serve`, which opens the runners' connection pool

    def __init__(self, runtime: Runtime, toolkit: Toolkit, owner: str) -> None:
        self.runtime = runtime
        self.toolkit = toolkit
        self.settings = toolkit.settings
        self.owner = owner
        self.wake = asyncio.Event()

    @property
    def pool(self) -> AsyncConnectionPool:
        return self.runner.pool

    async def serve(self) -> None:
        """Run the runner tasks until cancelled."""
        await self.runtime.open()
        # The runners get a pool of their own, one connection per runner plus
        # the lease keepers' share, so they do not queue behind the stages
        # for the worker's small shared pool.
        pool = await open_pool(
            self.runtime.settings.resolved_database_url(),
            max_size=self.settings.runners + 2,
        )
        self.runner = JobRunner(self.runtime, self.toolkit, pool)
        tasks = [
            asyncio.create_task(self._loop(number), name=f"verify-runner-{number}")
            for number in range(self.settings.runners)
        ]
        tasks.append(asyncio.create_task(self._listen(), name="verify-listen"))
        log.info("verification_runners_started", runners=len(tasks), owner=self.owner)
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await pool.close()

    async def _loop(self, number: int) -> None:
        failures = 0
        while True:
            try:
                job = await self._claim()
                if job is None:
                    await self._idle()
                    continue
                await self._run_guarded(job)
                failures = 0
            except OUTAGE_ERRORS as exc:
                # The job keeps its lease until it expires, then runs again.
                failures += 1
                delay = backoff_delay(failures)
                log.warning(
                    "verification_runner_retry",
                    runner=number,
                    error=str(exc),
                    delay_seconds=round(delay, 2),
                )
                await asyncio.sleep(delay)

    async def _listen(self) -> None:
        """Wake idle runners when a job is queued anywhere; poll if this fails."""
        url = self.runtime.settings.resolved_database_url()
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {QUEUE_CHANNEL}")
                    async for _ in conn.notifies():
                        self.wake.set()
            except psycopg.OperationalError as exc:
                log.warning("verification_listen_failed", error=str(exc))
                await asyncio.sleep(self.settings.queue_poll_seconds * 10)

    async def _claim(self) -> ClaimedJob | None:
        async with self.pool.connection() as conn:
            return await claim_job(
                conn,
                self.owner,
                lease_seconds=self.settings.job_lease_seconds,
                tenant_cap=self.settings.tenant_max_concurrent_jobs,
            )

    async def _idle(self) -> None:
        self.wake.clear()
        try:
            async with asyncio.timeout(self.settings.queue_poll_seconds):
                await self.wake.wait()
        except TimeoutError:
            pass

    async def _run_guarded(self, job: ClaimedJob) -> None:
        keeper = asyncio.create_task(self._keep_lease(job))
        try:
            await self.runner.run(job)
        except OUTAGE_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 (any other error ends the job)
            # A job that cannot run (an invalid stored request, or a bug) ends as
            # incomplete instead of running again at every lease expiry.
            log.error(
                "verification_job_failed",
                tenant_id=job.tenant_id,
                job_id=job.job_id,
                error=f"{type(exc).__name__}: {exc}",
            )
            await self.runner.give_up(job, exc)
        finally:
            keeper.cancel()

    async def _keep_lease(self, job: ClaimedJob) -> None:
        interval = self.settings.job_lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.pool.connection() as conn:
                    renewed = await extend_lease(
                        conn, job.job_id, self.owner, self.settings.job_lease_seconds
                    )
            except psycopg.OperationalError as exc:
                log.warning(
                    "verification_lease_not_extended", job_id=job.job_id, error=str(exc)
                )
                continue
            if not renewed:
                log.warning("verification_lease_lost", job_id=job.job_id)
                return
