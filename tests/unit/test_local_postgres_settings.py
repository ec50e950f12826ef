"""Validation of the embedded Postgres settings."""

import json
import os
import subprocess
from pathlib import Path

import psutil
import pytest
from pydantic import ValidationError

from tidings.localstack.kafka import LocalStackError
from tidings.localstack.postgres import _check_fits_memory, _other_users
from tidings.settings import Settings


@pytest.mark.parametrize("value", ["1GB", "512MB", "16GB"])
def test_shared_buffers_accepts_postgres_sizes(value: str) -> None:
    settings = Settings(local_postgres_shared_buffers=value)
    assert settings.local_postgres_shared_buffers == value


# kB is left out: Postgres rounds it to 8 kB pages, so a size such as 1001kB
# would never equal the running one and would restart Postgres on every start.
@pytest.mark.parametrize(
    "value", ["1 GB", "1gb", "0MB", "1TB", "1001kB", "1GB; SELECT 1", ""]
)
def test_shared_buffers_rejects_other_text(value: str) -> None:
    with pytest.raises(ValidationError, match="local_postgres_shared_buffers"):
        Settings(local_postgres_shared_buffers=value)


def test_shared_buffers_over_half_memory_rejected() -> None:
    total = psutil.virtual_memory().total
    too_large = f"{total // 1024**3 + 1}GB"
    with pytest.raises(LocalStackError, match="TIDINGS_LOCAL_POSTGRES_SHARED_BUFFERS"):
        _check_fits_memory(too_large)


def test_shared_buffers_default_fits_memory() -> None:
    _check_fits_memory(Settings().local_postgres_shared_buffers)


def test_other_users_skip_own_and_dead_pids(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    pids = [os.getpid(), dead.pid, os.getppid(), "not a pid"]
    (tmp_path / ".handle_pids.json").write_text(json.dumps(pids))
    assert _other_users(tmp_path) == [os.getppid()]


def test_other_users_without_file(tmp_path: Path) -> None:
    assert _other_users(tmp_path) == []
