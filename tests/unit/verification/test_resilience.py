"""ProviderGuard: retries, Retry-After, breaker, deadline, timeout, cache, slots."""

import asyncio
import random

import pytest

from connectors.verification.breaker import BreakerState, CircuitBreaker
from connectors.verification.cache import TtlCache
from connectors.verification.clock import ManualClock
from connectors.verification.errors import (
    ProviderError,
    ProviderStatusError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from connectors.verification.limits import TenantLimiter, TokenBucket
from connectors.verification.resilience import (
    AttemptReport,
    CallContext,
    ProviderGuard,
)
from connectors.verification.retry import RetryPolicy

CONTEXT = CallContext(tenant_id="tenant-a", job_id="job-1")


class ScriptedOperation:
    """Raises the scripted errors in turn, then returns "ok"."""

    def __init__(self, *errors: ProviderError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def http_error(code: int, retry_after: float | None = None) -> ProviderStatusError:
    return ProviderStatusError(
        "search", f"HTTP {code}", status_code=code, retry_after=retry_after
    )


def make_guard(
    clock: ManualClock,
    *,
    max_attempts: int = 4,
    threshold: int = 10,
    **options: object,
) -> ProviderGuard[str]:
    breaker = CircuitBreaker(
        "search",
        failure_threshold=threshold,
        window_seconds=60.0,
        open_seconds=30.0,
        clock=clock,
    )
    policy = RetryPolicy(max_attempts=max_attempts, base_delay=0.5, max_delay=4.0)
    return ProviderGuard(
        "search",
        policy=policy,
        breaker=breaker,
        clock=clock,
        rng=random.Random(5),
        **options,  # type: ignore[arg-type]
    )


async def test_retries_until_success() -> None:
    clock = ManualClock()
    operation = ScriptedOperation(http_error(503), http_error(502))

    result = await make_guard(clock).call(operation, CONTEXT)

    assert result == "ok"
    assert operation.calls == 3
    assert len(clock.sleeps) == 2


async def test_client_error_not_retried() -> None:
    operation = ScriptedOperation(http_error(404))

    with pytest.raises(ProviderStatusError):
        await make_guard(ManualClock()).call(operation, CONTEXT)

    assert operation.calls == 1


async def test_gives_up_after_max_attempts() -> None:
    operation = ScriptedOperation(*[http_error(500) for _ in range(10)])

    with pytest.raises(ProviderStatusError):
        await make_guard(ManualClock(), max_attempts=3).call(operation, CONTEXT)

    assert operation.calls == 3


async def test_retry_after_honoured() -> None:
    clock = ManualClock()
    operation = ScriptedOperation(http_error(429, retry_after=12.0))

    await make_guard(clock).call(operation, CONTEXT)

    assert clock.sleeps == [12.0]


async def test_breaker_opens_mid_call() -> None:
    operation = ScriptedOperation(*[http_error(500) for _ in range(10)])
    guard = make_guard(ManualClock(), max_attempts=5, threshold=2)

    with pytest.raises(ProviderUnavailableError):
        await guard.call(operation, CONTEXT)

    assert operation.calls == 2
    assert guard.breaker.state is BreakerState.OPEN


async def test_open_breaker_skips_provider() -> None:
    guard = make_guard(ManualClock(), max_attempts=1, threshold=1)
    with pytest.raises(ProviderStatusError):
        await guard.call(ScriptedOperation(http_error(500)), CONTEXT)
    operation = ScriptedOperation()

    with pytest.raises(ProviderUnavailableError):
        await guard.call(operation, CONTEXT)

    assert operation.calls == 0


async def test_probe_closes_breaker() -> None:
    clock = ManualClock()
    guard = make_guard(clock, max_attempts=1, threshold=1)
    with pytest.raises(ProviderStatusError):
        await guard.call(ScriptedOperation(http_error(500)), CONTEXT)

    clock.advance(30.0)
    result = await guard.call(ScriptedOperation(), CONTEXT)

    assert result == "ok"
    assert guard.breaker.state is BreakerState.CLOSED


async def test_client_error_keeps_breaker_closed() -> None:
    guard = make_guard(ManualClock(), max_attempts=1, threshold=1)

    with pytest.raises(ProviderStatusError):
        await guard.call(ScriptedOperation(http_error(400)), CONTEXT)

    assert guard.breaker.state is BreakerState.CLOSED


async def test_deadline_stops_retries() -> None:
    clock = ManualClock()
    operation = ScriptedOperation(http_error(503, retry_after=5.0))
    context = CallContext("tenant-a", "job-1", deadline=clock.monotonic() + 2.0)

    with pytest.raises(ProviderStatusError):
        await make_guard(clock).call(operation, context)

    assert operation.calls == 1


async def test_slow_attempt_times_out() -> None:
    never = asyncio.Event()

    async def hang() -> str:
        await never.wait()
        return "late"

    guard = make_guard(ManualClock(), max_attempts=1, attempt_timeout=0.01)

    with pytest.raises(ProviderTimeoutError, match="timeout_seconds"):
        await guard.call(hang, CONTEXT)


async def test_cached_response_skips_provider() -> None:
    clock = ManualClock()
    cache: TtlCache[str] = TtlCache(ttl_seconds=60.0, max_entries=10, clock=clock)
    guard = make_guard(clock, cache=cache)
    operation = ScriptedOperation()

    await guard.call(operation, CONTEXT, cache_key="acme")
    await guard.call(operation, CallContext("tenant-b", "job-2"), cache_key="acme")

    assert operation.calls == 1


async def test_attempts_reported() -> None:
    reports: list[AttemptReport] = []
    operation = ScriptedOperation(http_error(503))

    await make_guard(ManualClock()).call(operation, CONTEXT, on_attempt=reports.append)

    assert [report.outcome for report in reports] == ["http_status", "ok"]
    assert reports[0].status_code == 503
    assert reports[0].retry_in is not None
    assert reports[1].retry_in is None


async def test_tenant_slot_released() -> None:
    tenants = TenantLimiter(max_concurrent=1)
    guard = make_guard(ManualClock(), tenants=tenants)

    await guard.call(ScriptedOperation(http_error(500)), CONTEXT)

    assert tenants.in_use("tenant-a") == 0


async def test_rate_limited_response_pauses_bucket() -> None:
    clock = ManualClock()
    bucket = TokenBucket("search", rate=100.0, burst=10, clock=clock)
    guard = make_guard(clock, max_attempts=1, rate_limiter=bucket)
    with pytest.raises(ProviderStatusError):
        await guard.call(ScriptedOperation(http_error(429, retry_after=5.0)), CONTEXT)

    await bucket.acquire()

    assert clock.sleeps == [pytest.approx(5.0)]
