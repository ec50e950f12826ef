"""Embedded PostgreSQL with pgvector, through the `pgserver` package."""

import json
from pathlib import Path

import psutil
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

        _forget_dead_users(folder)
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


def _forget_dead_users(folder: Path) -> None:
    """Drop the pids of exited processes from pgserver's list of users.

    pgserver (0.1.4) stops the server only when its last recorded user
    exits; a pid left behind by a killed run would keep it running forever.
    """
    # NOTE: this reads pgserver's private file; check it after an upgrade.
    path = folder / ".handle_pids.json"
    if not path.exists():
        return
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))
