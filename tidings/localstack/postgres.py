"""Embedded PostgreSQL with pgvector, through the `pgserver` package."""

import structlog

from tidings.settings import Settings

log = structlog.get_logger(__name__)


class EmbeddedPostgres:
    """Starts Postgres under DATA_DIR/postgres and publishes its URL in a file.

    The other processes (API, workers) read the URL from that file, so they
    connect to this server without starting one of their own.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = None

    def start(self) -> str:
        import pgserver

        folder = self.settings.data_dir / "postgres"
        folder.mkdir(parents=True, exist_ok=True)

        # cleanup_mode="stop": the server stops when this process exits.
        self.server = pgserver.get_server(folder, cleanup_mode="stop")
        url: str = self.server.get_uri()
        self.settings.local_database_url_file.write_text(url + "\n")
        log.info("postgres_ready", folder=str(folder))
        return url

    def stop(self) -> None:
        self.settings.local_database_url_file.unlink(missing_ok=True)
        if self.server is not None:
            self.server.cleanup()
            self.server = None
            log.info("postgres_stopped")
