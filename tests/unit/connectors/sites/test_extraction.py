"""Main-text extraction against the expected article texts of the news set.

The score is a bag-of-tokens F1 between the extracted text and the text of
expected.html (words; CJK characters count one each). The bound is below
the rates measured with trafilatura 2.3.1 (0.90 to 1.00 per page, docs/sites.md),
so it catches a regression, not a small drift.
"""

import csv
import json
import re
from collections import Counter

import pytest
from lxml import html as lxml_html

from connectors.sites.decoding import decode_page
from connectors.sites.extraction import extract_main_text
from tests.corpus import SITES_DIR, require_sites_corpus

NEWS_DIR = SITES_DIR / "news-articles"
PRODUCT_DIR = SITES_DIR / "product-pages"
MIN_F1 = 0.85
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]|[^\W_]+")


def token_f1(extracted: str, expected: str) -> float:
    got = Counter(_TOKEN.findall(extracted.lower()))
    want = Counter(_TOKEN.findall(expected.lower()))
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(got.values())
    recall = overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def article_rows() -> list[object]:
    path = NEWS_DIR / "manifest.csv"
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason="no site corpus"))]
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            row
            for row in csv.DictReader(handle)
            if (NEWS_DIR / row["page"] / "expected.html").is_file()
        ]
    return [pytest.param(row, id=row["page"]) for row in rows]


@pytest.mark.parametrize("row", article_rows())
def test_article_main_text_matches(row: dict[str, str]) -> None:
    require_sites_corpus()
    folder = NEWS_DIR / row["page"]
    decoded = decode_page((folder / "source.html").read_bytes(), None)
    expected = lxml_html.fromstring((folder / "expected.html").read_text())

    extracted = extract_main_text(decoded.text, "http://127.0.0.1/article.html")

    assert token_f1(extracted.text, expected.text_content()) >= MIN_F1
    assert extracted.title


def test_product_page_keeps_name_and_description() -> None:
    require_sites_corpus()
    expected = json.loads((PRODUCT_DIR / "schema.org/product.json").read_text())
    product = expected[0]["properties"]
    markup = (PRODUCT_DIR / "schema.org/product.html").read_text()

    extracted = extract_main_text(markup, "http://127.0.0.1/product.html")
    text = " ".join(extracted.text.split())

    assert product["name"] in text
    assert product["description"] in text


def test_empty_page_has_no_text() -> None:
    extracted = extract_main_text("<html><body></body></html>", "http://x/")

    assert extracted.text == ""
