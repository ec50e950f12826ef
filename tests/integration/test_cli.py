"""The `tidings` command line against the test stack."""

import json
import os
import subprocess
import sys

import pytest

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
