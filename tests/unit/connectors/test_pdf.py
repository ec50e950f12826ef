"""Tests of PDF text extraction against the shared corpus and damaged input."""

import difflib
import random
import time
import unicodedata
from collections.abc import Iterator

import pypdf
import pytest

from connectors.pdf import (
    ExtractedPdf,
    PdfError,
    PdfExtractor,
    extract_text,
    sniff_pdf,
)
from tests.corpus import (
    PDF_DIR,
    expected_outcomes,
    load_pdf_manifest,
    manifest_page_count,
    manifest_params,
    manifest_passwords,
    read_pdf,
)

MANIFEST = load_pdf_manifest()
MAX_PAGES = 5000
# Files that must fail at once take milliseconds, so this bound only catches a hang.
FAIL_FAST_SECONDS = 5.0
# The lowest limit that the TIDINGS_PARSE_MEMORY_LIMIT_BYTES setting accepts.
MEMORY_LIMIT_BYTES = 256 * 2**20

HANG_DOCUMENT = b"%PDF-1.7 test document that makes the target sleep"
ALLOCATE_DOCUMENT = b"%PDF-1.7 test document that makes the target allocate"
HANG_SECONDS = 60.0


def _extract_row(row: dict[str, str]) -> ExtractedPdf | PdfError:
    password = manifest_passwords(row).get("user")
    try:
        return extract_text(
            read_pdf(row["file"]), password=password, max_pages=MAX_PAGES
        )
    except PdfError as exc:
        return exc


def _extraction_stage(outcome: str) -> str:
    """Map a pipeline outcome to what extraction alone yields."""
    return outcome if outcome.startswith("failed:") else "extracted"


def _words(text: str) -> list[str]:
    return unicodedata.normalize("NFKC", text).split()


