"""Live verification events for `GET /v1/events`, fanned out per tenant.

Each API process runs one Kafka consumer without a consumer group: it is
assigned every partition of the verification topics, starts at their end,
and commits no offsets, so API processes never share or steal partitions.
Every event goes to the subscribers of its tenant (the `ce_tenantid`
header) and into a short per-tenant buffer that lets a client reconnecting
with `Last-Event-ID` get what it missed from the same process.

A subscriber whose queue fills up (a client that reads too slowly) is
dropped with an overflow marker instead of slowing the consumer, so one
slow client cannot delay another tenant's events.
"""

import asyncio
import contextlib
from collections import OrderedDict, deque
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from schemas import topics
from schemas.envelope import CloudEvent, EnvelopeError, from_record

log = structlog.get_logger(__name__)

EVENT_TOPICS = (
    topics.VERIFICATION_REQUESTED,
    topics.VERIFICATION_CHECKED,
    topics.VERIFICATION_COMPLETED,
    topics.VERIFICATION_CALLBACK_ATTEMPTED,
)
SUBSCRIBER_QUEUE_SIZE = 1000
# NOTE: bounds the replay buffers' memory; the least recently active
# tenant's buffer is dropped first, and its clients get a resync event.
MAX_BUFFERED_TENANTS = 10_000
RESTART_BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0)


class Overflow:
    """Queue marker: the subscriber fell too far behind and was dropped."""


OVERFLOW = Overflow()


@dataclass(eq=False)
class Subscription:
    """One client's stream: events after `replay` arrive on `queue`.

    `resume_failed` is set when the client asked to resume after an event
    that this process no longer has, so it may have missed events.
    """

    tenant_id: str
    job_id: str | None
    queue: asyncio.Queue[CloudEvent | Overflow]
    replay: list[CloudEvent] = field(default_factory=list)
    resume_failed: bool = False

    def wants(self, event: CloudEvent) -> bool:
        return self.job_id is None or event.data.get("job_id") == self.job_id


class EventHub:
    """Consumes the verification topics and hands events to subscribers."""

    def __init__(self, bootstrap: str, *, replay_per_tenant: int) -> None:
        self._bootstrap = bootstrap
        self._replay_per_tenant = replay_per_tenant
        self._subscribers: dict[str, set[Subscription]] = {}
        self._recent: OrderedDict[str, deque[CloudEvent]] = OrderedDict()
        # Next offset per partition, so a restarted consumer goes on where
        # the last one stopped instead of skipping to the end.
        self._positions: dict[TopicPartition, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(
        self, tenant_id: str, job_id: str | None, last_event_id: str | None
    ) -> Subscription:
        """Register a subscriber; with `last_event_id`, fill its replay first.

        Registration and the replay snapshot happen in one step of the event
        loop, so no event falls between them or arrives twice.
        """
        subscription = Subscription(
            tenant_id=tenant_id,
            job_id=job_id,
            queue=asyncio.Queue(maxsize=SUBSCRIBER_QUEUE_SIZE),
        )
        if last_event_id is not None:
            recent = list(self._recent.get(tenant_id, ()))
            ids = [event.id for event in recent]
            if last_event_id in ids:
                after = recent[ids.index(last_event_id) + 1 :]
                subscription.replay = [e for e in after if subscription.wants(e)]
            else:
                subscription.resume_failed = True
        self._subscribers.setdefault(tenant_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        tenant_subscribers = self._subscribers.get(subscription.tenant_id)
        if tenant_subscribers is None:
            return
        tenant_subscribers.discard(subscription)
        if not tenant_subscribers:
            del self._subscribers[subscription.tenant_id]

    def dispatch(self, event: CloudEvent) -> None:
        """Buffer an event for its tenant and queue it for each subscriber."""
        self._remember(event)
        for subscription in list(self._subscribers.get(event.tenantid, ())):
            if not subscription.wants(event):
                continue
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._drop_slow(subscription)

    def _remember(self, event: CloudEvent) -> None:
        if self._replay_per_tenant == 0:
            return
        recent = self._recent.get(event.tenantid)
        if recent is None:
            recent = deque(maxlen=self._replay_per_tenant)
            self._recent[event.tenantid] = recent
            if len(self._recent) > MAX_BUFFERED_TENANTS:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(event.tenantid)
        recent.append(event)

    def _drop_slow(self, subscription: Subscription) -> None:
        log.warning(
            "event_subscriber_dropped",
            tenant_id=subscription.tenant_id,
            queued=subscription.queue.qsize(),
        )
        self.unsubscribe(subscription)
        while not subscription.queue.empty():
            subscription.queue.get_nowait()
        subscription.queue.put_nowait(OVERFLOW)

    async def _run(self) -> None:
        failures = 0
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                client_id="tidings-api-events",
            )
            try:
                await consumer.start()
                await self._assign(consumer)
                self.ready.set()
                failures = 0
                log.info("event_hub_started", topics=[s.name for s in EVENT_TOPICS])
                await self._consume(consumer)
            except KafkaError as exc:
                delay = RESTART_BACKOFF_SECONDS[
                    min(failures, len(RESTART_BACKOFF_SECONDS) - 1)
                ]
                failures += 1
                log.warning("event_hub_restarting", error=str(exc), delay=delay)
                await asyncio.sleep(delay)
            finally:
                await consumer.stop()

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        # Without a group, aiokafka assigns every partition of the subscribed
        # topics, and partitions added later when its metadata refreshes.
        consumer.subscribe([spec.name for spec in EVENT_TOPICS])
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        partitions = consumer.assignment()
        # Resolve the end offsets now rather than at the first fetch, so an
        # event published after `ready` is set is never skipped.
        fresh = [tp for tp in partitions if tp not in self._positions]
        if fresh:
            await consumer.seek_to_end(*fresh)
        for tp in partitions:
            if tp in self._positions:
                consumer.seek(tp, self._positions[tp])

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            records: list[ConsumerRecord] = [
                record for batch in batches.values() for record in batch
            ]
            # Kafka orders records per partition only; one job's events sit
            # on four topics, so order the fetched batch by record time.
            records.sort(key=lambda record: record.timestamp)
            for record in records:
                tp = TopicPartition(record.topic, record.partition)
                self._positions[tp] = record.offset + 1
                self._dispatch_record(record)

    def _dispatch_record(self, record: ConsumerRecord) -> None:
        try:
            event = from_record(list(record.headers or ()), record.value)
        except EnvelopeError as exc:
            log.warning(
                "event_not_streamed",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error=str(exc),
            )
            return
        self.dispatch(event)
