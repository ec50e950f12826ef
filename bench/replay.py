"""Benchmark: `tidings replay` to Parquet against a raw confluent-kafka consume.

Starts its own single-node broker (the local stack's KafkaBroker, on other
ports and data folder than the tests), writes a synthetic history of small
CloudEvents to one topic, then times, alternately and `--repeat` times:

- raw: a confluent-kafka consumer reading every record of the topic by
  assignment, touching each value, with nothing else done;
- replay: `tidings.history.replay.replay` over the whole topic into a Parquet
  file (decode, validate, filter, write with pyarrow), the same code as
  `tidings replay --output FILE.parquet`.

It prints the median events/s of each and their ratio as a Markdown table.

Usage: .venv/bin/python bench/replay.py [--events N] [--repeat N]
"""

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from schemas.envelope import CloudEvent  # noqa: E402
from tidings.history.replay import ReplayQuery, replay  # noqa: E402
from tidings.history.sinks import JsonLinesSink, ParquetSink  # noqa: E402
from tidings.localstack.kafka import KafkaBroker  # noqa: E402
from tidings.settings import Settings  # noqa: E402

DATA_DIR = REPO_ROOT / "var" / "bench-replay"
KAFKA_PORT = 39292
CONTROLLER_PORT = 39293
TOPIC = "bench.replay.v1"
PARTITIONS = 4
TENANTS = [f"tnt_bench_{number}" for number in range(10)]
TYPES = [
    "dev.tidings.document.uploaded.v1",
    "dev.tidings.document.parsed.v1",
    "dev.tidings.document.indexed.v1",
]


def produce_history(bootstrap: str, count: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(timeout=30)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "queue.buffering.max.messages": 500_000,
        }
    )
    for index in range(count):
        document_id = f"doc_{index // 3:024x}"
        event = CloudEvent(
            type=TYPES[index % len(TYPES)],
            source="bench/replay",
            subject=document_id,
            tenantid=TENANTS[index % len(TENANTS)],
            data={"document_id": document_id, "attempt": 1, "chunk_count": index % 50},
            time=datetime.now(UTC),
            traceparent=f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01",
        )
        while True:
            try:
                producer.produce(
                    TOPIC,
                    key=document_id.encode(),
                    value=event.to_value(),
                    headers=event.to_headers(),
                )
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    if producer.flush(120) != 0:
        raise RuntimeError("the broker did not acknowledge the synthetic history")


def raw_consume(bootstrap: str, count: int) -> float:
    """Read every record by assignment; return the seconds taken."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-raw-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "fetch.max.bytes": 52_428_800,
            "queued.max.messages.kbytes": 65_536,
        }
    )
    started = time.perf_counter()
    consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
    seen = 0
    size = 0
    while seen < count:
        for message in consumer.consume(num_messages=5000, timeout=1.0):
            if message.error() is None:
                size += len(message.value())
                seen += 1
    seconds = time.perf_counter() - started
    consumer.close()
    return seconds


def replay_to(bootstrap: str, path: Path, count: int) -> float:
    """Replay the whole topic into a file; return the seconds taken."""
    sink = ParquetSink(path) if path.suffix == ".parquet" else JsonLinesSink(path)
    summary = replay(bootstrap, ReplayQuery(topics=(TOPIC,)), [sink])
    if summary.written != count:
        raise RuntimeError(f"replay wrote {summary.written} events, not {count}")
    return summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="History size.")
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs of each.")
    args = parser.parse_args()

    shutil.rmtree(DATA_DIR, ignore_errors=True)
    settings = Settings(
        data_dir=DATA_DIR, kafka_port=KAFKA_PORT, kafka_controller_port=CONTROLLER_PORT
    )
    broker = KafkaBroker(settings)
    broker.start()
    bootstrap = settings.local_kafka_bootstrap
    try:
        started = time.perf_counter()
        produce_history(bootstrap, args.events)
        produce_seconds = time.perf_counter() - started

        raw, parquet, jsonl = [], [], []
        for run in range(args.repeat):
            raw.append(raw_consume(bootstrap, args.events))
            parquet.append(
                replay_to(bootstrap, DATA_DIR / f"run-{run}.parquet", args.events)
            )
            jsonl.append(
                replay_to(bootstrap, DATA_DIR / f"run-{run}.jsonl", args.events)
            )
        parquet_bytes = (DATA_DIR / "run-0.parquet").stat().st_size
    finally:
        broker.stop()

    raw_rate = args.events / statistics.median(raw)
    parquet_rate = args.events / statistics.median(parquet)
    jsonl_rate = args.events / statistics.median(jsonl)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"history: {args.events} events on {PARTITIONS} partitions, written in "
        f"{produce_seconds:.1f} s; Parquet file {parquet_bytes / 1e6:.1f} MB; "
        f"runs: {args.repeat}"
    )
    print("| measure | events/s (median) | ratio to raw |")
    print("| --- | --- | --- |")
    print(f"| raw confluent-kafka consume | {raw_rate:,.0f} | 1.00 |")
    print(
        f"| replay to Parquet | {parquet_rate:,.0f} | {parquet_rate / raw_rate:.2f} |"
    )
    print(f"| replay to JSON Lines | {jsonl_rate:,.0f} | {jsonl_rate / raw_rate:.2f} |")
    for name, runs in (("raw", raw), ("parquet", parquet), ("jsonl", jsonl)):
        print(f"{name} seconds: " + ", ".join(f"{s:.2f}" for s in runs))


if __name__ == "__main__":
    main()
