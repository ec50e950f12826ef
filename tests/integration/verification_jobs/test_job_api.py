"""POST and GET /v1/verifications: validation, idempotency, tenant isolation."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from schemas import topics
from tests.integration.verification.provider_server import ProviderServer
from tests.integration.verification_jobs.helpers import (
    count_events,
    submit,
    unique_name,
    wait_completed,
)
from tests.stack import Stack
from tidings.settings import Settings

pytestmark = pytest.mark.integration


def body(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject": {"kind": "company", "name": name},
        "checks": ["sanctions"],
        **extra,
    }


def post(
    api: httpx.Client, payload: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return api.post("/v1/verifications", json=payload, headers=headers)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"subject": {"kind": "planet", "name": "Mars"}},
            "'company', 'person' or 'merchant'",
        ),
        ({"subject": {"kind": "company", "name": "   "}}, "name is blank"),
        ({"subject": {"kind": "company", "name": ""}}, "at least 1 character"),
        (
            {"subject": {"kind": "company", "name": "A"}, "checks": ["horoscope"]},
            "'web_search'",
        ),
        (
            {"subject": {"kind": "company", "name": "A"}, "checks": []},
            "at least 1 item",
        ),
        (
            {"subject": {"kind": "company", "name": "A"}, "priority": "urgent"},
            "'realtime' or 'batch'",
        ),
        (
            {"subject": {"kind": "company", "name": "A", "country": "China"}},
            "at most 2 characters",
        ),
        ({"subject": {"kind": "company", "name": "A", "country": "1X"}}, "ISO 3166-1"),
        (
            {"subject": {"kind": "company", "name": "A"}, "colour": "red"},
            "Extra inputs",
        ),
        (
            {"subject": {"kind": "company", "name": "Acme\u0000 Ltd"}},
            "name contains a NUL character",
        ),
        (
            {
                "subject": {"kind": "company", "name": "A"},
                "callback_url": "http://127.0.0.1:99999/hook",
            },
            "port 99999 is out of range",
        ),
    ],
)
def test_invalid_body_rejected(
    vapi: httpx.Client, payload: dict[str, Any], message: str
) -> None:
    response = post(vapi, payload)

    assert response.status_code == 422
    assert message in response.text


@pytest.mark.parametrize(
    ("field", "url", "reason"),
    [
        ("callback_url", "http://10.0.0.5/hook", "(private)"),
        ("callback_url", "http://169.254.169.254/latest/meta-data", "(cloud_metadata)"),
        ("callback_url", "http://[::ffff:192.168.1.1]/hook", "(private)"),
        ("subject.website", "ftp://127.0.0.1/", "not allowed"),
        ("subject.website", "http://192.168.0.10/", "(private)"),
    ],
)
def test_internal_urls_rejected(
    vapi: httpx.Client, field: str, url: str, reason: str
) -> None:
    payload = body("Url Test Co")
    if field == "callback_url":
        payload["callback_url"] = url
    else:
        payload["subject"]["website"] = url

    response = post(vapi, payload)

    assert response.status_code == 422
    assert f"{field} {url!r} is not allowed" in response.json()["detail"]
    assert reason in response.json()["detail"]


def test_same_key_same_body_same_job(vapi: httpx.Client) -> None:
    key = str(uuid.uuid4())
    first = post(vapi, body("Idem Co"), key)
    # The same body in another key order and with a default spelled out.
    again = post(vapi, {"priority": "batch", **body("Idem Co")}, key)

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.json()["duplicate"] is True


def test_same_key_other_body_rejected(vapi: httpx.Client) -> None:
    key = str(uuid.uuid4())
    first = post(vapi, body("Idem Co"), key)
    other = post(vapi, body("Another Co"), key)

    assert first.status_code == 202
    assert other.status_code == 422
    assert f"Idempotency-Key {key!r} was already used for job" in other.json()["detail"]
    assert "different request body" in other.json()["detail"]


def test_concurrent_same_key_one_job(
    stack: Stack, provider: ProviderServer, vapi: httpx.Client
) -> None:
    key = str(uuid.uuid4())
    payload = body(unique_name("concurrent"))
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: post(vapi, payload, key), range(6)))
    job_ids = {response.json()["job_id"] for response in responses}
    job_id = job_ids.pop()
    wait_completed(vapi, [job_id])
    counts = count_events(stack, {job_id})

    assert sorted(r.status_code for r in responses) == [200] * 5 + [202]
    assert job_ids == set()
    assert counts.records[topics.VERIFICATION_REQUESTED.name][job_id] == 1
    assert counts.records[topics.VERIFICATION_COMPLETED.name][job_id] == 1


def test_key_is_per_tenant(vapi: httpx.Client, other_tenant_api: httpx.Client) -> None:
    key = str(uuid.uuid4())
    mine = post(vapi, body("Shared Key Co"), key)
    theirs = post(other_tenant_api, body("Shared Key Co"), key)

    assert theirs.status_code == 202
    assert theirs.json()["job_id"] != mine.json()["job_id"]


def test_other_tenant_cannot_read(
    provider: ProviderServer, vapi: httpx.Client, other_tenant_api: httpx.Client
) -> None:
    job_id = submit(vapi, unique_name("private"), ["sanctions"])

    response = other_tenant_api.get(f"/v1/verifications/{job_id}")

    assert response.status_code == 404
    assert response.json()["detail"] == f"Verification job {job_id} not found"


def test_job_readable_at_once(vapi: httpx.Client) -> None:
    job_id = submit(vapi, unique_name("at-once"), ["sanctions"], priority="batch")

    job = vapi.get(f"/v1/verifications/{job_id}").json()

    assert job["status"] in ("queued", "running", "completed")
    assert job["subject"]["name"].startswith("Testco at-once")
    assert job["events"][0]["summary"].startswith("requested: company")


def test_bad_job_id_rejected(vapi: httpx.Client) -> None:
    response = vapi.get("/v1/verifications/not-a-job")

    assert response.status_code == 422


def test_batch_over_limit_rejected(vapi: httpx.Client) -> None:
    jobs = [body(f"Batch {n}") for n in range(1001)]

    response = vapi.post("/v1/verifications/batch", json={"jobs": jobs})

    assert response.status_code == 413
    assert "TIDINGS_VERIFY_BATCH_MAX_JOBS" in response.json()["detail"]


def test_batch_names_bad_item(vapi: httpx.Client) -> None:
    jobs = [body("Fine Co"), {**body("Bad Co"), "callback_url": "http://10.1.2.3/"}]

    response = vapi.post("/v1/verifications/batch", json={"jobs": jobs})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("jobs[1].callback_url")


def test_submit_without_kafka_is_503(stack: Stack, vapi: httpx.Client) -> None:
    # An API whose Kafka does not exist: nothing listens on port 1.
    settings = Settings(
        data_dir=stack.data_dir,
        kafka_bootstrap="127.0.0.1:1",
        database_url=stack.database_url,
        kafka_delivery_timeout_ms=2000,
    )
    key = str(uuid.uuid4())
    payload = body(unique_name("outage"))

    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/v1/verifications",
            json=payload,
            headers={"Idempotency-Key": key, **vapi.headers},
        )
    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM verification_jobs WHERE idempotency_key = %s", (key,)
        ).fetchone()
    retried = post(vapi, payload, key)

    assert response.status_code == 503
    assert "Kafka is unavailable" in response.json()["detail"]
    assert rows == (0,)
    assert retried.status_code == 202
