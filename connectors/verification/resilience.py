"""One guard per provider: timeout, retries, circuit breaker, rate limit, cache.

`ProviderGuard.call` runs a provider operation for one tenant's job:

1. a fresh cached response for the same normalised query returns at once;
2. the call takes one of the tenant's slots (`TenantLimiter`);
3. each attempt passes the circuit breaker, which fails fast while open,
   then waits for a token of the provider's rate limit (realtime first);
4. an attempt that fails in a retryable way is retried after a full-jitter
   backoff that honours `Retry-After`, until the policy or the deadline
   ends the retries, and then the last `ProviderError` is raised.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

from connectors.verification.breaker import CircuitBreaker
from connectors.verification.cache import TtlCache
from connectors.verification.clock import Clock
from connectors.verification.errors import (
    ProviderError,
    ProviderStatusError,
    ProviderTimeoutError,
)
from connectors.verification.limits import Lane, TenantLimiter, TokenBucket
from connectors.verification.retry import RetryPolicy
from connectors.verification.settings import ProviderSettings

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class CallContext:
    """Tenant, job, lane and deadline of a provider call.

    `deadline` is a `Clock.monotonic()` time, and no retry is scheduled past it.
    """

    tenant_id: str
    job_id: str
    lane: Lane = "batch"
    deadline: float | None = None


@dataclass(frozen=True)
class AttemptReport:
    """The end of one attempt, for events and metrics.

    `outcome` is "ok" or the `ProviderError.reason` of the failure, and
    `retry_in` is the backoff before the next attempt, or None when the
    call ends with this attempt.
    """

    provider: str
    tenant_id: str
    job_id: str
    attempt: int
    outcome: str
    status_code: int | None
    retry_in: float | None


AttemptCallback = Callable[[AttemptReport], None]


class ProviderGuard(Generic[T]):
    """Runs calls to one provider with its resilience settings."""

    def __init__(
        self,
        provider: str,
        *,
        policy: RetryPolicy,
        breaker: CircuitBreaker,
        clock: Clock,
        attempt_timeout: float | None = None,
        rate_limiter: TokenBucket | None = None,
        tenants: TenantLimiter | None = None,
        cache: TtlCache[T] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.provider = provider
        self.breaker = breaker
        self.cache = cache
        self._policy = policy
        self._clock = clock
        self._attempt_timeout = attempt_timeout
        self._rate_limiter = rate_limiter
        self._tenants = tenants
        self._rng = rng or random.Random()

    async def call(
        self,
        operation: Callable[[], Awaitable[T]],
        context: CallContext,
        *,
        cache_key: str | None = None,
        on_attempt: AttemptCallback | None = None,
    ) -> T:
        """Return the result of `operation`, or raise the last ProviderError.

        Calls with the same `cache_key` share cached responses across tenants,
        because provider responses describe public subjects, not tenant data.
        """
        if self.cache is None or cache_key is None:
            return await self._call_in_slot(operation, context, on_attempt)

        key = f"{self.provider}\x1f{cache_key}"
        return await self.cache.get_or_load(
            key, lambda: self._call_in_slot(operation, context, on_attempt)
        )

    async def _call_in_slot(
        self,
        operation: Callable[[], Awaitable[T]],
        context: CallContext,
        on_attempt: AttemptCallback | None,
    ) -> T:
        if self._tenants is None:
            return await self._call_with_retries(operation, context, on_attempt)
        async with self._tenants.slot(context.tenant_id):
            return await self._call_with_retries(operation, context, on_attempt)

    async def _call_with_retries(
        self,
        operation: Callable[[], Awaitable[T]],
        context: CallContext,
        on_attempt: AttemptCallback | None,
    ) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await self._attempt(operation, context)
            except ProviderError as error:
                self._defer_rate_limit(error)
                delay = self._next_delay(attempt, error, context)
                self._report(on_attempt, context, attempt, error, delay)
                if delay is None:
                    raise
                log.warning(
                    "provider_retry_scheduled",
                    provider=self.provider,
                    tenant_id=context.tenant_id,
                    job_id=context.job_id,
                    attempt=attempt,
                    reason=error.reason,
                    delay_seconds=round(delay, 3),
                )
                await self._clock.sleep(delay)
            else:
                self._report(on_attempt, context, attempt, None, None)
                return result

    async def _attempt(
        self, operation: Callable[[], Awaitable[T]], context: CallContext
    ) -> T:
        self.breaker.before_call()
        try:
            if self._rate_limiter is not None:
                await self._rate_limiter.acquire(context.lane)
            result = await self._run_with_timeout(operation)
        except ProviderError as error:
            if error.counts_as_failure:
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.record_success()
        return result

    async def _run_with_timeout(self, operation: Callable[[], Awaitable[T]]) -> T:
        if self._attempt_timeout is None:
            return await operation()
        try:
            async with asyncio.timeout(self._attempt_timeout):
                return await operation()
        except TimeoutError as exc:
            raise ProviderTimeoutError(
                self.provider,
                f"no complete response within {self._attempt_timeout} s; raise the "
                f"provider's timeout_seconds setting if the provider is slow",
            ) from exc

    def _next_delay(
        self, attempt: int, error: ProviderError, context: CallContext
    ) -> float | None:
        delay = self._policy.delay_for(attempt, error, self._rng)
        if delay is None or context.deadline is None:
            return delay
        if self._clock.monotonic() + delay > context.deadline:
            return None
        return delay

    def _defer_rate_limit(self, error: ProviderError) -> None:
        # A 429 applies to every caller of the provider, not only this one.
        # The pause is capped, because a provider that keeps refusing opens
        # the circuit breaker instead of stalling every caller.
        if self._rate_limiter is None or not isinstance(error, ProviderStatusError):
            return
        if error.status_code == 429 and error.retry_after is not None:
            pause = min(error.retry_after, self._policy.max_retry_after)
            self._rate_limiter.defer(pause)

    def _report(
        self,
        on_attempt: AttemptCallback | None,
        context: CallContext,
        attempt: int,
        error: ProviderError | None,
        retry_in: float | None,
    ) -> None:
        if on_attempt is None:
            return
        status_code = (
            error.status_code if isinstance(error, ProviderStatusError) else None
        )
        on_attempt(
            AttemptReport(
                provider=self.provider,
                tenant_id=context.tenant_id,
                job_id=context.job_id,
                attempt=attempt,
                outcome="ok" if error is None else error.reason,
                status_code=status_code,
                retry_in=retry_in,
            )
        )


def build_guard(
    provider: str,
    settings: ProviderSettings,
    *,
    clock: Clock,
    tenants: TenantLimiter | None = None,
    rng: random.Random | None = None,
) -> ProviderGuard[T]:
    """Return a guard for `provider` configured from its settings."""
    policy = RetryPolicy(
        max_attempts=settings.max_attempts,
        base_delay=settings.backoff_base_seconds,
        max_delay=settings.backoff_max_seconds,
        max_retry_after=settings.retry_after_max_seconds,
    )
    breaker = CircuitBreaker(
        provider,
        failure_threshold=settings.breaker_failure_threshold,
        window_seconds=settings.breaker_window_seconds,
        open_seconds=settings.breaker_open_seconds,
        clock=clock,
    )
    bucket = TokenBucket(
        provider,
        rate=settings.rate_per_second,
        burst=settings.rate_burst,
        clock=clock,
    )
    cache: TtlCache[T] = TtlCache(
        ttl_seconds=settings.cache_ttl_seconds,
        max_entries=settings.cache_max_entries,
        clock=clock,
    )
    return ProviderGuard(
        provider,
        policy=policy,
        breaker=breaker,
        clock=clock,
        attempt_timeout=settings.timeout_seconds,
        rate_limiter=bucket,
        tenants=tenants,
        cache=cache,
        rng=rng,
    )
