"""Chinese queries over a tenant's English and Chinese documents.

all-MiniLM-L6-v2, the default embedding model, turns most Chinese characters
into [UNK]. The embedding of such a query lands near arbitrary English
chunks: with the vector part, "自由文化" matched every chunk of the English
LaTeX sample at a cosine similarity of about 0.41. Such queries must be
matched by full text only.
"""

from collections.abc import Iterator

import httpx
import pytest

from tests.corpus import require_corpus
from tests.integration.helpers import index_pdfs
from tests.integration.helpers import search_documents as search
from tests.stack import Stack, fresh_tenant

pytestmark = pytest.mark.integration

CHINESE_PDF = "pypdf__issue-914-xmp-data.pdf"
# Japanese text whose kanji are traditional forms: 電線 folds to 电线.
KANJI_PDF = "pdfjs__issue16063.pdf"
ENGLISH_PDFS = ("samplefiles__pdflatex-4-pages.pdf", "samplefiles__multicolumn.pdf")


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    """A fresh tenant that owns one Chinese, one Japanese and two English PDFs."""
    require_corpus()
    with fresh_tenant(stack, "zh") as client:
        index_pdfs(client, (CHINESE_PDF, KANJI_PDF, *ENGLISH_PDFS))
        yield client


def test_chinese_query_finds_only_chinese_text(api: httpx.Client) -> None:
    hits = search(api, "商品名称")

    assert hits
    assert {hit["filename"] for hit in hits} == {CHINESE_PDF}
    assert all(hit["matched_by"] == ["text"] for hit in hits)


def test_traditional_query_finds_simplified_text(api: httpx.Client) -> None:
    hits = search(api, "商品名稱")

    assert {hit["filename"] for hit in hits} == {CHINESE_PDF}


def test_simplified_query_finds_traditional_text(api: httpx.Client) -> None:
    hits = search(api, "电线")

    assert {hit["filename"] for hit in hits} == {KANJI_PDF}
    assert "電線" in hits[0]["snippet"]


def test_unmatched_chinese_query_finds_nothing(api: httpx.Client) -> None:
    """No document contains the words, so no hit may come from the vector part."""
    assert search(api, "自由文化") == []


def test_english_query_keeps_vector_part(api: httpx.Client) -> None:
    hits = search(api, "printed sample text without any meaning")

    assert any("vector" in hit["matched_by"] for hit in hits)
