"""Location of the shared test corpus and helpers to read its PDF manifest.

The corpus is not part of the repository. Set TIDINGS_CORPUS_DIR to its folder,
or place it at `../shared/corpus` next to the repository root.
"""

import csv
import os
from pathlib import Path

import pytest

CORPUS_ENV_VAR = "TIDINGS_CORPUS_DIR"
CORPUS_DIR = Path(
    os.environ.get(CORPUS_ENV_VAR)
    or Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
)
PDF_DIR = CORPUS_DIR / "pdfs"
PDF_MANIFEST = PDF_DIR / "manifest.csv"

# Final pipeline outcomes for each `expected` value of the PDF manifest. Each set
# contains every outcome that the manifest allows for that value.
PDF_OUTCOMES: dict[str, frozenset[str]] = {
    "text": frozenset({"indexed"}),
    "text_cjk": frozenset({"indexed"}),
    "text_cjk_partial": frozenset({"indexed"}),
    "form": frozenset({"indexed"}),
    "malformed_recoverable": frozenset({"indexed"}),
    "encrypted_empty_password": frozenset({"indexed"}),
    "encrypted_needs_password": frozenset({"indexed"}),
    "no_text": frozenset({"no_text"}),
    "mojibake": frozenset({"no_text"}),
    "mojibake_cjk": frozenset({"no_text"}),
    "malformed_unreadable": frozenset({"failed:malformed"}),
    "malformed_recoverable_or_fail": frozenset({"indexed", "failed:malformed"}),
    "malformed_or_resource_limit": frozenset(
        {"failed:malformed", "failed:too_many_pages"}
    ),
}

# The manifest's `expected` column describes how a file opens, not its content.
# These files open but have no text, as their `special` column notes.
PDF_OUTCOME_OVERRIDES: dict[str, frozenset[str]] = {
    "pdfjs__empty_protected.pdf": frozenset({"no_text"}),
}


def require_corpus() -> None:
    """Skip the calling test when the PDF corpus is missing."""
    if not PDF_MANIFEST.is_file():
        pytest.skip(
            f"PDF corpus not found: {PDF_DIR} is missing; set {CORPUS_ENV_VAR} "
            f"to the folder that contains pdfs/manifest.csv"
        )


def load_pdf_manifest() -> list[dict[str, str]]:
    """Return the rows of pdfs/manifest.csv, or [] when the corpus is missing."""
    if not PDF_MANIFEST.is_file():
        return []
    with PDF_MANIFEST.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def manifest_params(rows: list[dict[str, str]]) -> list[object]:
    """Return pytest parameters named by file, or one skipped case without corpus."""
    if not rows:
        reason = (
            f"PDF corpus not found: {PDF_DIR} is missing; set {CORPUS_ENV_VAR} "
            f"to the folder that contains pdfs/manifest.csv"
        )
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(row, id=row["file"]) for row in rows]


def read_pdf(name: str) -> bytes:
    """Return the bytes of a corpus PDF, or skip the test when the corpus is missing."""
    require_corpus()
    return (PDF_DIR / name).read_bytes()


def expected_outcomes(row: dict[str, str]) -> frozenset[str]:
    """Return the pipeline outcomes the manifest allows for a row."""
    override = PDF_OUTCOME_OVERRIDES.get(row["file"])
    if override is not None:
        return override
    return PDF_OUTCOMES[row["expected"]]


def manifest_passwords(row: dict[str, str]) -> dict[str, str]:
    """Return the row's passwords by role, "user" and optionally "owner".

    The `password` column contains either one password, the user password, or
    the form "foo (user) / bar (owner)".
    """
    text = row["password"].strip()
    if not text:
        return {}
    if "(user)" not in text:
        return {"user": text}

    passwords: dict[str, str] = {}
    for part in text.split(" / "):
        password, _, role = part.strip().rpartition(" ")
        passwords[role.strip("()")] = password
    return passwords


def manifest_page_count(row: dict[str, str]) -> int | None:
    """Return the row's page count, or None when the manifest has no plain number."""
    pages = row["pages"].strip()
    return int(pages) if pages.isdigit() else None


SITES_DIR = CORPUS_DIR / "sites"


def require_sites_corpus() -> None:
    """Skip the calling test when the website corpus is missing."""
    if not (SITES_DIR / "manifest.csv").is_file():
        pytest.skip(
            f"website corpus not found: {SITES_DIR} is missing; set "
            f"{CORPUS_ENV_VAR} to the folder that contains sites/manifest.csv"
        )
