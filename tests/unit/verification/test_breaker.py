"""Circuit breaker: opens on failures within a window, one half-open probe."""

import pytest

from connectors.verification.breaker import BreakerState, CircuitBreaker
from connectors.verification.clock import ManualClock
from connectors.verification.errors import ProviderUnavailableError


def make_breaker(clock: ManualClock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker(
        "registry",
        failure_threshold=threshold,
        window_seconds=10.0,
        open_seconds=30.0,
        clock=clock,
    )


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.record_failure()


def test_breaker_opens_at_threshold() -> None:
    breaker = make_breaker(ManualClock())

    fail(breaker, 3)

    assert breaker.state is BreakerState.OPEN


def test_breaker_stays_closed_below_threshold() -> None:
    breaker = make_breaker(ManualClock())

    fail(breaker, 2)

    assert breaker.state is BreakerState.CLOSED


def test_failures_outside_window_forgotten() -> None:
    clock = ManualClock()
    breaker = make_breaker(clock)

    fail(breaker, 2)
    clock.advance(11.0)
    fail(breaker, 1)

    assert breaker.state is BreakerState.CLOSED


def test_success_resets_failures() -> None:
    breaker = make_breaker(ManualClock())

    fail(breaker, 2)
    breaker.before_call()
    breaker.record_success()
    fail(breaker, 2)

    assert breaker.state is BreakerState.CLOSED


def test_open_breaker_fails_fast() -> None:
    clock = ManualClock()
    breaker = make_breaker(clock)
    fail(breaker, 3)
    clock.advance(10.0)

    with pytest.raises(ProviderUnavailableError) as caught:
        breaker.before_call()

    assert caught.value.reason == "unavailable"
    assert caught.value.retry_after == pytest.approx(20.0)
    assert "circuit breaker is open" in str(caught.value)


def test_half_open_after_open_time() -> None:
    clock = ManualClock()
    breaker = make_breaker(clock)
    fail(breaker, 3)

    clock.advance(30.0)

    assert breaker.state is BreakerState.HALF_OPEN


def test_half_open_allows_one_probe() -> None:
    clock = ManualClock()
    breaker = make_breaker(clock)
    fail(breaker, 3)
    clock.advance(30.0)

    breaker.before_call()

    with pytest.raises(ProviderUnavailableError, match="probe"):
        breaker.before_call()


def test_probe_success_closes() -> None:
    clock = ManualClock()
    breaker = make_breaker(clock)
    fail(breaker, 3)
    clock.advance(30.0)

    breaker.before_call()
    breaker.record_success()

    assert breaker.state is BreakerState.CLOSED


def test_probe_failure_reopens() -> None:
    clock = ManualClock()
    breaker = make_breaker(clock)
    fail(breaker, 3)
    clock.advance(30.0)

    breaker.before_call()
    breaker.record_failure()

    assert breaker.state is BreakerState.OPEN
    with pytest.raises(ProviderUnavailableError):
        breaker.before_call()


def test_released_probe_frees_slot() -> None:
    clock = ManualClock()
    breaker = make_breaker(clock)
    fail(breaker, 3)
    clock.advance(30.0)
    breaker.before_call()

    breaker.release()

    breaker.before_call()
    assert breaker.state is BreakerState.HALF_OPEN


def test_breaker_rejects_zero_threshold() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        make_breaker(ManualClock(), threshold=0)