def _build_page_tree_bomb(depth: int) -> bytes:
    """Build a PDF of 2**depth pages whose tree nodes list the next node twice."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        child = 3 + level
        count = 2 ** (depth - level)
        objects.append(
            b"<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count %d >>"
            % (child, child, count)
        )
    objects.append(b"<< /Type /Page /MediaBox [0 0 612 792] >>")

    pdf = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)

    xref_offset = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        pdf += b"%010d 00000 n \n" % offset
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    pdf += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(pdf)


def _misbehaving_target(
    data: bytes, *, password: str | None, max_pages: int
) -> ExtractedPdf:
    """Sleep or allocate for the marker documents, else extract normally."""
    if data == HANG_DOCUMENT:
        time.sleep(HANG_SECONDS)
    if data == ALLOCATE_DOCUMENT:
        # Twice the worker's address-space limit, so only the limit stops it.
        bytearray(2 * MEMORY_LIMIT_BYTES)
    return extract_text(data, password=password, max_pages=max_pages)


@pytest.fixture
def extractor() -> Iterator[PdfExtractor]:
    pdf_extractor = PdfExtractor(
        timeout_seconds=60.0,
        max_pages=MAX_PAGES,
        memory_limit_bytes=MEMORY_LIMIT_BYTES,
    )
    yield pdf_extractor
    pdf_extractor.close()


@pytest.fixture
def misbehaving_extractor() -> Iterator[PdfExtractor]:
    pdf_extractor = PdfExtractor(
        timeout_seconds=1.0,
        max_pages=MAX_PAGES,
        memory_limit_bytes=MEMORY_LIMIT_BYTES,
        target=_misbehaving_target,
    )
    yield pdf_extractor
    pdf_extractor.close()


@pytest.mark.parametrize("row", manifest_params(MANIFEST))
def test_extract_text_matches_manifest(row: dict[str, str]) -> None:
    allowed = {_extraction_stage(outcome) for outcome in expected_outcomes(row)}

    result = _extract_row(row)

    if isinstance(result, PdfError):
        assert f"failed:{result.reason}" in allowed, result.detail
        return
    assert "extracted" in allowed
    assert len(result.pages) == result.page_count
    assert result.failed_pages == []
    assert result.was_encrypted == ("encrypted" in row["category"])
    expected_pages = manifest_page_count(row)
    if expected_pages is not None:
        assert result.page_count == expected_pages


@pytest.mark.parametrize(
    ("name", "expected_name"),
    [
        ("pypdf__crazyones.pdf", "pypdf__crazyones.txt"),
        ("samplefiles__multicolumn.pdf", "samplefiles__multicolumn.txt"),
    ],
)
def test_extract_text_matches_ground_truth(name: str, expected_name: str) -> None:
    extracted = extract_text(read_pdf(name), password=None, max_pages=MAX_PAGES)
    expected = (PDF_DIR / "expected_text" / expected_name).read_text(encoding="utf-8")

    # Both files contain page 1 as pypdf's layout mode prints it, which interleaves
    # the lines of two columns, so the words are compared without their order.
    matcher = difflib.SequenceMatcher(
        None, sorted(_words(extracted.pages[0])), sorted(_words(expected)), False
    )
    assert matcher.ratio() > 0.95


def test_extract_text_keeps_reading_order() -> None:
    extracted = extract_text(
        read_pdf("pypdf__crazyones.pdf"), password=None, max_pages=MAX_PAGES
    )
    expected = (PDF_DIR / "expected_text" / "pypdf__crazyones.txt").read_text(
        encoding="utf-8"
    )

    got_text = " ".join(_words(extracted.pages[0]))
    expected_text = " ".join(_words(expected))
    matcher = difflib.SequenceMatcher(None, got_text, expected_text, False)
    assert matcher.ratio() > 0.95


def test_extract_text_expands_ligatures() -> None:
    extracted = extract_text(
        read_pdf("pdfjs__copy_paste_ligatures.pdf"), password=None, max_pages=10
    )

    text = extracted.pages[0]
    assert "\ufb01" not in text
    assert "ffi" in text


def test_extract_text_keeps_supplementary_cjk() -> None:
    extracted = extract_text(
        read_pdf("pdfjs__issue5202.pdf"), password=None, max_pages=10
    )

    assert "\U00020b9f" in extracted.pages[0]


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("pypdf__r4-aes-user-password.pdf", "asdfzxcv"),
        ("pypdf__r6-both-passwords.pdf", "foo"),
        ("pypdf__libreoffice-writer-password.pdf", "openpassword"),
        ("pdfminer__rc4-40.pdf", "foo"),
    ],
)
def test_extract_encrypted_pdf_with_user_password(name: str, password: str) -> None:
    extracted = extract_text(read_pdf(name), password=password, max_pages=10)

    assert extracted.was_encrypted
    assert extracted.pages[0].strip()


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("pypdf__r6-both-passwords.pdf", "bar"),
        ("pdfminer__rc4-40.pdf", "baz"),
    ],
)
def test_extract_encrypted_pdf_with_owner_password(name: str, password: str) -> None:
    extracted = extract_text(read_pdf(name), password=password, max_pages=10)

    assert extracted.was_encrypted
    assert extracted.pages[0].strip()


def test_extract_encrypted_pdf_with_utf8_password() -> None:
    extracted = extract_text(
        read_pdf("pdfjs__issue6010_2.pdf"), password="æøå", max_pages=10
    )

    assert "Issue 6010" in extracted.pages[0]


def test_extract_encrypted_pdf_with_empty_user_password() -> None:
    extracted = extract_text(
        read_pdf("pypdf__r2-empty-password.pdf"), password=None, max_pages=10
    )

    assert extracted.was_encrypted
    assert "pdf encryption test" in extracted.pages[0]


def test_extract_empty_password_pdf_ignores_given_password() -> None:
    extracted = extract_text(
        read_pdf("pypdf__r2-empty-password.pdf"), password="unused", max_pages=10
    )

    assert "pdf encryption test" in extracted.pages[0]


def test_extract_encrypted_pdf_with_wrong_password() -> None:
    with pytest.raises(PdfError) as caught:
        extract_text(
            read_pdf("pypdf__r6-both-passwords.pdf"), password="wrong", max_pages=10
        )

    assert caught.value.reason == "encrypted"
    assert "password is wrong" in caught.value.detail
    assert "`password` field" in caught.value.detail


def test_extract_encrypted_pdf_without_password() -> None:
    with pytest.raises(PdfError) as caught:
        extract_text(
            read_pdf("pypdf__r4-aes-user-password.pdf"), password=None, max_pages=10
        )

    assert caught.value.reason == "encrypted"
    assert "wrong" not in caught.value.detail
    assert "`password` field" in caught.value.detail


@pytest.mark.parametrize(
    "data",
    [
        b"hello world",
        b"<!DOCTYPE html><html></html>",
        b"\x89PNG\r\n\x1a\n" + bytes(64),
        b" " * 1024 + b"%PDF-1.7\n",
    ],
    ids=["text", "html", "png", "header-after-1024-bytes"],
)
def test_sniff_pdf_rejects_non_pdf(data: bytes) -> None:
    with pytest.raises(PdfError) as caught:
        sniff_pdf(data)

    assert caught.value.reason == "not_pdf"
    assert "%PDF-" in caught.value.detail


def test_sniff_pdf_accepts_header_after_junk() -> None:
    sniff_pdf(b"\x00" * 1000 + b"%PDF-1.4\n")


def test_sniff_pdf_rejects_empty_bytes() -> None:
    with pytest.raises(PdfError) as caught:
        sniff_pdf(b"")

    assert caught.value.reason == "empty"


def test_extract_text_rejects_empty_bytes() -> None:
    with pytest.raises(PdfError) as caught:
        extract_text(b"", password=None, max_pages=10)

    assert caught.value.reason == "empty"


def test_extract_text_rejects_non_pdf() -> None:
    with pytest.raises(PdfError) as caught:
        extract_text(b"PK\x03\x04 a zip file", password=None, max_pages=10)

    assert caught.value.reason == "not_pdf"


@pytest.mark.parametrize(
    "name",
    [
        "pypdf__crazyones.pdf",
        "pdfjs__tracemonkey.pdf",
        "pypdf__r6-both-passwords.pdf",
        "pdfjs__freeculture.pdf",
    ],
)
def test_extract_truncated_pdf_raises_malformed(name: str) -> None:
    data = read_pdf(name)

    with pytest.raises(PdfError) as caught:
        extract_text(data[: len(data) // 2], password="foo", max_pages=MAX_PAGES)

    assert caught.value.reason == "malformed"
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("seed", range(8))
def test_extract_random_bytes_raises_only_pdf_error(seed: int) -> None:
    rng = random.Random(seed)
    data = b"%PDF-1.7\n" + rng.randbytes(rng.randint(0, 4096))

    with pytest.raises(PdfError) as caught:
        extract_text(data, password=None, max_pages=MAX_PAGES)

    assert caught.value.reason == "malformed"


@pytest.mark.parametrize("seed", range(12))
def test_extract_mutated_pdf_raises_only_pdf_error(seed: int) -> None:
    rng = random.Random(seed)
    data = bytearray(read_pdf("pypdf__crazyones.pdf"))
    for _ in range(20):
        data[rng.randrange(len(data))] = rng.randrange(256)

    # A mutated file may still open, so the check is that nothing but
    # PdfError escapes.
    try:
        extracted = extract_text(bytes(data), password=None, max_pages=MAX_PAGES)
    except PdfError:
        return
    assert len(extracted.pages) == extracted.page_count


def test_extract_huge_page_tree_fails_fast() -> None:
    data = read_pdf("larsch__dont_open_this.pdf")
    started = time.monotonic()

    with pytest.raises(PdfError) as caught:
        extract_text(data, password=None, max_pages=MAX_PAGES)

    assert time.monotonic() - started < FAIL_FAST_SECONDS
    assert caught.value.reason == "too_many_pages"


def test_page_tree_bomb_builder_makes_valid_pdf() -> None:
    extracted = extract_text(_build_page_tree_bomb(3), password=None, max_pages=10)

    assert extracted.page_count == 8


def test_extract_page_tree_bomb_fails_fast() -> None:
    data = _build_page_tree_bomb(21)
    started = time.monotonic()

    with pytest.raises(PdfError) as caught:
        extract_text(data, password=None, max_pages=MAX_PAGES)

    assert time.monotonic() - started < FAIL_FAST_SECONDS
    assert caught.value.reason == "too_many_pages"
    assert "2,097,152 pages" in caught.value.detail


def test_extract_page_tree_bomb_hits_pypdf_limit() -> None:
    # With a limit above the declared count, pypdf walks the tree itself and
    # stops at its own maximum of page tree entries.
    data = _build_page_tree_bomb(21)
    started = time.monotonic()

    with pytest.raises(PdfError) as caught:
        extract_text(data, password=None, max_pages=10**9)

    assert time.monotonic() - started < FAIL_FAST_SECONDS
    assert caught.value.reason == "too_many_pages"


def test_extract_cyclic_page_tree_fails_fast() -> None:
    data = read_pdf("pdfjs__Pages-tree-refs.pdf")
    started = time.monotonic()

    with pytest.raises(PdfError) as caught:
        extract_text(data, password=None, max_pages=MAX_PAGES)

    assert time.monotonic() - started < FAIL_FAST_SECONDS
    assert caught.value.reason == "malformed"
    assert "cyclic" in caught.value.detail


def test_extract_text_rejects_more_pages_than_max_pages() -> None:
    with pytest.raises(PdfError) as caught:
        extract_text(read_pdf("pdfjs__tracemonkey.pdf"), password=None, max_pages=10)

    assert caught.value.reason == "too_many_pages"
    assert "14 pages" in caught.value.detail
    assert "TIDINGS_MAX_PDF_PAGES" in caught.value.detail


def test_extract_text_keeps_going_after_failed_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = pypdf.PageObject.extract_text

    def fail_on_page_2(page: pypdf.PageObject, *args: object, **kwargs: object) -> str:
        if page.page_number == 1:
            raise pypdf.errors.PdfReadError("broken content stream")
        return original(page, *args, **kwargs)

    monkeypatch.setattr(pypdf.PageObject, "extract_text", fail_on_page_2)
    extracted = extract_text(
        read_pdf("samplefiles__pdflatex-4-pages.pdf"), password=None, max_pages=10
    )

    assert extracted.failed_pages == [2]
    assert extracted.pages[1] == ""
    assert extracted.pages[0].strip()
    assert extracted.pages[3].strip()


def test_extract_text_fails_when_every_page_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(page: pypdf.PageObject, *args: object, **kwargs: object) -> str:
        raise KeyError("/Resources")

    monkeypatch.setattr(pypdf.PageObject, "extract_text", fail)

    with pytest.raises(PdfError) as caught:
        extract_text(
            read_pdf("samplefiles__pdflatex-4-pages.pdf"), password=None, max_pages=10
        )

    assert caught.value.reason == "malformed"
    assert "all 4 pages" in caught.value.detail


def test_extract_text_reports_memory_error_on_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def exhaust(page: pypdf.PageObject, *args: object, **kwargs: object) -> str:
        raise MemoryError

    monkeypatch.setattr(pypdf.PageObject, "extract_text", exhaust)

    with pytest.raises(PdfError) as caught:
        extract_text(read_pdf("pypdf__crazyones.pdf"), password=None, max_pages=10)

    assert caught.value.reason == "too_large_for_memory"


def test_extract_text_removes_nul_and_surrogates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def with_nul(page: pypdf.PageObject, *args: object, **kwargs: object) -> str:
        return "a\x00b \ud800"

    monkeypatch.setattr(pypdf.PageObject, "extract_text", with_nul)
    extracted = extract_text(
        read_pdf("pypdf__crazyones.pdf"), password=None, max_pages=10
    )

    assert extracted.pages == ["ab \ufffd"]


async def test_extractor_matches_in_process_extraction(
    extractor: PdfExtractor,
) -> None:
    for name, password in [
        ("pdfjs__freeculture.pdf", None),
        ("pypdf__issue-914-xmp-data.pdf", None),
        ("pypdf__r6-both-passwords.pdf", "foo"),
    ]:
        data = read_pdf(name)
        in_process = extract_text(data, password=password, max_pages=MAX_PAGES)

        in_worker = await extractor.extract(data, password)

        assert in_worker == in_process, name


async def test_extractor_times_out_and_recovers(
    misbehaving_extractor: PdfExtractor,
) -> None:
    started = time.monotonic()

    with pytest.raises(PdfError) as caught:
        await misbehaving_extractor.extract(HANG_DOCUMENT, None)

    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < HANG_SECONDS / 2
    crazyones = read_pdf("pypdf__crazyones.pdf")
    extracted = await misbehaving_extractor.extract(crazyones, None)
    assert extracted.page_count == 1


async def test_extractor_memory_limit_stops_allocation(
    misbehaving_extractor: PdfExtractor,
) -> None:
    with pytest.raises(PdfError) as caught:
        await misbehaving_extractor.extract(ALLOCATE_DOCUMENT, None)

    assert caught.value.reason == "too_large_for_memory"
    crazyones = read_pdf("pypdf__crazyones.pdf")
    extracted = await misbehaving_extractor.extract(crazyones, None)
    assert extracted.page_count == 1


async def test_extractor_returns_pdf_error_from_worker(
    extractor: PdfExtractor,
) -> None:
    with pytest.raises(PdfError) as caught:
        await extractor.extract(read_pdf("pdfjs__issue15590.pdf"), None)

    assert caught.value.reason == "malformed"
    assert "startxref" in caught.value.detail


async def test_extractor_rejects_non_pdf(extractor: PdfExtractor) -> None:
    with pytest.raises(PdfError) as caught:
        await extractor.extract(b"not a pdf", None)

    assert caught.value.reason == "not_pdf"
