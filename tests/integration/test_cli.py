"""The `tidings` command line against the test stack."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.catalog_helpers import stored_version, wait_for_versions
from tests.integration.helpers import pdf_path
from tests.stack import REPO_ROOT, Stack

pytestmark = pytest.mark.integration


def _tidings(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TIDINGS_API_URL": stack.api_url,
        "TIDINGS_API_KEY": stack.api_key,
        "TIDINGS_DATA_DIR": str(stack.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ingest_prints_final_states(stack: Stack) -> None:
    result = _tidings(
        stack,
        "ingest",
        str(pdf_path("samplefiles__pdflatex-4-pages.pdf")),
        str(pdf_path("pdfjs__issue7229.pdf")),
        str(pdf_path("pdfjs__issue15590.pdf")),
    )
    lines = result.stdout.splitlines()

    assert result.returncode == 0, result.stderr
    assert any(
        line.startswith("samplefiles__pdflatex-4-pages.pdf: indexed") for line in lines
    )
    assert any(line.startswith("pdfjs__issue7229.pdf: no_text") for line in lines)
    assert any(
        line.startswith("pdfjs__issue15590.pdf: failed (malformed") for line in lines
    )


def test_ingest_rejected_file_exits_nonzero(stack: Stack, tmp_path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a pdf")

    result = _tidings(stack, "ingest", str(text_file))

    assert result.returncode == 1
    assert "notes.txt: rejected" in result.stdout


def test_search_json_output(stack: Stack) -> None:
    _tidings(stack, "ingest", str(pdf_path("pypdf__crazyones.pdf")))

    result = _tidings(stack, "search", "misfits rebels troublemakers", "--json")
    hits = json.loads(result.stdout)

    assert result.returncode == 0, result.stderr
    assert hits[0]["filename"] == "pypdf__crazyones.pdf"
    assert {"document_id", "page", "snippet", "score"} <= set(hits[0])


def test_tenants_create_prints_key(stack: Stack) -> None:
    result = _tidings(stack, "tenants", "create", "cli-tenant")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("tdk_")


def test_tenants_create_rejects_bad_name(stack: Stack) -> None:
    result = _tidings(stack, "tenants", "create", "Bad Name!")

    assert result.returncode == 1
    assert "invalid tenant name" in result.stderr


def _catalog_file(tmp_path: Path, prefix: str) -> Path:
    path = tmp_path / "products.csv"
    path.write_text(
        "product_id,title,price,version\n"
        f"{prefix}-a,Linen shirt,19.5,1\n"
        f"{prefix}-b,Wool coat,cheap,1\n"
        f"{prefix}-c,Silk scarf,9,1\n"
    )
    return path


def test_catalog_import_invalid_row_stops(stack: Stack, tmp_path: Path) -> None:
    path = _catalog_file(tmp_path, f"cli-{uuid.uuid4().hex[:8]}")

    result = _tidings(stack, "catalog", "import", str(path))

    assert result.returncode == 1
    assert "line 3: price 'cheap': not a number" in result.stderr
    assert "nothing imported: 1 of 3 rows are invalid" in result.stderr
    assert "--skip-invalid" in result.stderr
    assert "Wool coat" not in result.stderr


def test_catalog_import_skip_invalid(
    stack: Stack, api: httpx.Client, tmp_path: Path
) -> None:
    prefix = f"cli-{uuid.uuid4().hex[:8]}"
    path = _catalog_file(tmp_path, prefix)

    result = _tidings(stack, "catalog", "import", str(path), "--skip-invalid")
    stored = wait_for_versions(api, {f"{prefix}-a": 1, f"{prefix}-c": 1})

    assert result.returncode == 1
    assert "line 3: price 'cheap': not a number" in result.stderr
    assert "accepted 2 products from products.csv" in result.stdout
    assert "skipped 1 invalid rows" in result.stderr
    assert stored
    assert stored_version(api, f"{prefix}-b") is None


def test_verify_invalid_options_readable(stack: Stack) -> None:
    result = _tidings(
        stack, "verify", "--name", "Acme", "--kind", "corp", "--check", "credit"
    )
    lines = result.stderr.splitlines()

    assert result.returncode == 1
    assert (
        "error: invalid --kind 'corp': Input should be 'company', 'person' or "
        "'merchant'" in lines
    )
    assert any(line.startswith("error: invalid --check 'credit'") for line in lines)
    assert "'loc'" not in result.stderr


def test_ingest_encrypted_hint_names_option(stack: Stack, tmp_path: Path) -> None:
    # New bytes, so that no other test has retried this document already.
    path = tmp_path / "locked.pdf"
    path.write_bytes(pdf_path("pdfminer__rc4-40.pdf").read_bytes() + b"\n% cli\n")

    result = _tidings(stack, "ingest", str(path))
    line = next(line for line in result.stdout.splitlines() if "locked.pdf" in line)

    assert line.startswith("locked.pdf: failed (encrypted:")
    assert "upload it again with the --password option" in line
    assert "`password` field" not in line
