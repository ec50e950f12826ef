"""The PDF pipeline end to end.

HTTP upload -> Kafka -> workers -> Postgres -> search, on the test stack.
"""

import random

import httpx
import pytest

from tests.corpus import load_pdf_manifest, manifest_params
from tests.integration.helpers import (
    outcome_matches,
    pdf_path,
    pipeline_outcomes,
    upload,
    upload_bytes,
    wait_final,
)
from tests.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def corpus_results(api: httpx.Client) -> dict[str, dict]:
    """Upload every corpus PDF once and wait for all final states."""
    ids = {}
    rows = load_pdf_manifest()
    if not rows:
        pytest.skip("PDF corpus not found; set TIDINGS_CORPUS_DIR")
    for row in rows:
        response = upload(api, pdf_path(row["file"]))
        assert response.status_code in (200, 202), response.text
        ids[row["file"]] = response.json()["document_id"]
    states = wait_final(api, list(ids.values()), timeout=600)
    return {
        name: states.get(doc_id, {"status": "missing"}) for name, doc_id in ids.items()
    }


@pytest.mark.parametrize("row", manifest_params(load_pdf_manifest()))
def test_corpus_pdf_final_state(corpus_results: dict[str, dict], row: dict) -> None:
    document = corpus_results[row["file"]]
    allowed = pipeline_outcomes(row)

    assert outcome_matches(document["status"], document.get("reason"), allowed), (
        f"{row['file']}: expected one of {sorted(allowed)}, got "
        f"{document['status']} {document.get('reason')}: {document.get('detail')}"
    )


def test_corpus_failures_have_readable_detail(corpus_results: dict[str, dict]) -> None:
    for name, document in corpus_results.items():
        if document["status"] in ("failed", "no_text"):
            assert document["detail"] and len(document["detail"]) > 20, name


def test_indexed_document_trail(corpus_results: dict[str, dict]) -> None:
    document = corpus_results["pypdf__crazyones.pdf"]
    statuses = [event["status"] for event in document["events"]]

    assert statuses == ["uploaded", "parsed", "indexed"]
    assert document["chunk_count"] >= 1
    assert document["page_count"] == 1


def test_search_finds_english_phrase(api: httpx.Client, corpus_results: dict) -> None:
    response = api.get(
        "/v1/search/documents", params={"q": "the crazy ones misfits rebels"}
    )
    hits = response.json()["hits"]

    assert response.status_code == 200
    assert hits[0]["filename"] == "pypdf__crazyones.pdf"
    assert hits[0]["page"] == 1
    assert "text" in hits[0]["matched_by"]


def test_search_finds_chinese_phrase(api: httpx.Client, corpus_results: dict) -> None:
    response = api.get("/v1/search/documents", params={"q": "商品名称"})
    filenames = [hit["filename"] for hit in response.json()["hits"][:3]]

    assert response.status_code == 200
    assert "pypdf__issue-914-xmp-data.pdf" in filenames


def test_search_hit_names_page(api: httpx.Client, corpus_results: dict) -> None:
    response = api.get("/v1/search/documents", params={"q": "tracing JIT trace trees"})
    hit = response.json()["hits"][0]

    assert hit["filename"] == "pdfjs__tracemonkey.pdf"
    assert 1 <= hit["page"] <= 14


def test_search_off_topic_finds_nothing(
    api: httpx.Client, corpus_results: dict
) -> None:
    response = api.get("/v1/search/documents", params={"q": "chocolate cake recipe"})

    assert response.status_code == 200
    assert response.json()["hits"] == []


def test_search_keeps_close_vector_hits(
    api: httpx.Client, corpus_results: dict
) -> None:
    response = api.get(
        "/v1/search/documents", params={"q": "speeding up browser scripts"}
    )
    hits = response.json()["hits"]

    assert response.status_code == 200
    assert hits, "expected vector hits above the similarity cutoff"
    assert hits[0]["filename"] == "pdfjs__tracemonkey.pdf"
    assert "vector" in hits[0]["matched_by"]


def test_reupload_returns_same_document(
    api: httpx.Client, corpus_results: dict
) -> None:
    first = corpus_results["pypdf__crazyones.pdf"]
    response = upload(api, pdf_path("pypdf__crazyones.pdf"))

    assert response.status_code == 200
    assert response.json()["document_id"] == first["document_id"]
    assert response.json()["duplicate"] is True


