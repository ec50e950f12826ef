"""The delivery loop of webhook callbacks: send due attempts, publish each one.

Each worker runs one `CallbackDispatcher`. It leases due rows of
`webhook_deliveries`, so two workers never take the same row at once, and
makes one signed attempt per row. It publishes the attempt as a
`verification.callback-attempted` event and waits for Kafka's
acknowledgement before it writes the next due time to the row. A worker killed between
the attempt and the row update leaves the lease to expire, and the attempt
is made again with the same webhook id: receivers see at-least-once
delivery under one id.
"""

import asyncio
import random
from datetime import UTC, datetime

import psycopg
import structlog

from connectors.kafka_producer import KafkaUnavailableError
from connectors.secrets import SecretKeyError
from connectors.verification.clock import SystemClock
from connectors.verification.errors import WebhookSecretError
from connectors.verification.retry import RetryPolicy
from connectors.verification.settings import VerificationSettings
from connectors.verification.url_guard import UrlGuard
from connectors.verification.webhooks import DeliveryAttempt, WebhookSender
from connectors.webhook_deliveries import (
    DueDelivery,
    claim_due,
    next_attempt_time,
    record_attempt,
    release_lease,
)
from connectors.webhook_secrets import get_or_create_secret
from schemas import topics
from schemas.envelope import CloudEvent, child_traceparent
from schemas.verification import VerificationCallbackAttemptedV1
from streams.runtime import Runtime

log = structlog.get_logger(__name__)

PUBLISH_RETRY_MAX_SECONDS = 5.0
LOOP_ERROR_BACKOFF_SECONDS = 2.0


def build_sender(settings: VerificationSettings) -> WebhookSender:
    """Return a sender with the webhook schedule and URL guard from settings."""
    policy = RetryPolicy(
        max_attempts=settings.webhook_max_attempts,
        base_delay=settings.webhook_backoff_base_seconds,
        max_delay=settings.webhook_backoff_max_seconds,
        max_retry_after=settings.webhook_retry_after_max_seconds,
    )
    return WebhookSender(
        guard=UrlGuard(allow_networks=settings.url_allow_networks),
        policy=policy,
        clock=SystemClock(),
        timeout=settings.webhook_timeout_seconds,
    )


def outcome_of(attempt: DeliveryAttempt) -> str:
    """Return the event outcome: a failed attempt with no retry is `gave_up`."""
    if attempt.outcome == "failed" and attempt.retry_in is None:
        return "gave_up"
    return attempt.outcome


def attempted_event(
    delivery: DueDelivery, attempt: DeliveryAttempt, worker_id: str
) -> CloudEvent:
    """Return the callback-attempted event of one attempt."""
    attempted_at = datetime.fromtimestamp(attempt.timestamp, UTC)
    payload = VerificationCallbackAttemptedV1(
        job_id=delivery.job_id,
        webhook_id=delivery.webhook_id,
        attempt=attempt.attempt,
        url=delivery.url,
        outcome=outcome_of(attempt),  # type: ignore[arg-type]
        status_code=attempt.status_code,
        error=attempt.error,
        next_attempt_at=next_attempt_time(attempted_at, attempt.retry_in),
    )
    spec = topics.VERIFICATION_CALLBACK_ATTEMPTED
    # A random id: an attempt made again after a crash is a second request
    # to the receiver, so it is a second event.
    return CloudEvent(
        type=spec.event_type,
        source=f"tidings/worker/{worker_id}",
        subject=delivery.subject,
        tenantid=delivery.tenant_id,
        requestid=delivery.request_id,
        traceparent=child_traceparent(delivery.traceparent),
        time=attempted_at,
        data=payload.model_dump(mode="json"),
    )


