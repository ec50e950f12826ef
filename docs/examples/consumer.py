"""A minimal downstream consumer of Tidings events, with confluent-kafka.

Run it with `python docs/examples/consumer.py`; the environment variables
KAFKA_BOOTSTRAP, GROUP_ID and TOPICS (comma-separated) choose what it reads.
"""

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message

Event = dict[str, Any]


def decode(message: Message) -> Event:
    """Return the CloudEvent: attributes from the ce_* headers, data from the value."""
    event: Event = {
        name.removeprefix("ce_"): value.decode()
        for name, value in message.headers() or []
        if name.startswith("ce_") and value is not None
    }
    event["data"] = json.loads(message.value() or b"null")
    return event


def consume(
    bootstrap: str,
    group_id: str,
    topics: list[str],
    handle: Callable[[Event], None],
    *,
    stop_when_idle: float | None = None,
) -> int:
    """Hand each event to `handle`; return how many were handled.

    An offset is stored only after `handle` returns, and stored offsets are
    committed every 5 s and on close, so an event is handled at least once.
    With `stop_when_idle`, return after that many seconds without an event.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group_id,
            "auto.offset.reset": "earliest",  # a new group starts at the oldest event
            "enable.auto.offset.store": False,  # store after handling, below
            "partition.assignment.strategy": "cooperative-sticky",
        }
    )
    consumer.subscribe(topics)
    handled = 0
    last_event = time.monotonic()
    try:
        while stop_when_idle is None or time.monotonic() - last_event < stop_when_idle:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                raise KafkaException(message.error())
            last_event = time.monotonic()
            try:
                event = decode(message)
            except (UnicodeDecodeError, ValueError) as exc:
                # Skip a record that is not a Tidings event instead of stopping.
                print(
                    f"skipped {message.topic()}@{message.offset()}: {exc}",
                    file=sys.stderr,
                )
            else:
                handle(event)
                handled += 1
            consumer.store_offsets(message=message)
    finally:
        consumer.close()  # commits the stored offsets
    return handled


def main() -> None:
    seen: set[str] = set()

    def print_event(event: Event) -> None:
        if event["id"] in seen:  # at least once: the same event can come twice
            return
        seen.add(event["id"])
        print(event["type"], event["tenantid"], event["subject"], event["data"])

    consume(
        os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        os.environ.get("GROUP_ID", "analytics.document-dashboard"),
        os.environ.get("TOPICS", "tidings.document.indexed.v1").split(","),
        print_event,
    )


if __name__ == "__main__":
    main()
