"""Page decoding against the encoding page set and its manifest."""

import csv

import pytest

from connectors.sites.decoding import decode_page
from tests.corpus import SITES_DIR, require_sites_corpus

ENCODING_DIR = SITES_DIR / "encoding-pages"

# The manifest's true_encoding as a Python codec. Legacy encodings decode
# with the superset browsers use, which reads these files identically.
CODECS = {
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "euc-jp": "euc_jp",
    "shift_jis": "cp932",
    "iso-8859-1": "cp1252",
    "utf-8": "utf-8",
    "ascii/none": "utf-8",
}
# The two scrapy link-extractor pages hold UTF-8 bytes (sample_ñ is C3 B1)
# although the manifest gives latin-1 and ascii. Valid UTF-8 wins over a
# declared legacy charset, so they decode as UTF-8.
BYTES_ARE_UTF8 = {
    "scrapy-linkextractor/linkextractor_latin1.html",
    "scrapy-linkextractor/linkextractor_noenc.html",
}


def manifest_rows() -> list[object]:
    path = ENCODING_DIR / "manifest.csv"
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason="no site corpus"))]
    with path.open(encoding="utf-8", newline="") as handle:
        return [pytest.param(row, id=row["file"]) for row in csv.DictReader(handle)]


@pytest.mark.parametrize("row", manifest_rows())
def test_corpus_page_decoded(row: dict[str, str]) -> None:
    require_sites_corpus()
    body = (ENCODING_DIR / row["file"]).read_bytes()
    codec = CODECS[row["true_encoding"].lower()]
    if row["file"] in BYTES_ARE_UTF8:
        codec = "utf-8"

    decoded = decode_page(body, "text/html")

    assert decoded.text == body.decode(codec, errors="strict")


def test_utf8_bom_stripped() -> None:
    body = "\ufeff<p>héllo</p>".encode()

    decoded = decode_page(body, "text/html; charset=iso-8859-1")

    assert decoded.text == "<p>héllo</p>"
    assert decoded.source == "bom"


def test_header_charset_beats_meta() -> None:
    body = '<meta charset="big5"><p>中文</p>'.encode("gbk")

    decoded = decode_page(body, "text/html; charset=gbk")

    assert decoded.encoding == "gb18030"
    assert "中文" in decoded.text


def test_meta_charset_without_header() -> None:
    body = '<meta charset="shift_jis"><p>日本語のページ</p>'.encode("shift_jis")

    decoded = decode_page(body, "text/html")

    assert decoded.encoding == "cp932"
    assert decoded.source == "meta"


def test_utf8_bytes_beat_wrong_declaration() -> None:
    body = '<meta charset="gb2312"><p>腾讯科技讯 人工智能</p>'.encode()

    decoded = decode_page(body, None)

    assert decoded.encoding == "utf-8"
    assert decoded.declared == "gb18030"


def test_wrong_page_of_news_set_decoded() -> None:
    require_sites_corpus()
    body = (SITES_DIR / "news-articles/readability/qq/source.html").read_bytes()

    decoded = decode_page(body, None)

    assert decoded.encoding == "utf-8"
    assert "人工智能" in decoded.text


def test_undecodable_bytes_replaced() -> None:
    body = b"<p>\xff\xfe\xfa broken</p>" + bytes(range(0x80, 0x90))

    decoded = decode_page(body, "text/html; charset=utf-8")

    assert "broken" in decoded.text
