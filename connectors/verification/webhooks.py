"""Webhook signing per the Standard Webhooks specification, and delivery with retries.

A delivery carries three headers: `webhook-id` (the same for every attempt
of one message), `webhook-timestamp` (Unix seconds of the attempt) and
`webhook-signature`: "v1," and the base64 HMAC-SHA256, under the tenant's
secret, of "{id}.{timestamp}.{body}". Secrets are "whsec_" followed by
base64 of the key bytes.
"""

import asyncio
import base64
import binascii
import hashlib
import hmac
import inspect
import random
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import httpx
import structlog

from connectors.verification.clock import Clock
from connectors.verification.errors import (
    UrlRejectedError,
    WebhookSecretError,
    is_retryable_status,
)
from connectors.verification.pinned_http import Verify, new_client, send_pinned
from connectors.verification.retry import RetryPolicy, parse_retry_after
from connectors.verification.url_guard import UrlGuard

log = structlog.get_logger(__name__)

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# Namespace of webhook ids, so one message always gets the same id.
WEBHOOK_ID_NAMESPACE = uuid.UUID("6f1b8a52-1d0e-4c39-9a53-0d6c2a4b7e11")
# Receivers reply with a short body, and more than this is not read.
MAX_RESPONSE_BYTES = 64 * 1024
# An attempt's total time limit, as a multiple of the per-phase timeout
# (connect, write, read), so a slow but steady receiver still has room.
ATTEMPT_TIME_FACTOR = 2

AttemptOutcome = Literal["delivered", "failed", "rejected"]


