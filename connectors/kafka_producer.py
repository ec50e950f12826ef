"""Idempotent Kafka producer (confluent-kafka) with awaitable delivery.

`publish` returns only after the broker acknowledged the record with acks=all,
which is what lets the API return 202 and the workers commit their input.
"""

import asyncio
import threading

import structlog
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from connectors.errors import ConnectorError
from schemas.envelope import CloudEvent
from schemas.topics import TopicSpec

log = structlog.get_logger(__name__)


class KafkaUnavailableError(ConnectorError):
    """The broker did not acknowledge a record in time."""


class EventProducer:
    """Wraps one confluent-kafka Producer and a thread that serves its callbacks."""

    def __init__(self, bootstrap: str, *, delivery_timeout_ms: int = 15000) -> None:
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "delivery.timeout.ms": delivery_timeout_ms,
                "request.timeout.ms": min(delivery_timeout_ms, 10000),
                "message.max.bytes": 1_000_000,
            }
        )
        self._closed = threading.Event()
        self._poller = threading.Thread(
            target=self._poll_forever, name="kafka-producer-poll", daemon=True
        )
        self._poller.start()

    def _poll_forever(self) -> None:
        while not self._closed.is_set():
            self._producer.poll(0.1)

    async def publish(
        self, topic: TopicSpec | str, key: str, event: CloudEvent
    ) -> None:
        """Send one event and wait for the broker's acknowledgement."""
        name = topic if isinstance(topic, str) else topic.name
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future[Message] = loop.create_future()

        def on_delivery(error: KafkaError | None, message: Message) -> None:
            if delivered.done():
                return
            if error is not None:
                failure = KafkaUnavailableError(
                    f"Kafka did not acknowledge the event on {name}: {error.str()}"
                )
                loop.call_soon_threadsafe(delivered.set_exception, failure)
            else:
                loop.call_soon_threadsafe(delivered.set_result, message)

        try:
            self._producer.produce(
                name,
                key=key.encode(),
                value=event.to_value(),
                headers=event.to_headers(),
                on_delivery=on_delivery,
            )
        except (KafkaException, BufferError) as exc:
            raise KafkaUnavailableError(
                f"cannot queue the event on {name}: {exc}"
            ) from exc

        message = await delivered
        log.debug(
            "event_published",
            topic=name,
            partition=message.partition(),
            offset=message.offset(),
            event_type=event.type,
            tenant_id=event.tenantid,
            trace_id=event.trace_id,
        )

    async def publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        """Send a record as it is (used for dead-letter topics)."""
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future[None] = loop.create_future()

        def on_delivery(error: KafkaError | None, message: Message) -> None:
            if error is not None:
                failure = KafkaUnavailableError(
                    f"Kafka rejected a record on {topic}: {error.str()}"
                )
                loop.call_soon_threadsafe(delivered.set_exception, failure)
            else:
                loop.call_soon_threadsafe(delivered.set_result, None)

        try:
            self._producer.produce(
                topic, key=key, value=value, headers=headers, on_delivery=on_delivery
            )
        except (KafkaException, BufferError) as exc:
            raise KafkaUnavailableError(
                f"cannot queue a record on {topic}: {exc}"
            ) from exc
        await delivered

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
        self._closed.set()
        self._poller.join(timeout=1.0)
