"""Retry policy: exponential backoff with full jitter that honours Retry-After."""

import math
import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from connectors.verification.errors import ProviderError


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before a failed call is tried again.

    The wait before retry `n` (1-based) is drawn uniformly from
    `[0, min(max_delay, base_delay * 2 ** (n - 1))]` ("full jitter"), so
    callers that failed together do not retry together. A `Retry-After`
    from the provider raises the wait to at least that many seconds, and a
    `Retry-After` longer than `max_retry_after` ends the retries.
    """

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(
                f"max_attempts must be at least 1, got {self.max_attempts}; "
                f"use 1 to disable retries"
            )
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError(
                f"delays must not be negative, got base_delay={self.base_delay}, "
                f"max_delay={self.max_delay}, max_retry_after={self.max_retry_after}"
            )

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Return a full-jitter wait in seconds before retry `retry_number`."""
        exponent = min(retry_number - 1, 62)
        ceiling = min(self.max_delay, self.base_delay * math.pow(2, exponent))
        return rng.uniform(0.0, ceiling)

    def delay_for(
        self, attempt: int, error: ProviderError, rng: random.Random
    ) -> float | None:
        """Return seconds to wait after failed attempt `attempt`, or None to stop.

        `attempt` is 1-based. The call stops when the error is not retryable,
        when `max_attempts` attempts were made, or when the provider asked
        for a longer wait than `max_retry_after`.
        """
        if not error.retryable or attempt >= self.max_attempts:
            return None

        delay = self.backoff(attempt, rng)
        if error.retry_after is None:
            return delay
        if error.retry_after > self.max_retry_after:
            return None
        return max(delay, error.retry_after)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the wait in seconds that a `Retry-After` header value requests.

    The value is either delay-seconds or an HTTP date (RFC 9110, section
    10.2.3). `now` is the current Unix time, used for dates. A date in the
    past means no wait, and a value in neither form returns None.
    """
    if value is None:
        return None

    text = value.strip()
    if text.isdigit():
        return float(text)

    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now)
