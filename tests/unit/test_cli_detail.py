"""Failure details as the command line prints them."""

from connectors.pdf import PdfError, extract_text
from tests.corpus import PDF_DIR, require_corpus
from tidings.cli import cli_detail


def _encrypted_detail(password: str | None) -> str:
    require_corpus()
    data = (PDF_DIR / "pdfminer__rc4-40.pdf").read_bytes()
    try:
        extract_text(data, password=password, max_pages=10)
    except PdfError as exc:
        return exc.detail
    raise AssertionError("the encrypted PDF opened")


def test_encrypted_hint_names_cli_option() -> None:
    detail = cli_detail("encrypted", _encrypted_detail(None))

    assert detail is not None
    assert "the --password option" in detail
    assert "`password` field" not in detail


def test_wrong_password_hint_names_cli_option() -> None:
    detail = cli_detail("encrypted", _encrypted_detail("wrong"))

    assert detail is not None
    assert "password in the --password option" in detail
    assert "`password` field" not in detail


def test_other_reasons_unchanged() -> None:
    detail = "the file is not a PDF; upload the `password` field"

    assert cli_detail("malformed", detail) == detail
