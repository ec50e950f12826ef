"""EventHub fan-out without Kafka: tenants, job filter, replay and slow clients."""

import asyncio

from api.event_hub import OVERFLOW, SUBSCRIBER_QUEUE_SIZE, EventHub
from schemas.envelope import CloudEvent


def event(tenant_id: str, job_id: str) -> CloudEvent:
    return CloudEvent(
        type="dev.tidings.verification.checked.v1",
        source="tests",
        subject=job_id,
        tenantid=tenant_id,
        data={"job_id": job_id},
    )


def drain(queue: asyncio.Queue) -> list:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def test_events_reach_own_tenant_only() -> None:
    hub = EventHub("127.0.0.1:1", replay_per_tenant=10)
    mine = hub.subscribe("tenant-a", None, None)
    theirs = hub.subscribe("tenant-b", None, None)
    sent = event("tenant-a", "job-1")

    hub.dispatch(sent)

    assert drain(mine.queue) == [sent]
    assert drain(theirs.queue) == []


def test_job_filter_applies() -> None:
    hub = EventHub("127.0.0.1:1", replay_per_tenant=10)
    subscription = hub.subscribe("tenant-a", "job-2", None)
    expected = event("tenant-a", "job-2")

    hub.dispatch(event("tenant-a", "job-1"))
    hub.dispatch(expected)

    assert drain(subscription.queue) == [expected]


def test_resume_replays_after_id() -> None:
    hub = EventHub("127.0.0.1:1", replay_per_tenant=10)
    events = [event("tenant-a", f"job-{n}") for n in range(4)]
    for sent in events:
        hub.dispatch(sent)
    hub.dispatch(event("tenant-b", "job-x"))

    subscription = hub.subscribe("tenant-a", None, events[1].id)

    assert subscription.replay == events[2:]
    assert not subscription.resume_failed


def test_resume_unknown_id_fails() -> None:
    hub = EventHub("127.0.0.1:1", replay_per_tenant=2)
    events = [event("tenant-a", f"job-{n}") for n in range(3)]
    for sent in events:
        hub.dispatch(sent)

    # The buffer keeps two events, so the first one was dropped.
    subscription = hub.subscribe("tenant-a", None, events[0].id)

    assert subscription.resume_failed
    assert subscription.replay == []


def test_resume_other_tenants_id_fails() -> None:
    hub = EventHub("127.0.0.1:1", replay_per_tenant=10)
    foreign = event("tenant-b", "job-x")
    hub.dispatch(foreign)
    hub.dispatch(event("tenant-a", "job-1"))

    subscription = hub.subscribe("tenant-a", None, foreign.id)

    assert subscription.resume_failed
    assert subscription.replay == []


def test_slow_subscriber_dropped() -> None:
    hub = EventHub("127.0.0.1:1", replay_per_tenant=0)
    slow = hub.subscribe("tenant-a", None, None)
    other = hub.subscribe("tenant-a", None, None)

    for number in range(SUBSCRIBER_QUEUE_SIZE + 1):
        hub.dispatch(event("tenant-a", f"job-{number}"))
        if number % 10 == 0:
            drain(other.queue)
    after = event("tenant-a", "job-late")
    hub.dispatch(after)

    assert drain(slow.queue) == [OVERFLOW]
    assert drain(other.queue)[-1] == after


def test_unsubscribe_stops_events() -> None:
    hub = EventHub("127.0.0.1:1", replay_per_tenant=10)
    subscription = hub.subscribe("tenant-a", None, None)

    hub.unsubscribe(subscription)
    hub.dispatch(event("tenant-a", "job-1"))

    assert drain(subscription.queue) == []
