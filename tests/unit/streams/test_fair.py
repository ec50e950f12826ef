"""The fair dispatcher: round-robin across tenants, FIFO within one."""

import asyncio

import pytest

from streams.fair import FairDispatcher, tenant_of


def recorder(log: list[str], label: str, gate: asyncio.Event | None = None):
    async def job() -> None:
        if gate is not None:
            await gate.wait()
        log.append(label)

    return job


async def drain(dispatcher: FairDispatcher) -> None:
    while dispatcher.buffered:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.01)


async def test_tenants_take_turns() -> None:
    done: list[str] = []
    dispatcher = FairDispatcher("test", workers=1, max_buffered=100)
    for number in range(3):
        await dispatcher.submit("a", recorder(done, f"a{number}"))
    await dispatcher.submit("b", recorder(done, "b0"))
    await dispatcher.submit("c", recorder(done, "c0"))

    async with dispatcher.running():
        await drain(dispatcher)

    assert done == ["a0", "b0", "c0", "a1", "a2"]


async def test_one_tenant_runs_in_order() -> None:
    done: list[str] = []
    dispatcher = FairDispatcher("test", workers=4, max_buffered=100)
    async with dispatcher.running():
        for number in range(20):
            await dispatcher.submit("a", recorder(done, f"a{number}"))
        await drain(dispatcher)

    assert done == [f"a{number}" for number in range(20)]


async def test_busy_tenant_leaves_worker_free() -> None:
    done: list[str] = []
    gate = asyncio.Event()
    dispatcher = FairDispatcher("test", workers=2, max_buffered=100)
    async with dispatcher.running():
        await dispatcher.submit("a", recorder(done, "a-large", gate))
        await dispatcher.submit("a", recorder(done, "a-next"))
        await dispatcher.submit("b", recorder(done, "b0"))
        await asyncio.sleep(0.05)

        assert done == ["b0"]

        gate.set()
        await drain(dispatcher)

    assert done == ["b0", "a-large", "a-next"]


async def test_submit_waits_for_room() -> None:
    gate = asyncio.Event()
    done: list[str] = []
    dispatcher = FairDispatcher("test", workers=1, max_buffered=2)
    async with dispatcher.running():
        await dispatcher.submit("a", recorder(done, "a0", gate))
        await dispatcher.submit("a", recorder(done, "a1"))
        third = asyncio.create_task(dispatcher.submit("a", recorder(done, "a2")))
        await asyncio.sleep(0.05)

        assert not third.done()

        gate.set()
        await third
        await drain(dispatcher)

    assert done == ["a0", "a1", "a2"]


async def test_failed_job_does_not_stop_workers() -> None:
    done: list[str] = []

    async def broken() -> None:
        raise RuntimeError("handler bug")

    dispatcher = FairDispatcher("test", workers=1, max_buffered=10)
    async with dispatcher.running():
        await dispatcher.submit("a", broken)
        await dispatcher.submit("a", recorder(done, "a1"))
        await drain(dispatcher)

    assert done == ["a1"]


def test_invalid_sizes_rejected() -> None:
    with pytest.raises(ValueError, match="must be at least 1"):
        FairDispatcher("test", workers=0, max_buffered=10)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("ce_tenantid", b"tnt_a"), ("ce_type", b"x")], "tnt_a"),
        ({"ce_tenantid": b"tnt_b"}, "tnt_b"),
        ({"ce_tenantid": "tnt_c"}, "tnt_c"),
        ([("ce_type", b"x")], ""),
        (None, ""),
    ],
)
def test_tenant_of_headers(headers, expected: str) -> None:
    assert tenant_of(headers) == expected
