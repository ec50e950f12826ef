"""`tidings rebuild`: rebuilt tables equal the live ones the pipeline wrote."""

import asyncio
import json
import uuid
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest

from schemas.topics import TOPICS
from streams.app import APP_ID
from tests.integration.helpers import pdf_path, upload_bytes, wait_final
from tests.integration.history_helpers import run_cli, wait_caught_up
from tests.stack import Stack
from tidings.history.rebuild import RebuildReport, rebuild_view
from tidings.history.views import VIEWS
from tidings.settings import Settings
from tidings.tenants import create_tenant

pytestmark = pytest.mark.integration

FILES = ("pypdf__crazyones.pdf", "samplefiles__pdflatex-4-pages.pdf")
VIEW_TABLES = ("documents", "document_events", "document_chunks")


@pytest.fixture(scope="module")
def settings(stack: Stack) -> Settings:
    return Settings(
        data_dir=stack.data_dir,
        kafka_bootstrap=stack.kafka_bootstrap,
        database_url=stack.database_url,
        topic_partitions=2,
    )


@pytest.fixture(scope="module")
def documents(stack: Stack) -> dict[str, str]:
    """Upload two new PDFs as a fresh tenant; wait until the workers are idle."""
    with psycopg.connect(stack.database_url) as conn:
        tenant_id, key = create_tenant(conn, f"t-rebuild-{uuid.uuid4().hex[:8]}")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=60) as api:
        ids = {}
        for name in FILES:
            data = pdf_path(name).read_bytes() + f"\n% {uuid.uuid4()}\n".encode()
            ids[name] = upload_bytes(api, name, data).json()["document_id"]
        states = wait_final(api, list(ids.values()))
    assert {states[i]["status"] for i in ids.values()} == {"indexed"}
    # The workers' group commits offsets only on the topics its agents read.
    wait_caught_up(stack, APP_ID, [spec.name for spec in TOPICS if spec.consumed_by])
    return {"tenant_id": tenant_id, "api_key": key, **ids}


def rebuild(settings: Settings, view: str, check: bool) -> RebuildReport:
    return asyncio.run(rebuild_view(VIEWS[view], settings, check=check))


def index_names(db: psycopg.Connection) -> set[str]:
    rows = db.execute(
        "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s)",
        (list(VIEW_TABLES),),
    ).fetchall()
    return {row[0] for row in rows}


def chunk_snapshot(db: psycopg.Connection) -> dict[str, tuple[Any, ...]]:
    rows = db.execute(
        "SELECT chunk_id, tenant_id, document_id, chunk_index, page, content, "
        "search_text::text, embedding::text FROM document_chunks"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_documents_check_equal(settings: Settings, documents: dict) -> None:
    report = rebuild(settings, "documents", check=True)
    rows = {table.table: table.rebuilt_rows for table in report.tables}

    assert report.equal, report.tables
    assert rows["documents"] >= len(FILES)
    assert rows["document_events"] >= 3 * len(FILES)


def test_check_finds_changed_row(
    settings: Settings, documents: dict, db: psycopg.Connection
) -> None:
    document_id = documents[FILES[0]]
    db.execute(
        "UPDATE documents SET filename = 'renamed.pdf' WHERE document_id = %s",
        (document_id,),
    )
    report = rebuild(settings, "documents", check=True)
    table = next(table for table in report.tables if table.table == "documents")
    differing = {(d.key, d.kind) for d in table.differences}

    assert differing == {((documents["tenant_id"], document_id), "differs")}


def test_swap_restores_rows(
    settings: Settings, documents: dict, db: psycopg.Connection
) -> None:
    # Runs after the check test above, which left one row changed.
    before = index_names(db)
    report = rebuild(settings, "documents", check=False)
    filename = db.execute(
        "SELECT filename FROM documents WHERE document_id = %s",
        (documents[FILES[0]],),
    ).fetchone()
    shadows = db.execute(
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE '%%\\_shadow'"
    ).fetchone()

    assert report.swapped
    assert filename == (FILES[0],)
    assert index_names(db) == before
    assert shadows == (0,)


def test_chunks_rebuild_equals_live(
    settings: Settings, documents: dict, db: psycopg.Connection, api: httpx.Client
) -> None:
    live = chunk_snapshot(db)
    report = rebuild(settings, "document_chunks", check=False)
    rebuilt = chunk_snapshot(db)

    assert report.swapped
    assert set(rebuilt) == set(live)
    for chunk_id, row in live.items():
        assert rebuilt[chunk_id][:-1] == row[:-1], chunk_id
        old = np.array(json.loads(row[-1]), dtype=np.float32)
        new = np.array(json.loads(rebuilt[chunk_id][-1]), dtype=np.float32)
        assert float(np.dot(old, new)) > 1 - 1e-4, chunk_id


def test_search_works_after_rebuild(stack: Stack, documents: dict) -> None:
    response = httpx.get(
        f"{stack.api_url}/v1/search/documents",
        params={"q": "the crazy ones misfits rebels"},
        headers={"Authorization": f"Bearer {documents['api_key']}"},
        timeout=60,
    )
    assert response.status_code == 200
    assert response.json()["hits"][0]["document_id"] == documents[FILES[0]]


def test_cli_check_reports_equal(stack: Stack, documents: dict) -> None:
    result = run_cli(stack, "rebuild", "documents", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "view documents checked" in result.stdout


def test_cli_unknown_view(stack: Stack) -> None:
    result = run_cli(stack, "rebuild", "no-such-view")
    assert result.returncode == 1
    assert "unknown view 'no-such-view'" in result.stderr
