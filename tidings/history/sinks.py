"""Sinks for replayed events: a JSON Lines file, a Parquet file or a topic.

Files are written under a temporary name and renamed on `close`, so a failed
replay never leaves a file that looks complete.
"""

import json
import os
import sys
from pathlib import Path
from typing import IO, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
import structlog
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from tidings.history.errors import ReplayError
from tidings.history.rows import COLUMNS, EventRow

log = structlog.get_logger(__name__)

PARQUET_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("type", pa.string()),
        ("source", pa.string()),
        ("subject", pa.string()),
        ("time", pa.timestamp("us", tz="UTC")),
        ("specversion", pa.string()),
        ("tenantid", pa.string()),
        ("requestid", pa.string()),
        ("traceparent", pa.string()),
        ("datacontenttype", pa.string()),
        ("data", pa.string()),
        ("kafka_topic", pa.string()),
        ("kafka_partition", pa.int32()),
        ("kafka_offset", pa.int64()),
        ("kafka_timestamp", pa.timestamp("ms", tz="UTC")),
        ("kafka_key", pa.string()),
    ]
)
ROW_GROUP_ROWS = 65_536
REPLAYED_FROM_HEADER = "tidings_replayed_from"


# The output formats of `tidings replay`, and the file suffixes that name them.
OUTPUT_FORMATS = ("jsonl", "parquet")
FORMAT_OF_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def choose_output_format(output: str, requested: str | None) -> str:
    """Return the format to write `output` in, from --format or the file suffix.

    Raises ReplayError for a format that replay does not write, a suffix that
    names none without --format, a suffix that contradicts --format, and
    Parquet to stdout (`-`).
    """
    if requested is not None and requested not in OUTPUT_FORMATS:
        raise ReplayError(
            f"--format {requested!r} is not supported; use jsonl or parquet"
        )
    if output == "-":
        if requested == "parquet":
            raise ReplayError("Parquet cannot go to stdout; pass --output FILE.parquet")
        return "jsonl"

    suffix = Path(output).suffix.lower()
    implied = FORMAT_OF_SUFFIX.get(suffix)
    if requested is None:
        if implied is None:
            raise ReplayError(
                f"--output {output!r} has the suffix {suffix or '(none)'!r}, which "
                "names no format that replay writes; name the file .jsonl, .ndjson "
                "or .parquet, or pass --format jsonl or --format parquet"
            )
        return implied
    if implied is not None and implied != requested:
        raise ReplayError(
            f"--output {output!r} names {implied} but --format is {requested}; "
            "change the suffix or the format so that they agree"
        )
    return requested


class EventSink(Protocol):
    def write(self, rows: list[EventRow]) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


def _partial_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


class JsonLinesSink:
    """One JSON object per line with the export columns; `-` writes to stdout."""

    def __init__(self, path: Path | str) -> None:
        self.stdout = str(path) == "-"
        self.path = Path(path)
        self.handle: IO[str]
        if self.stdout:
            self.handle = sys.stdout
        else:
            self.handle = _open_partial(self.path)

    def write(self, rows: list[EventRow]) -> None:
        lines = [json.dumps(row.to_json(), ensure_ascii=False) for row in rows]
        if lines:
            self.handle.write("\n".join(lines) + "\n")

    def close(self) -> None:
        if self.stdout:
            self.handle.flush()
            return
        self.handle.close()
        os.replace(_partial_path(self.path), self.path)

    def abort(self) -> None:
        if not self.stdout:
            self.handle.close()
            _partial_path(self.path).unlink(missing_ok=True)


def _open_partial(path: Path) -> IO[str]:
    try:
        return _partial_path(path).open("w", encoding="utf-8")
    except OSError as exc:
        raise ReplayError(f"cannot write {path}: {exc}") from exc


class ParquetSink:
    """Rows in a Parquet file (zstd), flushed as row groups of ROW_GROUP_ROWS."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.writer = pq.ParquetWriter(
                _partial_path(self.path), PARQUET_SCHEMA, compression="zstd"
            )
        except OSError as exc:
            raise ReplayError(f"cannot write {self.path}: {exc}") from exc
        self.pending: list[EventRow] = []

    def write(self, rows: list[EventRow]) -> None:
        self.pending.extend(rows)
        if len(self.pending) >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        # Transpose the rows; zip stops at COLUMNS, before the raw-record fields.
        columns = dict(zip(COLUMNS, zip(*self.pending, strict=False), strict=False))
        arrays = [
            pa.array(columns[field.name], type=field.type) for field in PARQUET_SCHEMA
        ]
        batch = pa.RecordBatch.from_arrays(arrays, schema=PARQUET_SCHEMA)
        self.writer.write_batch(batch)
        self.pending = []

    def close(self) -> None:
        self._flush()
        self.writer.close()
        os.replace(_partial_path(self.path), self.path)

    def abort(self) -> None:
        self.writer.close()
        _partial_path(self.path).unlink(missing_ok=True)


class RepublishSink:
    """Re-publish each event, as read, to another topic.

    Key, value and headers stay as they were, plus a `tidings_replayed_from`
    header naming the source topic, partition and offset.
    """

    def __init__(self, bootstrap: str, topic: str, *, timeout: float = 15.0) -> None:
        self.topic = topic
        self.bootstrap = bootstrap
        self.failed = 0
        self.reasons: set[str] = set()
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 20,
            }
        )
        try:
            metadata = self.producer.list_topics(topic=topic, timeout=timeout)
        except KafkaException as exc:
            raise ReplayError(f"cannot reach {bootstrap}: {exc}") from exc
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            raise ReplayError(
                f"target topic {topic!r} does not exist on {bootstrap}; create it "
                "first (the broker does not create topics on first use)"
            )

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.failed += 1
            if len(self.reasons) < 5:
                self.reasons.add(error.str())

    def write(self, rows: list[EventRow]) -> None:
        for row in rows:
            origin = f"{row.kafka_topic}/{row.kafka_partition}/{row.kafka_offset}"
            headers: list[tuple[str, str | bytes | None]] = [
                *row.headers,
                (REPLAYED_FROM_HEADER, origin.encode()),
            ]
            while True:
                try:
                    self.producer.produce(
                        self.topic,
                        key=row.key_bytes,
                        value=row.value_bytes,
                        headers=headers,
                        on_delivery=self._on_delivery,
                    )
                    break
                except BufferError:
                    # The local queue is full: serve delivery reports, then retry.
                    self.producer.poll(0.5)
            self.producer.poll(0)

    def close(self, timeout: float = 60.0) -> None:
        remaining = self.producer.flush(timeout)
        if remaining or self.failed:
            reasons = "; ".join(sorted(self.reasons)) or "flush timed out"
            raise ReplayError(
                f"{self.failed + remaining} event(s) were not acknowledged on "
                f"{self.topic} at {self.bootstrap}: {reasons}"
            )
        log.info("events_republished", topic=self.topic, bootstrap=self.bootstrap)

    def abort(self) -> None:
        self.producer.flush(5.0)