def generate_secret() -> str:
    """Return a new random signing secret in the "whsec_<base64>" form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def decode_secret(secret: str) -> bytes:
    """Return the key bytes of a "whsec_<base64>" secret; raise WebhookSecretError."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookSecretError(
            f"the webhook secret is not valid base64 after the {SECRET_PREFIX!r} "
            f"prefix ({exc}); create one with generate_secret()"
        ) from exc
    if not key:
        raise WebhookSecretError(
            "the webhook secret is empty; create one with generate_secret()"
        )
    return key


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` value "v1,<base64>" for one attempt."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str,
    webhook_id: str,
    timestamp: int,
    body: bytes,
    previous_secrets: Sequence[str] = (),
) -> dict[str, str]:
    """Return the three Standard Webhooks headers and the JSON content type.

    Each of `previous_secrets` adds a space-separated signature, so
    receivers that still hold a secret from before a rotation can verify.
    """
    signatures = [
        sign(key, webhook_id, timestamp, body) for key in (secret, *previous_secrets)
    ]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }


def webhook_id_for(tenant_id: str, message_key: str) -> str:
    """Return the webhook id of a message, the same on every call and replay.

    `message_key` names the message within the tenant, such as the id of
    the `verification.completed` event, so one completion is never
    delivered under two ids.
    """
    return "msg_" + uuid.uuid5(WEBHOOK_ID_NAMESPACE, f"{tenant_id}/{message_key}").hex


@dataclass(frozen=True)
class DeliveryAttempt:
    """One attempt to deliver a webhook.

    `retry_in` is the wait before the next attempt, or None when this
    attempt is the last one.
    """

    webhook_id: str
    tenant_id: str
    job_id: str
    attempt: int
    url: str
    timestamp: int
    outcome: AttemptOutcome
    status_code: int | None
    error: str | None
    retry_in: float | None


@dataclass(frozen=True)
class DeliveryResult:
    webhook_id: str
    delivered: bool
    attempts: tuple[DeliveryAttempt, ...]


@dataclass(frozen=True)
class _AttemptResult:
    outcome: AttemptOutcome
    status_code: int | None
    error: str | None
    retryable: bool
    retry_after: float | None


AttemptListener = Callable[[DeliveryAttempt], Awaitable[None] | None]


class WebhookSender:
    """Delivers signed webhooks with backoff, reporting every attempt.

    A 2xx response delivers the message. Timeouts, connection errors, 5xx,
    408 and 429 are retried after a full-jitter backoff that honours
    `Retry-After` up to `policy.max_retry_after`. Redirects, other 4xx and
    rejected URLs end the delivery, since another attempt would get the
    same response. The URL passes the guard again before every attempt,
    because DNS can change over the hours a delivery may take.
    """

    def __init__(
        self,
        *,
        guard: UrlGuard,
        policy: RetryPolicy,
        clock: Clock,
        timeout: float = 10.0,
        verify: Verify = True,
        rng: random.Random | None = None,
    ) -> None:
        self._guard = guard
        self._policy = policy
        self._clock = clock
        self._timeout = timeout
        self._verify = verify
        self._rng = rng or random.Random()

    async def deliver(
        self,
        url: str,
        body: bytes,
        *,
        secret: str,
        webhook_id: str,
        tenant_id: str,
        job_id: str,
        on_attempt: AttemptListener | None = None,
    ) -> DeliveryResult:
        """Deliver `body` to `url`, retrying with the same `webhook_id`."""
        decode_secret(secret)
        attempts: list[DeliveryAttempt] = []
        number = 0
        while True:
            number += 1
            attempt = await self.attempt(
                url,
                body,
                secret=secret,
                webhook_id=webhook_id,
                tenant_id=tenant_id,
                job_id=job_id,
                number=number,
            )
            attempts.append(attempt)
            if on_attempt is not None:
                notified = on_attempt(attempt)
                if inspect.isawaitable(notified):
                    await notified

            if attempt.outcome == "delivered" or attempt.retry_in is None:
                return DeliveryResult(
                    webhook_id=webhook_id,
                    delivered=attempt.outcome == "delivered",
                    attempts=tuple(attempts),
                )
            await self._clock.sleep(attempt.retry_in)

    async def attempt(
        self,
        url: str,
        body: bytes,
        *,
        secret: str,
        webhook_id: str,
        tenant_id: str,
        job_id: str,
        number: int,
        previous_secrets: Sequence[str] = (),
    ) -> DeliveryAttempt:
        """Make attempt `number` (1-based) once, and return it with its backoff.

        Callers that keep the schedule elsewhere, such as a table of due
        deliveries, call this once per due attempt instead of `deliver`.
        """
        timestamp = int(self._clock.time())
        result = await self._attempt(
            url, body, (secret, *previous_secrets), webhook_id, timestamp
        )
        attempt = DeliveryAttempt(
            webhook_id=webhook_id,
            tenant_id=tenant_id,
            job_id=job_id,
            attempt=number,
            url=url,
            timestamp=timestamp,
            outcome=result.outcome,
            status_code=result.status_code,
            error=result.error,
            retry_in=self._next_delay(number, result),
        )
        self._log(attempt)
        return attempt

    async def _attempt(
        self,
        url: str,
        body: bytes,
        keys: tuple[str, ...],
        webhook_id: str,
        timestamp: int,
    ) -> _AttemptResult:
        try:
            target = await self._guard.check(url)
        except UrlRejectedError as exc:
            return _AttemptResult("rejected", None, str(exc), False, None)

        headers = signed_headers(keys[0], webhook_id, timestamp, body, keys[1:])
        try:
            # httpx limits each phase (connect, write, read) separately. This
            # limit bounds the whole request, so a receiver that sends its
            # response one byte at a time cannot hold a delivery slot for long.
            async with asyncio.timeout(self._timeout * ATTEMPT_TIME_FACTOR):
                async with new_client(
                    timeout=self._timeout, verify=self._verify
                ) as client:
                    response = await send_pinned(
                        client,
                        target,
                        "POST",
                        max_bytes=MAX_RESPONSE_BYTES,
                        headers=headers,
                        content=body,
                    )
        except (httpx.TimeoutException, TimeoutError) as exc:
            error = f"the receiver timed out ({type(exc).__name__})"
            return _AttemptResult("failed", None, error, True, None)
        except httpx.HTTPError as exc:
            error = f"the connection failed ({type(exc).__name__}: {exc})"
            return _AttemptResult("failed", None, error, True, None)

        status = response.status_code
        if 200 <= status < 300:
            return _AttemptResult("delivered", status, None, False, None)
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), self._clock.time()
        )
        return _AttemptResult(
            "failed",
            status,
            f"the receiver responded with HTTP {status}",
            is_retryable_status(status),
            retry_after,
        )

    def _next_delay(self, number: int, result: _AttemptResult) -> float | None:
        if not result.retryable or number >= self._policy.max_attempts:
            return None
        delay = self._policy.backoff(number, self._rng)
        if result.retry_after is not None:
            delay = max(delay, min(result.retry_after, self._policy.max_retry_after))
        return delay

    def _log(self, attempt: DeliveryAttempt) -> None:
        fields = {
            "tenant_id": attempt.tenant_id,
            "job_id": attempt.job_id,
            "webhook_id": attempt.webhook_id,
            "attempt": attempt.attempt,
            "status_code": attempt.status_code,
        }
        if attempt.outcome == "delivered":
            log.info("webhook_delivered", **fields)
        elif attempt.retry_in is not None:
            log.warning(
                "webhook_attempt_failed",
                error=attempt.error,
                retry_in=round(attempt.retry_in, 3),
                **fields,
            )
        else:
            log.warning("webhook_delivery_ended", error=attempt.error, **fields)
