"""Tenant fairness in the document stages: a small document of one tenant is
not held up behind another tenant's large one."""

import time

import httpx

from tests.integration.helpers import FINAL, pdf_path, upload, wait_final
from tests.stack import Stack, fresh_tenant

LARGE_PDF = "pdfjs__freeculture.pdf"  # 352 pages
SMALL_PDF = "pypdf__Seige_of_Vicksburg_Sample_OCR.pdf"  # 6 pages


def status_of(api: httpx.Client, document_id: str) -> str:
    response = api.get(f"/v1/documents/{document_id}")
    response.raise_for_status()
    return response.json()["status"]


def test_small_document_passes_large_one(stack: Stack) -> None:
    # Fresh tenants, because an upload of a file the tenant already has
    # returns the stored document instead of processing it again.
    with fresh_tenant(stack) as large_api, fresh_tenant(stack) as small_api:
        large = upload(large_api, pdf_path(LARGE_PDF))
        assert large.status_code == 202, large.text
        large_id = large.json()["document_id"]

        # Wait until the large document occupies the index stage.
        deadline = time.monotonic() + 180
        while status_of(large_api, large_id) == "uploaded":
            assert time.monotonic() < deadline, "the large PDF was never parsed"
            time.sleep(0.5)

        small = upload(small_api, pdf_path(SMALL_PDF))
        assert small.status_code == 202, small.text
        small_id = small.json()["document_id"]
        small_final = wait_final(small_api, [small_id], timeout=300)[small_id]
        large_status = status_of(large_api, large_id)

        assert small_final["status"] == "indexed"
        assert large_status not in FINAL

        # Let the large document finish, so later tests get the stages free.
        large_final = wait_final(large_api, [large_id], timeout=900)[large_id]
        assert large_final["status"] == "indexed"
