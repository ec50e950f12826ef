"""Topic creation from the registry and broker reachability checks."""

import structlog
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from connectors.errors import ConnectorError
from schemas.topics import TOPICS

log = structlog.get_logger(__name__)


class TopicSetupError(ConnectorError):
    """Topics could not be listed or created."""


def _admin(bootstrap: str, quiet: bool = False) -> AdminClient:
    config = {"bootstrap.servers": bootstrap}
    if quiet:
        # Polling a broker that is still starting makes librdkafka print a
        # line per refused connection; the caller reports the outcome.
        config["log_level"] = 0
    return AdminClient(config)


def ensure_topics(
    bootstrap: str, *, partitions: int, replication: int, timeout: float = 30.0
) -> list[str]:
    """Create every registry topic and its dead-letter topic that is missing.

    Idempotent: existing topics are left as they are. Returns the created names.
    """
    admin = _admin(bootstrap)
    try:
        existing = set(admin.list_topics(timeout=timeout).topics)
    except KafkaException as exc:
        raise TopicSetupError(f"cannot list topics on {bootstrap}: {exc}") from exc

    missing = []
    for spec in TOPICS:
        config = {
            "retention.ms": str(spec.retention_ms),
            "cleanup.policy": spec.cleanup_policy,
        }
        for name in (spec.name, spec.dlq):
            if name not in existing:
                count = spec.partitions or partitions
                missing.append(NewTopic(name, count, replication, config=config))
    if not missing:
        return []

    created = []
    for name, future in admin.create_topics(missing, request_timeout=timeout).items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            # Another process may create the same topic at the same moment.
            if exc.args[0].code() != exc.args[0].TOPIC_ALREADY_EXISTS:
                raise TopicSetupError(f"cannot create topic {name}: {exc}") from exc
    log.info("topics_created", topics=created, bootstrap=bootstrap)
    return created


def broker_reachable(bootstrap: str, timeout: float = 3.0) -> bool:
    try:
        _admin(bootstrap, quiet=True).list_topics(timeout=timeout)
    except KafkaException:
        return False
    return True
