"""Health probes, and what the API does when Kafka is unreachable."""

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.integration.helpers import pdf_path, upload_bytes, wait_final
from tests.stack import Stack
from tidings.settings import Settings

pytestmark = pytest.mark.integration


def test_healthz_ok(stack: Stack) -> None:
    response = httpx.get(f"{stack.api_url}/healthz")

    assert response.status_code == 200


def test_readyz_reports_each_check(stack: Stack) -> None:
    body = httpx.get(f"{stack.api_url}/readyz").json()

    assert body["status"] == "ready"
    assert body["checks"] == {"kafka": "ok", "postgres": "ok", "workers": "ok"}


def _settings_without_kafka(stack: Stack) -> Settings:
    # An API whose Kafka does not exist: nothing listens on port 1.
    return Settings(
        data_dir=stack.data_dir,
        kafka_bootstrap="127.0.0.1:1",
        database_url=stack.database_url,
        kafka_delivery_timeout_ms=2000,
    )


def test_upload_without_kafka_is_503(stack: Stack) -> None:
    settings = _settings_without_kafka(stack)
    data = pdf_path("pypdf__crazyones.pdf").read_bytes() + b"\n% outage test\n"
    headers = {"Authorization": f"Bearer {stack.api_key}"}

    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/v1/documents",
            files={"file": ("outage.pdf", data, "application/pdf")},
            headers=headers,
        )
        ready = client.get("/readyz")

    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM documents WHERE filename = 'outage.pdf'"
        ).fetchone()

    assert response.status_code == 503
    assert "Kafka" in response.json()["detail"]
    assert response.headers["Retry-After"] == "5"
    assert ready.status_code == 503
    assert rows == (0,)


def test_retry_without_kafka_keeps_attempt(stack: Stack, api: httpx.Client) -> None:
    # New bytes, so that no other test has retried this document already.
    data = pdf_path("pdfminer__rc4-40.pdf").read_bytes() + b"\n% outage retry\n"
    document_id = upload_bytes(api, "rc4.pdf", data).json()["document_id"]
    before = wait_final(api, [document_id])[document_id]
    assert before["status"] == "failed"
    headers = {"Authorization": f"Bearer {stack.api_key}"}

    with TestClient(create_app(_settings_without_kafka(stack))) as client:
        response = client.post(
            f"/v1/documents/{document_id}/retry",
            data={"password": "foo"},
            headers=headers,
        )
    after = api.get(f"/v1/documents/{document_id}").json()

    assert response.status_code == 503
    assert after["status"] == before["status"]
    assert after["attempt"] == before["attempt"]
