"""Backoff with full jitter, Retry-After parsing and when to stop retrying."""

import random

import pytest

from connectors.verification.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderResponseError,
    ProviderStatusError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from connectors.verification.retry import RetryPolicy, parse_retry_after

NOW = 1_700_000_000.0


def status_error(code: int, retry_after: float | None = None) -> ProviderStatusError:
    return ProviderStatusError(
        "search", f"HTTP {code}", status_code=code, retry_after=retry_after
    )


@pytest.mark.parametrize("retry_number", [1, 2, 3, 4, 10, 80])
def test_backoff_within_ceiling(retry_number: int) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    ceiling = min(8.0, 0.5 * 2 ** (retry_number - 1))
    rng = random.Random(7)

    delays = [policy.backoff(retry_number, rng) for _ in range(200)]

    assert min(delays) >= 0.0
    assert max(delays) <= ceiling


def test_backoff_is_jittered() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=60.0)
    rng = random.Random(3)

    delays = {round(policy.backoff(4, rng), 6) for _ in range(50)}

    assert len(delays) > 40


def test_backoff_ceiling_doubles() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=1000.0)
    rng = random.Random(11)

    third = max(policy.backoff(3, rng) for _ in range(500))
    fourth = max(policy.backoff(4, rng) for _ in range(500))

    assert 3.5 < third <= 4.0
    assert 7.0 < fourth <= 8.0


@pytest.mark.parametrize(
    "error",
    [
        ProviderTimeoutError("search", "slow"),
        ProviderConnectionError("search", "refused"),
        status_error(500),
        status_error(503),
        status_error(408),
        status_error(429),
    ],
)
def test_delay_for_retryable_error(error: ProviderError) -> None:
    policy = RetryPolicy(max_attempts=3)

    assert policy.delay_for(1, error, random.Random(1)) is not None


@pytest.mark.parametrize(
    "error",
    [
        status_error(400),
        status_error(401),
        status_error(403),
        status_error(404),
        status_error(422),
        ProviderResponseError("search", "not JSON"),
        ProviderUnavailableError("search", "open", retry_after=3.0),
    ],
)
def test_no_retry_for_final_error(error: ProviderError) -> None:
    policy = RetryPolicy(max_attempts=5)

    assert policy.delay_for(1, error, random.Random(1)) is None


def test_no_retry_after_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3)
    error = status_error(503)

    assert policy.delay_for(2, error, random.Random(1)) is not None
    assert policy.delay_for(3, error, random.Random(1)) is None


def test_retry_after_raises_delay() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=0.2, max_retry_after=60.0)

    delay = policy.delay_for(1, status_error(429, retry_after=7.0), random.Random(1))

    assert delay == 7.0


def test_retry_after_too_long_stops() -> None:
    policy = RetryPolicy(max_retry_after=30.0)

    delay = policy.delay_for(1, status_error(503, retry_after=120.0), random.Random(1))

    assert delay is None


def test_policy_rejects_zero_attempts() -> None:
    with pytest.raises(ValueError, match="max_attempts must be at least 1"):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("Tue, 14 Nov 2023 22:13:40 GMT", 20.0),
        ("Tue, 14 Nov 2023 22:13:00 GMT", 0.0),
        (None, None),
        ("soon", None),
        ("-3", None),
        ("1.5", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    # NOW is 2023-11-14 22:13:20 UTC.
    assert parse_retry_after(value, NOW) == expected
