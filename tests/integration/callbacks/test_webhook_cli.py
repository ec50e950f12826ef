"""`tidings webhooks secret` and `rotate-secret` against the test stack."""

import os
import subprocess
import sys

import pytest

from tests.integration.callbacks.conftest import TenantClient
from tests.stack import REPO_ROOT, Stack

pytestmark = pytest.mark.integration


def run_webhooks(
    stack: Stack, tenant: TenantClient, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TIDINGS_API_URL": stack.api_url,
        "TIDINGS_API_KEY": tenant.api_key,
        "TIDINGS_DATA_DIR": str(stack.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "tidings", "webhooks", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_prints_secret(stack: Stack, tenant: TenantClient) -> None:
    result = run_webhooks(stack, tenant, "secret")
    expected = tenant.http.get("/v1/webhooks/secret").json()["secret"]

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_cli_rotates_secret(stack: Stack, tenant: TenantClient) -> None:
    before = tenant.http.get("/v1/webhooks/secret").json()["secret"]

    result = run_webhooks(stack, tenant, "rotate-secret", "--yes")
    after = tenant.http.get("/v1/webhooks/secret").json()["secret"]

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == after
    assert after != before
    assert "previous secret" in result.stderr


def test_cli_rotation_needs_confirmation(stack: Stack, tenant: TenantClient) -> None:
    before = tenant.http.get("/v1/webhooks/secret").json()["secret"]

    result = run_webhooks(stack, tenant, "rotate-secret")
    after = tenant.http.get("/v1/webhooks/secret").json()["secret"]

    assert result.returncode != 0
    assert after == before
