"""Circuit breaker per provider: closed, open, then one half-open probe."""

from collections import deque
from enum import StrEnum

import structlog

from connectors.verification.clock import Clock
from connectors.verification.errors import ProviderUnavailableError

log = structlog.get_logger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Fails calls fast while a provider keeps failing.

    The breaker opens when `failure_threshold` failures happen within
    `window_seconds`. While it is open, `before_call` raises
    `ProviderUnavailableError`. After `open_seconds` it lets exactly one call
    through as a probe (half-open): success closes it, failure opens it for
    another `open_seconds`. Other calls fail fast while the probe runs.
    """

    def __init__(
        self,
        provider: str,
        *,
        failure_threshold: int,
        window_seconds: float,
        open_seconds: float,
        clock: Clock,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(
                f"failure_threshold must be at least 1, got {failure_threshold}"
            )
        if window_seconds <= 0 or open_seconds <= 0:
            raise ValueError(
                f"window_seconds and open_seconds must be positive, got "
                f"{window_seconds} and {open_seconds}"
            )
        self.provider = provider
        self._threshold = failure_threshold
        self._window = window_seconds
        self._open_seconds = open_seconds
        self._clock = clock
        self._failures: deque[float] = deque()
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        """The state now; an open breaker whose time is up reads as half-open."""
        if self._state is BreakerState.OPEN and self._open_time_left() <= 0:
            return BreakerState.HALF_OPEN
        return self._state

    def before_call(self) -> None:
        """Raise ProviderUnavailableError unless a call may go to the provider.

        A call that passes must end with `record_success`, `record_failure`
        or `release`, or a half-open breaker keeps waiting for its probe.
        """
        if self._state is BreakerState.CLOSED:
            return

        if self._state is BreakerState.OPEN:
            left = self._open_time_left()
            if left > 0:
                raise self._unavailable(left)
            self._state = BreakerState.HALF_OPEN
            self._probe_in_flight = False

        if self._probe_in_flight:
            raise ProviderUnavailableError(
                self.provider,
                "the circuit breaker is half-open and its one probe call is still "
                "running, so this call was not sent; try again when the probe ends",
                retry_after=0.0,
            )
        self._probe_in_flight = True
        log.info("circuit_half_open_probe", provider=self.provider)

    def record_success(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            log.info("circuit_closed", provider=self.provider)
        self._state = BreakerState.CLOSED
        self._probe_in_flight = False
        self._failures.clear()

    def record_failure(self) -> None:
        now = self._clock.monotonic()
        if self._state is BreakerState.HALF_OPEN:
            self._open(now, failures=1)
            return

        self._failures.append(now)
        while self._failures and now - self._failures[0] > self._window:
            self._failures.popleft()
        if (
            self._state is BreakerState.CLOSED
            and len(self._failures) >= self._threshold
        ):
            self._open(now, failures=len(self._failures))

    def release(self) -> None:
        """End a call that neither succeeded nor failed, such as a cancelled one."""
        self._probe_in_flight = False

    def _open(self, now: float, failures: int) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now
        self._probe_in_flight = False
        self._failures.clear()
        log.warning(
            "circuit_opened",
            provider=self.provider,
            failures=failures,
            open_seconds=self._open_seconds,
        )

    def _open_time_left(self) -> float:
        return self._opened_at + self._open_seconds - self._clock.monotonic()

    def _unavailable(self, retry_after: float) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            self.provider,
            f"the circuit breaker is open after repeated failures, so the call "
            f"was not sent; the next probe goes out in {retry_after:.1f} s",
            retry_after=retry_after,
        )