def test_encrypted_pdf_retried_with_password(
    api: httpx.Client, corpus_results: dict
) -> None:
    before = corpus_results["pypdf__r4-aes-user-password.pdf"]
    assert before["status"] == "failed"
    assert before["reason"] == "encrypted"

    response = api.post(
        f"/v1/documents/{before['document_id']}/retry", data={"password": "asdfzxcv"}
    )
    assert response.status_code == 202
    after = wait_final(api, [before["document_id"]])[before["document_id"]]

    assert after["status"] == "indexed"
    assert after["attempt"] == 2


def test_encrypted_pdf_with_utf8_password_on_upload(api: httpx.Client) -> None:
    # Same bytes as the corpus file would collide with its document, so this
    # upload carries the password and retries that document.
    response = upload(api, pdf_path("pdfjs__issue6010_2.pdf"), password="æøå")
    document_id = response.json()["document_id"]
    final = wait_final(api, [document_id])[document_id]

    assert response.status_code in (200, 202)
    assert final["status"] in ("indexed", "no_text")


def test_not_a_pdf_rejected(api: httpx.Client) -> None:
    response = upload_bytes(api, "notes.txt", b"just some text, not a PDF")

    assert response.status_code == 415
    assert "PDF" in response.json()["detail"]


def test_empty_file_rejected(api: httpx.Client) -> None:
    response = upload_bytes(api, "empty.pdf", b"")

    assert response.status_code == 422


def test_oversized_file_rejected(api: httpx.Client) -> None:
    data = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024 + 10)
    response = upload_bytes(api, "big.pdf", data)

    assert response.status_code == 413
    assert "TIDINGS_MAX_UPLOAD_BYTES" in response.json()["detail"]


def test_fuzzed_pdfs_end_failed(api: httpx.Client) -> None:
    source = pdf_path("pypdf__crazyones.pdf").read_bytes()
    generator = random.Random(7)
    ids = []
    for case in range(3):
        data = bytearray(source)
        for _ in range(200):
            data[generator.randrange(200, len(data))] = generator.randrange(256)
        response = upload_bytes(api, f"fuzzed-{case}.pdf", bytes(data))
        ids.append(response.json()["document_id"])
    truncated = upload_bytes(api, "truncated.pdf", source[: len(source) // 3])
    ids.append(truncated.json()["document_id"])

    states = wait_final(api, ids)

    assert all(states[i]["status"] in ("indexed", "failed", "no_text") for i in ids)


def test_missing_api_key_rejected(stack: Stack) -> None:
    response = httpx.get(f"{stack.api_url}/v1/documents")

    assert response.status_code == 401


def test_wrong_api_key_rejected(stack: Stack) -> None:
    headers = {"Authorization": "Bearer tdk_not-a-real-key"}
    response = httpx.get(f"{stack.api_url}/v1/documents", headers=headers)

    assert response.status_code == 401


def test_other_tenant_cannot_read_document(
    other_tenant_api: httpx.Client, corpus_results: dict
) -> None:
    document_id = corpus_results["pypdf__crazyones.pdf"]["document_id"]
    response = other_tenant_api.get(f"/v1/documents/{document_id}")

    assert response.status_code == 404


def test_other_tenant_search_sees_nothing(
    other_tenant_api: httpx.Client, corpus_results: dict
) -> None:
    response = other_tenant_api.get("/v1/search/documents", params={"q": "crazy ones"})

    assert response.status_code == 200
    assert response.json()["hits"] == []


def test_other_tenant_gets_own_document_id(
    other_tenant_api: httpx.Client, corpus_results: dict
) -> None:
    response = upload(other_tenant_api, pdf_path("pypdf__crazyones.pdf"))
    theirs = response.json()["document_id"]

    assert response.status_code == 202
    assert theirs != corpus_results["pypdf__crazyones.pdf"]["document_id"]
    assert wait_final(other_tenant_api, [theirs])[theirs]["status"] == "indexed"


def test_document_ids_are_content_hashes(api: httpx.Client) -> None:
    data = pdf_path("samplefiles__pdflatex-4-pages.pdf").read_bytes()
    first = upload_bytes(api, "a.pdf", data).json()["document_id"]
    second = upload_bytes(api, "b.pdf", data).json()["document_id"]

    assert first == second