class CallbackDispatcher:
    """Leases due deliveries and runs their attempts concurrently."""

    def __init__(
        self,
        runtime: Runtime,
        settings: VerificationSettings,
        sender: WebhookSender | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.sender = sender or build_sender(settings)
        self.owner = runtime.settings.worker_id
        self.wake = asyncio.Event()
        self._in_flight: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # The margin covers signing, publishing the event and the row update.
        self._lease_seconds = (
            settings.webhook_timeout_seconds * 2 + settings.webhook_lease_margin_seconds
        )

    def notify(self) -> None:
        """Look for due deliveries now instead of at the next poll."""
        self.wake.set()

    async def run(self) -> None:
        """Claim and start due attempts until cancelled."""
        await self.runtime.open()
        log.info("callback_dispatcher_started", worker_id=self.owner)
        try:
            while True:
                try:
                    await self._claim_and_start()
                except psycopg.OperationalError as exc:
                    log.warning("callback_claim_failed", error=str(exc))
                    await asyncio.sleep(LOOP_ERROR_BACKOFF_SECONDS)
                    continue
                self.wake.clear()
                try:
                    await asyncio.wait_for(
                        self.wake.wait(), timeout=self.settings.webhook_poll_seconds
                    )
                except TimeoutError:
                    pass
        finally:
            await self._cancel_attempts()

    async def _claim_and_start(self) -> None:
        room = self.settings.webhook_max_concurrent - len(self._tasks)
        if room <= 0:
            return
        assert self.runtime.pool is not None
        async with self.runtime.pool.connection() as conn:
            due = await claim_due(
                conn,
                owner=self.owner,
                limit=room,
                tenant_cap=self.settings.webhook_tenant_max_concurrent,
                in_flight=self._in_flight,
                lease_seconds=self._lease_seconds,
            )
        for delivery in due:
            self._in_flight[delivery.tenant_id] = (
                self._in_flight.get(delivery.tenant_id, 0) + 1
            )
            task = asyncio.create_task(self._run_attempt(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_attempt(self, delivery: DueDelivery) -> None:
        bound = log.bind(
            tenant_id=delivery.tenant_id,
            job_id=delivery.job_id,
            webhook_id=delivery.webhook_id,
            attempt=delivery.attempts + 1,
        )
        try:
            await self._attempt(delivery)
        except (
            psycopg.Error,
            KafkaUnavailableError,
            SecretKeyError,
            WebhookSecretError,
        ) as exc:
            bound.error("callback_attempt_not_recorded", error=str(exc))
            await self._release(delivery)
        finally:
            self._in_flight[delivery.tenant_id] -= 1
            if self._in_flight[delivery.tenant_id] <= 0:
                del self._in_flight[delivery.tenant_id]
            # A slot is free; other due deliveries may wait for it.
            self.wake.set()

    async def _attempt(self, delivery: DueDelivery) -> None:
        runtime = self.runtime
        assert runtime.pool is not None and runtime.fernet is not None
        async with runtime.pool.connection() as conn:
            secret = await get_or_create_secret(
                conn, runtime.fernet, delivery.tenant_id
            )

        attempt = await self.sender.attempt(
            delivery.url,
            delivery.body,
            secret=secret.secret,
            previous_secrets=secret.previous_secrets,
            webhook_id=delivery.webhook_id,
            tenant_id=delivery.tenant_id,
            job_id=delivery.job_id,
            number=delivery.attempts + 1,
        )
        event = attempted_event(delivery, attempt, self.owner)

        # The event goes out before the row moves on, so every attempt that
        # the receiver may have seen is on Kafka before the next one.
        await self._publish(event, delivery.job_id)
        async with runtime.pool.connection() as conn:
            await record_attempt(conn, event)

    async def _publish(self, event: CloudEvent, key: str) -> None:
        assert self.runtime.producer is not None
        delay = 0.5
        waited = 0.0
        while True:
            try:
                await self.runtime.producer.publish(
                    topics.VERIFICATION_CALLBACK_ATTEMPTED, key, event
                )
                return
            except KafkaUnavailableError:
                # NOTE: after this much waiting the attempt is made again
                # later, under the same webhook id, when the lease ends.
                if waited >= PUBLISH_RETRY_MAX_SECONDS:
                    raise
            pause = random.uniform(0, delay)
            await asyncio.sleep(pause)
            waited += pause
            delay *= 2

    async def _release(self, delivery: DueDelivery) -> None:
        assert self.runtime.pool is not None
        try:
            async with self.runtime.pool.connection() as conn:
                await release_lease(conn, delivery.webhook_id, self.owner)
        except psycopg.Error as exc:
            # The lease then ends on its own at lease_until.
            log.warning(
                "callback_lease_not_released",
                webhook_id=delivery.webhook_id,
                error=str(exc),
            )

    async def _cancel_attempts(self) -> None:
        # Attempts cut short keep their leases, so they run again under the
        # same webhook id once the leases end.
        log.info("callback_dispatcher_stopping", in_progress=len(self._tasks))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
