"""Helpers of the crawl tests: start a crawl and wait until it settled."""

import time
from typing import Any

import httpx


def wait_settled(api: httpx.Client, crawl_id: str, timeout: float = 300) -> dict:
    """Poll the crawl until it ended and its changed pages are indexed."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = api.get(f"/v1/sites/{crawl_id}").json()
        ended = state["status"] in ("completed", "partial", "failed")
        if ended and state["indexed"] + state["not_indexed"] >= state["changed"]:
            return state
        time.sleep(0.5)
    raise AssertionError(f"crawl {crawl_id} did not settle: {state}")


def start_crawl(api: httpx.Client, url: str, **limits: Any) -> dict[str, Any]:
    response = api.post("/v1/sites", json={"url": url, "delay_seconds": 0, **limits})
    assert response.status_code == 202, response.text
    return response.json()
