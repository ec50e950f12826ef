"""Benchmark: verification jobs/s end to end next to a raw aiokafka loop.

Starts its own stack (like the tests: `tidings run` on the ports below and
a data folder under var/), points the worker's web_search and registry
providers at an instant provider on 127.0.0.1, and measures:

- pipeline jobs/s: jobs / (first batch request sent -> last job finished),
  through the HTTP API, Kafka, the intake, runner and state stages and
  Postgres, with the checks web_search, registry and sanctions;
- raw loop records/s: an aiokafka consumer reading records from one topic
  and an aiokafka producer (acks=all) writing each to another topic on the
  same broker, awaiting every batch's acknowledgements before the next.

Usage: .venv/bin/python bench/verification.py [--jobs N] [--repeat N]
"""

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

BENCH_PORTS = {
    "TIDINGS_TEST_KAFKA_PORT": os.environ.get("TIDINGS_TEST_KAFKA_PORT", "39492"),
    "TIDINGS_TEST_KAFKA_CONTROLLER_PORT": os.environ.get(
        "TIDINGS_TEST_KAFKA_CONTROLLER_PORT", "39493"
    ),
    "TIDINGS_TEST_API_PORT": os.environ.get("TIDINGS_TEST_API_PORT", "38400"),
    "TIDINGS_TEST_DATA_DIR": str(REPO_ROOT / "var" / "bench-verify"),
}
# The test stack module reads these variables when it is imported.
os.environ.update(BENCH_PORTS)

from tests import stack as test_stack  # noqa: E402
from tests.integration.verification.provider_server import ProviderServer  # noqa: E402

CHECKS = ["web_search", "registry", "sanctions"]
BATCH = 1000
RUNNERS = 8
RAW_VALUE_BYTES = 600  # about the size of a verification.requested event


def pipeline_run(stack: test_stack.Stack, jobs: int) -> float:
    """Submit `jobs` jobs in batches; return seconds until the last finished."""
    headers = {"Authorization": f"Bearer {stack.api_key}"}
    job_ids: list[str] = []
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=300) as api:
        start = time.perf_counter()
        for offset in range(0, jobs, BATCH):
            body = {
                "jobs": [
                    {
                        "subject": {
                            "kind": "company",
                            # Unique names, so no result comes from the cache.
                            "name": f"Bench Co {uuid.uuid4().hex[:12]}",
                        },
                        "checks": CHECKS,
                        "priority": "batch",
                    }
                    for _ in range(min(BATCH, jobs - offset))
                ]
            }
            response = api.post("/v1/verifications/batch", json=body)
            response.raise_for_status()
            job_ids += response.json()["job_ids"]

    with psycopg.connect(stack.database_url) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*), max(finished_at) FROM verification_queue "
                "WHERE job_id = ANY(%s) AND finished_at IS NOT NULL",
                (job_ids,),
            ).fetchone()
            assert row is not None
            if row[0] == len(job_ids):
                return time.perf_counter() - start
            time.sleep(0.2)


async def raw_loop(bootstrap: str, records: int) -> float:
    """Return seconds to consume `records` records and produce each once."""
    source = f"bench.raw-source.{uuid.uuid4().hex[:8]}"
    target = f"bench.raw-target.{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics(
        [NewTopic(source, 2, 1), NewTopic(target, 2, 1)]
    ).values():
        future.result(timeout=30)

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        value = b"x" * RAW_VALUE_BYTES
        sends = [
            await producer.send(source, value, key=str(n).encode())
            for n in range(records)
        ]
        await asyncio.gather(*sends)

        consumer = AIOKafkaConsumer(
            source,
            bootstrap_servers=bootstrap,
            group_id=f"bench-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            start = time.perf_counter()
            seen = 0
            while seen < records:
                batches = await consumer.getmany(timeout_ms=1000, max_records=500)
                acks = [
                    await producer.send(target, message.value, key=message.key)
                    for messages in batches.values()
                    for message in messages
                ]
                await asyncio.gather(*acks)
                await consumer.commit()
                seen += len(acks)
            return time.perf_counter() - start
        finally:
            await consumer.stop()
    finally:
        await producer.stop()


def configure_stack() -> None:
    test_stack.TEST_ENV.update(
        TIDINGS_LOG_LEVEL="WARNING",
        TIDINGS_VERIFY_RUNNERS=str(RUNNERS),
        # One tenant submits every job, so its cap is the runner count.
        TIDINGS_VERIFY_TENANT_MAX_CONCURRENT_JOBS=str(RUNNERS),
        TIDINGS_VERIFY_TENANT_MAX_CONCURRENT_CALLS=str(2 * RUNNERS),
        TIDINGS_VERIFY_WEB_SEARCH__RATE_PER_SECOND="100000",
        TIDINGS_VERIFY_REGISTRY__RATE_PER_SECOND="100000",
        TIDINGS_VERIFY_WEB_SEARCH__RATE_BURST="1000",
        TIDINGS_VERIFY_REGISTRY__RATE_BURST="1000",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000, help="Jobs per run.")
    parser.add_argument("--repeat", type=int, default=2, help="Runs of each side.")
    args = parser.parse_args()

    configure_stack()
    provider = ProviderServer(test_stack.PROVIDER_PORT)
    provider.start()
    stack = test_stack.start_stack()
    try:
        pipeline = [pipeline_run(stack, args.jobs) for _ in range(args.repeat)]
        raw = [
            asyncio.run(raw_loop(stack.kafka_bootstrap, args.jobs))
            for _ in range(args.repeat)
        ]
    finally:
        test_stack.stop_stack(stack.process)
        provider.stop()

    jobs_per_s = statistics.median(args.jobs / seconds for seconds in pipeline)
    raw_per_s = statistics.median(args.jobs / seconds for seconds in raw)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(f"jobs per run: {args.jobs}, checks: {', '.join(CHECKS)}, runners: {RUNNERS}")
    print("| measure | per second | ratio to raw |")
    print("| --- | --- | --- |")
    ratio = jobs_per_s / raw_per_s
    print(f"| verification jobs, end to end | {jobs_per_s:.1f} | {ratio:.3f} |")
    print(f"| raw aiokafka consume-and-produce records | {raw_per_s:.1f} | 1 |")
    for number, (seconds, raw_seconds) in enumerate(zip(pipeline, raw, strict=True), 1):
        print(f"run {number}: pipeline {seconds:.1f} s, raw loop {raw_seconds:.2f} s")


if __name__ == "__main__":
    main()
