"""A worker killed with SIGKILL mid-batch loses and duplicates nothing."""

import os
import signal
import time

import httpx
import psycopg
import pytest

from tests.integration.helpers import pdf_path, upload_bytes, wait_final
from tests.stack import Stack

pytestmark = pytest.mark.integration

BATCH = [
    "pdfjs__pdkids.pdf",
    "pdfjs__tracemonkey.pdf",
    "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf",
    "pdfminer__f1040nr.pdf",
    "samplefiles__multicolumn.pdf",
    "pypdf__Seige_of_Vicksburg_Sample_OCR.pdf",
]


def test_worker_killed_mid_batch(
    stack: Stack, api: httpx.Client, db: psycopg.Connection
) -> None:
    # Append a byte after %%EOF so these are new documents for this test.
    ids = []
    for name in BATCH:
        data = pdf_path(name).read_bytes() + b"\n% recovery test\n"
        ids.append(upload_bytes(api, f"recovery-{name}", data).json()["document_id"])

    # Kill as soon as some of the batch is done and some is not.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [api.get(f"/v1/documents/{i}").json()["status"] for i in ids]
        if any(s == "indexed" for s in states) and any(s != "indexed" for s in states):
            break
        time.sleep(0.2)
    killed = stack.worker_pid()
    os.kill(killed, signal.SIGKILL)

    final = wait_final(api, ids, timeout=300)
    statuses = {i: final[i]["status"] for i in ids}
    chunk_rows = dict(
        db.execute(
            "SELECT document_id, count(*) FROM document_chunks "
            "WHERE document_id = ANY(%s) GROUP BY document_id",
            (ids,),
        ).fetchall()
    )
    trail = db.execute(
        "SELECT document_id, status, count(*) FROM document_events "
        "WHERE document_id = ANY(%s) GROUP BY document_id, status",
        (ids,),
    ).fetchall()

    assert stack.worker_pid() != killed
    assert set(statuses.values()) == {"indexed"}, statuses
    assert all(chunk_rows[i] == final[i]["chunk_count"] for i in ids)
    assert all(count == 1 for _, _, count in trail), trail
