"""How `tidings rebuild` reports a Postgres failure in the middle of a run."""

import psycopg
import pytest
from typer.testing import CliRunner

from tidings.cli import app
from tidings.history import rebuild


async def _drop_connection(*args: object, **kwargs: object) -> None:
    raise psycopg.OperationalError("server closed the connection unexpectedly")


def test_rebuild_postgres_failure_reads_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rebuild, "rebuild_view", _drop_connection)

    result = CliRunner().invoke(app, ["rebuild", "products"])

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Postgres failed during the rebuild of products" in result.output
    assert "server closed the connection unexpectedly" in result.output
    assert "run the command again" in result.output
