"""The embedded Postgres of the local stack runs with the configured memory."""

import psycopg
import pytest

from tidings.settings import Settings

pytestmark = pytest.mark.integration


def test_shared_buffers_applied_on_first_start(db: psycopg.Connection) -> None:
    # The test stack starts from an empty data folder, so the setting was
    # written after initdb and needed the restart to take effect.
    expected = Settings().local_postgres_shared_buffers
    row = db.execute(
        "SELECT pg_size_bytes(current_setting('shared_buffers')), pg_size_bytes(%s)",
        (expected,),
    ).fetchone()
    assert row is not None
    assert row[0] == row[1], f"shared_buffers is {row[0]} bytes, expected {expected}"
