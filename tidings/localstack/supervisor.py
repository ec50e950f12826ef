"""`tidings run`: the whole platform on one machine, in the foreground.

Starts Kafka and Postgres (unless settings point at existing ones), applies
migrations, creates topics and the local tenant, then runs the API and a
worker as child processes and restarts a child that dies. Ctrl-C stops
everything in reverse order.
"""

import fcntl
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx
import psycopg
import structlog
from cryptography.fernet import Fernet

from connectors.kafka_admin import ensure_topics
from connectors.postgres import apply_migrations
from tidings.localstack.kafka import KafkaBroker, LocalStackError
from tidings.localstack.postgres import EmbeddedPostgres
from tidings.settings import Settings
from tidings.tenants import ensure_local_tenant

log = structlog.get_logger(__name__)

LOCAL_TENANT = "demo"
RESTART_BACKOFF_SECONDS = (1, 2, 5, 10, 30)


def local_key_file(settings: Settings) -> "os.PathLike[str]":
    return settings.keys_dir / f"{LOCAL_TENANT}.key"


def ensure_secret_key(settings: Settings) -> None:
    if settings.secret_key is not None:
        return
    path = settings.keys_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def pid_file_name(self) -> str:
        return f"{self.name}.pid"


class Supervisor:
    def __init__(self, settings: Settings, workers: int = 1) -> None:
        self.settings = settings
        self.broker: KafkaBroker | None = None
        self.postgres: EmbeddedPostgres | None = None
        self.stopping = False
        python = sys.executable
        self.children = [Child("api", [python, "-m", "tidings", "api"])]
        for number in range(1, workers + 1):
            self.children.append(
                Child(
                    f"worker-{number}",
                    [python, "-m", "tidings", "worker"],
                    extra_env={"TIDINGS_WORKER_ID": f"worker-{number}"},
                )
            )
        self.run_dir = settings.data_dir / "run"

    def _child_env(self, child: Child, database_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env["TIDINGS_DATA_DIR"] = str(self.settings.data_dir)
        env["TIDINGS_KAFKA_BOOTSTRAP"] = self.settings.resolved_kafka_bootstrap()
        env["TIDINGS_DATABASE_URL"] = database_url
        env.update(child.extra_env)
        return env

    def _lock_data_dir(self) -> None:
        """Hold an exclusive lock on the data folder while the stack runs.

        Two stacks on one folder would run two brokers on one Kafka log and
        corrupt it. The lock is released when this process exits.
        """
        path = self.settings.data_dir / ".lock"
        self._lock_file = open(path, "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LocalStackError(
                f"another `tidings run` already uses {self.settings.data_dir}; stop "
                "it, or set TIDINGS_DATA_DIR to another folder"
            ) from exc

    def start_services(self) -> str:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_data_dir()
        self.run_dir.mkdir(exist_ok=True)
        ensure_secret_key(settings)

        if settings.kafka_bootstrap is None:
            self.broker = KafkaBroker(settings)
            self.broker.start()
        if settings.database_url is None:
            self.postgres = EmbeddedPostgres(settings)
            database_url = self.postgres.start()
        else:
            database_url = settings.database_url

        apply_migrations(database_url)
        ensure_topics(
            settings.resolved_kafka_bootstrap(),
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
        )
        with psycopg.connect(database_url) as conn:
            self.api_key = ensure_local_tenant(
                conn, LOCAL_TENANT, local_key_file(settings)
            )
        return database_url

    def _spawn(self, child: Child, database_url: str) -> None:
        log_path = self.run_dir / f"{child.name}.log"
        output = open(log_path, "ab")
        child.process = subprocess.Popen(
            child.command,
            env=self._child_env(child, database_url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        (self.run_dir / child.pid_file_name).write_text(str(child.process.pid))
        log.info(
            "child_started", child=child.name, pid=child.process.pid, log=str(log_path)
        )

    def _wait_ready(self, timeout: float = 180.0) -> bool:
        url = f"{self.settings.base_api_url}/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            try:
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            self._restart_dead_children()
            time.sleep(0.5)
        return False

    def _restart_dead_children(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is None or child.process.poll() is None:
                continue
            if child.next_start == 0.0:
                delay = RESTART_BACKOFF_SECONDS[
                    min(child.restarts, len(RESTART_BACKOFF_SECONDS) - 1)
                ]
                child.next_start = now + delay
                log.warning(
                    "child_exited",
                    child=child.name,
                    exit_code=child.process.returncode,
                    restart_in_seconds=delay,
                )
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                self._spawn(child, self.database_url)

    def run(self) -> int:
        # SIGHUP too: closing the terminal must stop the broker and Postgres,
        # which run in sessions of their own.
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        try:
            self.database_url = self.start_services()
            for child in self.children:
                self._spawn(child, self.database_url)
            if not self._wait_ready():
                if not self.stopping:
                    log.error("platform_not_ready", logs=str(self.run_dir))
                    return 1
                return 0
            self._announce()
            while not self.stopping:
                self._restart_dead_children()
                time.sleep(0.5)
            return 0
        finally:
            self.shutdown()

    def _announce(self) -> None:
        print(
            "\nTidings is ready.\n"
            f"  API:         {self.settings.base_api_url}  (docs at /docs)\n"
            f"  API key:     {self.api_key}  (tenant '{LOCAL_TENANT}')\n"
            f"  Kafka:       {self.settings.resolved_kafka_bootstrap()}\n"
            f"  Data folder: {self.settings.data_dir}\n"
            f"  Logs:        {self.run_dir}\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        self.stopping = True
        for child in reversed(self.children):
            if child.process is not None and child.process.poll() is None:
                child.process.terminate()
        for child in reversed(self.children):
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            (self.run_dir / child.pid_file_name).unlink(missing_ok=True)
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()
        log.info("platform_stopped")
