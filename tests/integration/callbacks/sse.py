"""A small server-sent events reader for tests."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class SseEvent:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


async def parse_events(lines: AsyncIterator[str]) -> AsyncIterator[SseEvent]:
    """Yield events from SSE lines; comment lines (heartbeats) are skipped."""
    fields: dict[str, list[str]] = {}
    async for line in lines:
        if line == "":
            if fields:
                yield SseEvent(
                    id=fields.get("id", [None])[-1],
                    event=fields.get("event", [None])[-1],
                    data="\n".join(fields.get("data", [])),
                )
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name, []).append(value.removeprefix(" "))


def from_pipeline(event: SseEvent) -> bool:
    """Tell whether Tidings itself published the event.

    The worker runs the jobs of the requested events that these tests
    publish, and its checked and completed events reach the stream too.
    """
    try:
        source = event.json().get("source", "")
    except (ValueError, AttributeError):
        return False
    return isinstance(source, str) and source.startswith("tidings/")


class EventStream:
    """An open `GET /v1/events` response, read event by event. Events that
    Tidings published are skipped, so a test reads only its own events."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._events = parse_events(response.aiter_lines())

    async def _next_published(self) -> SseEvent:
        while True:
            event = await anext(self._events)
            if not from_pipeline(event):
                return event

    async def next(self, timeout: float = 30.0) -> SseEvent:
        return await asyncio.wait_for(self._next_published(), timeout)

    async def take(self, count: int, timeout: float = 30.0) -> list[SseEvent]:
        return [await self.next(timeout) for _ in range(count)]
