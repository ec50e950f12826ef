"""Hostile or odd requests to the document API."""

import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import httpx
import pytest

from schemas import topics
from tests.integration.helpers import (
    count_records,
    pdf_path,
    upload,
    upload_bytes,
    wait_final,
)
from tests.stack import Stack

pytestmark = pytest.mark.integration


def _raw_post(stack: Stack, headers: dict[str, str], body: bytes) -> bytes:
    """Send headers and a short body, and return the first bytes of the response.

    The Content-Length may promise far more than is sent: a guard that waits
    for the whole body would never respond, and the socket times out.
    """
    url = urlparse(stack.api_url)
    lines = ["POST /v1/documents HTTP/1.1", f"Host: {url.hostname}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(request)
        return conn.recv(200)


def test_upload_without_key_rejected_early(stack: Stack) -> None:
    headers = {
        "Content-Type": "multipart/form-data; boundary=b",
        "Content-Length": str(10**9),
    }
    answer = _raw_post(stack, headers, b"--b\r\n")

    assert answer.startswith(b"HTTP/1.1 401")


def test_upload_with_unknown_key_rejected_early(stack: Stack) -> None:
    headers = {
        "Authorization": "Bearer tdk_unknown",
        "Content-Type": "multipart/form-data; boundary=b",
        "Content-Length": str(10**9),
    }
    answer = _raw_post(stack, headers, b"--b\r\n")

    assert answer.startswith(b"HTTP/1.1 401")


def test_declared_oversize_rejected_early(stack: Stack) -> None:
    headers = {
        "Authorization": f"Bearer {stack.api_key}",
        "Content-Type": "multipart/form-data; boundary=b",
        "Content-Length": str(10**9),
    }
    answer = _raw_post(stack, headers, b"--b\r\n")

    assert answer.startswith(b"HTTP/1.1 413")


def test_control_characters_removed_from_filename(api: httpx.Client) -> None:
    data = pdf_path("samplefiles__pdflatex-4-pages.pdf").read_bytes() + b"\n% nul\n"
    # httpx would percent-encode the control characters, so build the
    # multipart body by hand, as a careless client would send it.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; '
        b'filename="nul\x00by\x07te.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        + data
        + b"\r\n--b--\r\n"
    )
    content_type = {"Content-Type": "multipart/form-data; boundary=b"}
    response = api.post("/v1/documents", content=body, headers=content_type)
    document_id = response.json()["document_id"]
    document = api.get(f"/v1/documents/{document_id}").json()

    assert response.status_code == 202
    assert document["filename"] == "nulbyte.pdf"


def test_nul_in_query_is_harmless(api: httpx.Client) -> None:
    response = api.get("/v1/search/documents", params={"q": "crazy\x00ones"})

    assert response.status_code == 200


def test_malformed_document_id_rejected(api: httpx.Client) -> None:
    response = api.get("/v1/documents/doc%00x")

    assert response.status_code == 422


def test_concurrent_retries_get_one_attempt(api: httpx.Client) -> None:
    path = pdf_path("pdfminer__rc4-40.pdf")
    document_id = upload(api, path).json()["document_id"]
    before = wait_final(api, [document_id])[document_id]
    assert before["status"] == "failed"

    def retry(password: str) -> int:
        url = f"/v1/documents/{document_id}/retry"
        return api.post(url, data={"password": password}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(retry, ["x", "y", "z", "foo"]))
    after = api.get(f"/v1/documents/{document_id}").json()

    assert codes.count(202) == 1
    assert codes.count(409) == 3
    assert after["attempt"] == before["attempt"] + 1


def test_concurrent_identical_uploads_publish_once(
    stack: Stack, other_tenant_api: httpx.Client
) -> None:
    # A fresh tenant keeps the copy out of other tests' document searches, and
    # a trailing comment makes bytes that no earlier run uploaded.
    data = pdf_path("pypdf__crazyones.pdf").read_bytes()
    data += f"\n% {uuid.uuid4().hex}\n".encode()

    def send(_: int) -> httpx.Response:
        return upload_bytes(other_tenant_api, "same.pdf", data)

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(send, range(6)))
    document_ids = {response.json()["document_id"] for response in responses}
    document_id = document_ids.pop()
    wait_final(other_tenant_api, [document_id])

    assert count_records(stack, topics.DOCUMENT_UPLOADED.name, document_id) == 1
    assert sorted(r.status_code for r in responses) == [200] * 5 + [202]
    assert document_ids == set()
