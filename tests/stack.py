"""The test stack: `tidings run` on its own ports and data folder.

It runs the same supervisor as `make run`, so the tests exercise the real
broker, Postgres, API and worker processes, and can run beside a `make run`.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from tidings.tenants import create_tenant

REPO_ROOT = Path(__file__).resolve().parents[1]

TEST_ENV = {
    "TIDINGS_DATA_DIR": os.environ.get(
        "TIDINGS_TEST_DATA_DIR", str(REPO_ROOT / "var" / "test")
    ),
    "TIDINGS_KAFKA_PORT": os.environ.get("TIDINGS_TEST_KAFKA_PORT", "19092"),
    "TIDINGS_KAFKA_CONTROLLER_PORT": os.environ.get(
        "TIDINGS_TEST_KAFKA_CONTROLLER_PORT", "19093"
    ),
    "TIDINGS_API_PORT": os.environ.get("TIDINGS_TEST_API_PORT", "18000"),
    "TIDINGS_TOPIC_PARTITIONS": "2",
    "TIDINGS_MAX_UPLOAD_BYTES": str(3 * 1024 * 1024),
    "TIDINGS_MAX_REQUEST_BYTES": str(8 * 1024 * 1024),
    "TIDINGS_MAX_PDF_PAGES": "1000",
    "TIDINGS_PARSE_TIMEOUT_SECONDS": "60",
    "TIDINGS_LOG_FORMAT": "json",
    "TIDINGS_LOG_LEVEL": "INFO",
    # A tenant above 300 products gets its own HNSW index within seconds.
    "TIDINGS_CATALOG_EXACT_SCAN_MAX_ROWS": "300",
    # Small enough that the vector isolation test gives a tenant an index.
    "TIDINGS_SEARCH_EXACT_SCAN_MAX_CHUNKS": "1000",
    "TIDINGS_CATALOG_INDEX_CHECK_SECONDS": "2",
    # Webhook receivers run on 127.0.0.1, and the retry schedule is seconds
    # instead of hours.
    "TIDINGS_VERIFY_URL_ALLOW_NETWORKS": '["127.0.0.0/8"]',
    "TIDINGS_VERIFY_WEBHOOK_MAX_ATTEMPTS": "4",
    "TIDINGS_VERIFY_WEBHOOK_BACKOFF_BASE_SECONDS": "0.3",
    "TIDINGS_VERIFY_WEBHOOK_BACKOFF_MAX_SECONDS": "1",
    "TIDINGS_VERIFY_WEBHOOK_RETRY_AFTER_MAX_SECONDS": "3",
    "TIDINGS_VERIFY_WEBHOOK_TIMEOUT_SECONDS": "2",
    "TIDINGS_VERIFY_WEBHOOK_POLL_SECONDS": "0.2",
    "TIDINGS_VERIFY_WEBHOOK_LEASE_MARGIN_SECONDS": "3",
    "TIDINGS_VERIFY_EVENTS_HEARTBEAT_SECONDS": "1",
    # Crawl tests serve their sites on loopback.
    "TIDINGS_SITE_URL_ALLOW_NETWORKS": '["127.0.0.0/8"]',
    "TIDINGS_SITE_MAX_PAGE_BYTES": "1000000",
}

# The verification tests start a provider on this port (see
# tests/integration/verification/provider_server.py); until then the
# worker's provider calls are refused.
PROVIDER_PORT = int(
    os.environ.get("TIDINGS_TEST_PROVIDER_PORT", int(TEST_ENV["TIDINGS_API_PORT"]) + 11)
)
PROVIDER_URL = f"http://127.0.0.1:{PROVIDER_PORT}"
TEST_ENV |= {
    "TIDINGS_VERIFY_WEB_SEARCH__BASE_URL": PROVIDER_URL,
    "TIDINGS_VERIFY_REGISTRY__BASE_URL": PROVIDER_URL,
    "TIDINGS_VERIFY_SANCTIONS_LIST_PATH": str(
        REPO_ROOT / "tests" / "data" / "verification" / "sanctions.simple.csv"
    ),
    # Short timings let retries, timeouts and the breaker play out in
    # seconds. The breaker opens after 12 failures, which takes several
    # failing jobs, so one test's failures do not open it for the next.
    "TIDINGS_VERIFY_WEB_SEARCH__TIMEOUT_SECONDS": "1",
    "TIDINGS_VERIFY_REGISTRY__TIMEOUT_SECONDS": "1",
    "TIDINGS_VERIFY_WEB_SEARCH__BACKOFF_BASE_SECONDS": "0.2",
    "TIDINGS_VERIFY_REGISTRY__BACKOFF_BASE_SECONDS": "0.2",
    "TIDINGS_VERIFY_WEB_SEARCH__RETRY_AFTER_MAX_SECONDS": "5",
    "TIDINGS_VERIFY_REGISTRY__RETRY_AFTER_MAX_SECONDS": "5",
    "TIDINGS_VERIFY_WEB_SEARCH__BREAKER_FAILURE_THRESHOLD": "12",
    "TIDINGS_VERIFY_REGISTRY__BREAKER_FAILURE_THRESHOLD": "12",
    "TIDINGS_VERIFY_WEB_SEARCH__BREAKER_OPEN_SECONDS": "5",
    "TIDINGS_VERIFY_REGISTRY__BREAKER_OPEN_SECONDS": "5",
    "TIDINGS_VERIFY_WEB_SEARCH__RATE_PER_SECOND": "500",
    "TIDINGS_VERIFY_REGISTRY__RATE_PER_SECOND": "500",
    "TIDINGS_VERIFY_WEB_SEARCH__RATE_BURST": "100",
    "TIDINGS_VERIFY_REGISTRY__RATE_BURST": "100",
    "TIDINGS_VERIFY_JOB_DEADLINE_SECONDS": "30",
    "TIDINGS_VERIFY_JOB_LEASE_SECONDS": "15",
    "TIDINGS_VERIFY_QUEUE_POLL_SECONDS": "0.2",
}


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    data_dir: Path
    api_url: str
    api_key: str
    database_url: str
    kafka_bootstrap: str

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    def worker_pid(self) -> int:
        return int((self.run_dir / "worker-1.pid").read_text())

    def logs(self) -> str:
        parts = []
        for path in sorted(self.run_dir.glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text()[-4000:]}")
        return "\n".join(parts)


def start_stack(timeout: float = 420.0) -> Stack:
    """Start the stack from an empty data folder and wait until it is ready."""
    data_dir = Path(TEST_ENV["TIDINGS_DATA_DIR"])
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)

    env = {**os.environ, **TEST_ENV}
    for name in ("TIDINGS_KAFKA_BOOTSTRAP", "TIDINGS_DATABASE_URL", "TIDINGS_API_KEY"):
        env.pop(name, None)
    output = open(data_dir / "supervisor.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )

    api_url = f"http://127.0.0.1:{TEST_ENV['TIDINGS_API_PORT']}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (data_dir / "supervisor.log").read_text()[-5000:]
            raise RuntimeError(f"the test stack exited early:\n{log}")
        try:
            if httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    else:
        stop_stack(process)
        raise RuntimeError(f"the test stack was not ready within {timeout}s")

    return Stack(
        process=process,
        data_dir=data_dir,
        api_url=api_url,
        api_key=(data_dir / "keys" / "demo.key").read_text().strip(),
        database_url=(data_dir / "postgres.url").read_text().strip(),
        kafka_bootstrap=f"127.0.0.1:{TEST_ENV['TIDINGS_KAFKA_PORT']}",
    )


def stop_stack(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def fresh_tenant(stack: Stack, prefix: str = "t") -> Iterator[httpx.Client]:
    """Yield an API client of a new tenant that owns nothing yet."""
    with psycopg.connect(stack.database_url) as conn:
        _, key = create_tenant(conn, f"{prefix}-{uuid.uuid4().hex[:10]}")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=60) as client:
        yield client
