"""Replay: the events of some topics inside a time window, filtered, into sinks.

The window is on the Kafka record timestamp (set by the producer when it
sends, within milliseconds of `ce_time` for Tidings' events): records with
start <= timestamp < end are selected.
"""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from tidings.history.reader import open_consumer, plan_ranges, read_ranges
from tidings.history.rows import EventRow, decode_row, record_millis
from tidings.history.sinks import EventSink

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ReplayQuery:
    topics: tuple[str, ...]
    start: datetime | None = None  # inclusive; None reads from the low watermark
    end: datetime | None = None  # exclusive; None reads to the high watermark
    tenants: frozenset[str] = frozenset()  # empty: every tenant
    event_types: frozenset[str] = frozenset()  # empty: every type

    def accepts(self, row: EventRow) -> bool:
        if self.tenants and row.tenantid not in self.tenants:
            return False
        return not self.event_types or row.type in self.event_types


@dataclass
class ReplaySummary:
    planned: int = 0  # records inside the offset ranges
    scanned: int = 0
    written: int = 0
    outside_window: int = 0  # timestamps out of order across a window bound
    filtered: int = 0  # other tenant or event type
    invalid: int = 0  # not a valid CloudEvent in binary mode
    seconds: float = 0.0
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def events_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


def _window_millis(moment: datetime | None, default: int) -> int:
    if moment is None:
        return default
    return int(moment.astimezone(UTC).timestamp() * 1000)


def replay(
    bootstrap: str,
    query: ReplayQuery,
    sinks: list[EventSink],
    *,
    on_plan: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    idle_timeout: float = 30.0,
) -> ReplaySummary:
    """Read the window, write the selected events to every sink, return counts.

    `on_plan` gets the number of records to scan, `on_progress` the number
    scanned since the last call. Sinks are closed on success and aborted on
    any error.
    """
    summary = ReplaySummary()
    started = time.perf_counter()
    low_millis = _window_millis(query.start, -(2**62))
    high_millis = _window_millis(query.end, 2**62)
    consumer = open_consumer(bootstrap)
    try:
        ranges = plan_ranges(consumer, list(query.topics), query.start, query.end)
        summary.planned = sum(r.size for r in ranges)
        if on_plan is not None:
            on_plan(summary.planned)
        log.info(
            "replay_started",
            topics=list(query.topics),
            records=summary.planned,
            bootstrap=bootstrap,
        )

        for batch in read_ranges(consumer, ranges, idle_timeout=idle_timeout):
            selected = []
            for message in batch:
                millis = record_millis(message)
                if not low_millis <= millis < high_millis:
                    summary.outside_window += 1
                    continue
                row = decode_row(message, millis)
                if row is None:
                    summary.invalid += 1
                elif query.accepts(row):
                    selected.append(row)
                    summary.counts[(row.type, row.tenantid)] += 1
                else:
                    summary.filtered += 1
            for sink in sinks:
                sink.write(selected)
            summary.scanned += len(batch)
            summary.written += len(selected)
            if on_progress is not None:
                on_progress(len(batch))

        for sink in sinks:
            sink.close()
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    finally:
        consumer.close()

    summary.seconds = time.perf_counter() - started
    log.info(
        "replay_finished",
        scanned=summary.scanned,
        written=summary.written,
        invalid=summary.invalid,
        seconds=round(summary.seconds, 2),
    )
    return summary
