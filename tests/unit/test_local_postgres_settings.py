"""Validation of the embedded Postgres settings."""

import pytest
from pydantic import ValidationError

from tidings.settings import Settings


@pytest.mark.parametrize("value", ["1GB", "512MB", "131072kB"])
def test_shared_buffers_accepts_postgres_sizes(value: str) -> None:
    settings = Settings(local_postgres_shared_buffers=value)
    assert settings.local_postgres_shared_buffers == value


@pytest.mark.parametrize("value", ["1 GB", "1gb", "0MB", "1TB", "1GB; SELECT 1", ""])
def test_shared_buffers_rejects_other_text(value: str) -> None:
    with pytest.raises(ValidationError, match="local_postgres_shared_buffers"):
        Settings(local_postgres_shared_buffers=value)
