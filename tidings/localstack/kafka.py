"""A single-node Apache Kafka broker in KRaft mode, run from Maven-resolved jars.

The jars are resolved once by `compose/kafka-pom.xml` into a cache folder
outside the checkout; the broker's log lives under DATA_DIR/kafka.
"""

import base64
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import structlog

from connectors.kafka_admin import broker_reachable
from tidings.settings import Settings

log = structlog.get_logger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_POM = REPO_ROOT / "compose" / "kafka-pom.xml"
LOG4J_CONFIG = REPO_ROOT / "compose" / "kafka-log4j2.properties"


class LocalStackError(RuntimeError):
    """A part of the local stack could not be installed or started."""


def _require_tool(name: str, purpose: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise LocalStackError(
            f"`{name}` was not found on PATH; it is needed to {purpose}. Install "
            "Java 17+ and Maven (Debian: `apt-get install openjdk-17-jre-headless "
            "maven`), or set TIDINGS_KAFKA_BOOTSTRAP to use an existing cluster."
        )
    return path


def _pom_version() -> str:
    # The cache folder is named after the pom's content, so a version bump in
    # the pom resolves a fresh set of jars.
    import hashlib

    return hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()[:12]


def resolve_kafka_jars(settings: Settings) -> Path:
    """Copy the broker's jars into the cache (once) and return their folder."""
    libs = settings.kafka_cache_dir / _pom_version() / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs

    mvn = _require_tool("mvn", "download the Kafka broker's jars")
    log.info("kafka_jars_resolving", folder=str(libs))
    libs.mkdir(parents=True, exist_ok=True)
    command = [
        mvn,
        "--batch-mode",
        "--quiet",
        "-f",
        str(KAFKA_POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={libs}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise LocalStackError(
            f"Maven could not resolve the Kafka jars (exit {result.returncode}):\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    marker.touch()
    return libs


def _server_properties(settings: Settings, log_dir: Path) -> str:
    controller = settings.kafka_controller_port
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller}",
            f"listeners=PLAINTEXT://127.0.0.1:{settings.kafka_port},"
            f"CONTROLLER://127.0.0.1:{controller}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{settings.kafka_port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={log_dir}",
            "num.partitions=1",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            # Topics are created from the registry, never by a typo in a client.
            "auto.create.topics.enable=false",
            "",
        ]
    )


class KafkaBroker:
    """Owns the broker's JVM process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.data_dir / "kafka"
        self.process: subprocess.Popen[bytes] | None = None

    def _java_command(self, libs: Path, main: str, *args: str) -> list[str]:
        java = _require_tool("java", "run the local Kafka broker")
        return [
            java,
            f"-Xmx{self.settings.kafka_heap}",
            f"-Xms{self.settings.kafka_heap}",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            f"-Dkafka.logs.dir={self.root / 'logs'}",
            "-cp",
            f"{libs}/*",
            main,
            *args,
        ]

    def _format_storage(self, libs: Path, config: Path, log_dir: Path) -> None:
        if (log_dir / "meta.properties").exists():
            return

        cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # "--cluster-id=" keeps an id that starts with "-" from reading as an
        # option.
        command = self._java_command(
            libs,
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={cluster}",
            "-c",
            str(config),
        )
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise LocalStackError(
                f"cannot format the Kafka log folder: {result.stderr}"
            )

    def start(self, timeout: float = 60.0) -> None:
        bootstrap = self.settings.local_kafka_bootstrap
        if broker_reachable(bootstrap, timeout=1.0):
            raise LocalStackError(
                f"something already listens on {bootstrap}; stop it, or set "
                "TIDINGS_KAFKA_PORT to a free port, or TIDINGS_KAFKA_BOOTSTRAP to "
                "use it"
            )

        libs = resolve_kafka_jars(self.settings)
        log_dir = self.root / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        config = self.root / "server.properties"
        config.write_text(_server_properties(self.settings, log_dir))
        self._format_storage(libs, config, log_dir)

        output = open(self.root / "broker.out", "ab")
        self.process = subprocess.Popen(
            self._java_command(libs, "kafka.Kafka", str(config)),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.info("kafka_starting", bootstrap=bootstrap, pid=self.process.pid)

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalStackError(
                    f"the Kafka broker exited with {self.process.returncode}; "
                    f"see {self.root / 'broker.out'}"
                )
            if broker_reachable(bootstrap, timeout=1.0):
                log.info("kafka_ready", bootstrap=bootstrap)
                return
            time.sleep(0.5)
        self.stop()
        raise LocalStackError(
            f"the Kafka broker did not respond on {bootstrap} in {timeout}s"
        )

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        log.info("kafka_stopped")
