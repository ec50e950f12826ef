"""Embedded PostgreSQL with pgvector, through the `pgserver` package."""

import json
import os
from pathlib import Path

import psutil
import psycopg
import structlog
from psycopg import sql

from tidings.localstack.kafka import LocalStackError
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

        shared_buffers = self.settings.local_postgres_shared_buffers
        _check_fits_memory(shared_buffers)
        if _request_shared_buffers(url, shared_buffers):
            # The setting takes effect only at start. cleanup() stops the
            # server only when this process is its last recorded user, so
            # with other users the new size waits for the next start.
            others = _other_users(folder)
            if others:
                log.warning(
                    "postgres_setting_pending",
                    shared_buffers=shared_buffers,
                    other_pids=others,
                    hint="the size applies once these processes stop Postgres",
                )
            else:
                log.info("postgres_restarting", shared_buffers=shared_buffers)
                self.server.cleanup()
                self.server = pgserver.get_server(folder, cleanup_mode="stop")
                url = self.server.get_uri()

        self.settings.local_database_url_file.write_text(url + "\n")
        log.info("postgres_ready", folder=str(folder))
        return url

    def stop(self) -> None:
        self.settings.local_database_url_file.unlink(missing_ok=True)
        if self.server is not None:
            self.server.cleanup()
            self.server = None
            log.info("postgres_stopped")


def _check_fits_memory(size: str) -> None:
    """Reject a shared_buffers size over half the machine's memory, which
    Postgres may fail to allocate at start.

    ALTER SYSTEM keeps the value, so a start that fails on it would fail
    again on every later start until postgresql.auto.conf is edited.
    """
    number, unit = int(size[:-2]), size[-2:]
    requested = number * {"MB": 1024**2, "GB": 1024**3}[unit]
    limit = psutil.virtual_memory().total // 2
    if requested > limit:
        raise LocalStackError(
            f"TIDINGS_LOCAL_POSTGRES_SHARED_BUFFERS={size} is more than half of "
            f"this machine's memory ({limit // 1024**2}MB is the maximum); "
            "lower it"
        )


def _other_users(folder: Path) -> list[int]:
    """Return the other live processes that pgserver lists as users."""
    # NOTE: this reads pgserver's private file, as _forget_dead_users does.
    path = folder / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [
        pid
        for pid in pids
        if isinstance(pid, int) and pid != os.getpid() and psutil.pid_exists(pid)
    ]


def _request_shared_buffers(url: str, size: str) -> bool:
    """Ask for `size` of shared buffers from the next start on. Returns True
    when the running server has another size."""
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(
            "SELECT pg_size_bytes(current_setting('shared_buffers')) "
            "= pg_size_bytes(%s)",
            (size,),
        )
        row = cursor.fetchone()
        if row is not None and row[0]:
            return False
        conn.execute(
            sql.SQL("ALTER SYSTEM SET shared_buffers = {}").format(sql.Literal(size))
        )
    return True


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
