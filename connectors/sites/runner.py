"""Run the crawl process from the worker's event loop.

The crawl runs in a child process, so Scrapy's reactor, HTML parsing and
text extraction never block the Faust event loop. Records stream back as
JSON lines and are handed to the caller one by one. The time limit is
enforced by killing the child.
"""

import asyncio
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog

from connectors.errors import ConnectorError
from connectors.sites.config import CrawlConfig

log = structlog.get_logger(__name__)

Record = dict[str, Any]
# A page record carries the page's whole main text on one line.
MAX_RECORD_BYTES = 64 * 1024 * 1024
# Scrapy stops itself at max_seconds (CLOSESPIDER_TIMEOUT); the child is
# killed if it is still running this much later.
KILL_GRACE_SECONDS = 15.0
REPO_ROOT = Path(__file__).resolve().parents[2]


class CrawlProcessError(ConnectorError):
    """The crawl process could not start or sent a record that is not JSON."""


async def _read_records(
    stream: asyncio.StreamReader, on_record: Callable[[Record], Awaitable[None]]
) -> Record | None:
    done: Record | None = None
    while line := await stream.readline():
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CrawlProcessError(
                f"the crawl process wrote a line that is not JSON: {line[:200]!r}"
            ) from exc
        if record.get("type") == "done":
            done = record
            continue
        await on_record(record)
    return done


async def run_crawl(
    config: CrawlConfig, on_record: Callable[[Record], Awaitable[None]]
) -> Record:
    """Crawl with `config`, awaiting `on_record` for each page, PDF or failed
    URL as it arrives. Return the final record: `reason` is Scrapy's close
    reason (finished, closespider_timeout), time_limit or crawler_failed."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with tempfile.TemporaryFile() as stderr:
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "connectors.sites.crawl_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=env,
                limit=MAX_RECORD_BYTES,
            )
        except OSError as exc:
            raise CrawlProcessError(f"cannot start the crawl process: {exc}") from exc

        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(config.to_dict()).encode())
        await process.stdin.drain()
        process.stdin.close()

        try:
            async with asyncio.timeout(config.max_seconds + KILL_GRACE_SECONDS):
                done = await _read_records(process.stdout, on_record)
                await process.wait()
        except TimeoutError:
            log.warning("crawl_process_killed", start_url=config.start_url)
            done = {"reason": "time_limit"}
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()

        if done is None:
            stderr.seek(0)
            tail = stderr.read()[-2000:].decode("utf-8", errors="replace")
            log.error("crawl_process_failed", code=process.returncode, stderr_tail=tail)
            done = {"reason": "crawler_failed", "detail": tail[-500:]}
    return done
