"""Resources the stream stages share inside one worker process."""

import asyncio
import atexit
from dataclasses import dataclass, field

from cryptography.fernet import Fernet
from psycopg_pool import AsyncConnectionPool

from connectors.embedder import Embedder
from connectors.kafka_producer import EventProducer
from connectors.objectstore import ObjectStore, open_object_store
from connectors.pdf import PdfExtractor
from connectors.postgres import open_pool
from connectors.secrets import load_fernet
from tidings.settings import Settings


@dataclass
class Runtime:
    """Opened on first use, because Faust may start an agent before any hook."""

    settings: Settings
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _opened: bool = False
    pool: AsyncConnectionPool | None = None
    producer: EventProducer | None = None
    store: ObjectStore | None = None
    fernet: Fernet | None = None
    extractor: PdfExtractor | None = None
    embedder: Embedder | None = None

    async def open(self) -> "Runtime":
        async with self._lock:
            if self._opened:
                return self
            settings = self.settings
            self.pool = await open_pool(settings.resolved_database_url(), max_size=4)
            self.producer = EventProducer(
                settings.resolved_kafka_bootstrap(),
                delivery_timeout_ms=settings.kafka_delivery_timeout_ms,
            )
            self.store = open_object_store(settings)
            self.fernet = load_fernet(settings)
            self.extractor = PdfExtractor(
                timeout_seconds=settings.parse_timeout_seconds,
                max_pages=settings.max_pdf_pages,
                memory_limit_bytes=settings.parse_memory_limit_bytes,
            )
            # Stop the parser's child process when the worker exits, so no
            # parser outlives its worker.
            atexit.register(self.extractor.close)
            self.embedder = await asyncio.to_thread(
                Embedder, settings.embedding_model, settings.embedding_batch_size
            )
            self._opened = True
        return self

    async def close(self) -> None:
        if self.extractor is not None:
            self.extractor.close()
        if self.producer is not None:
            self.producer.close()
        if self.pool is not None:
            await self.pool.close()
        self._opened = False
