"""Document search finds nothing for queries about nothing in the documents.

A chunk found only by its embedding must reach
`search_vector_min_similarity`, and a query with Chinese characters that the
model lacks is searched by full text only. With the earlier cutoff of 0.25
and the one-half share of unknown tokens, "xq7 vorblat snerg" found the
Chinese school essay at 0.27 and "海上钻井平台" (a third of its tokens
unknown) found it at 0.51.
"""

from collections.abc import Iterator

import httpx
import pytest

from tests.corpus import require_corpus
from tests.integration.helpers import index_pdfs
from tests.integration.helpers import search_documents as search
from tests.stack import Stack, fresh_tenant

pytestmark = pytest.mark.integration

ESSAY_PDF = "pdfjs__issue2128r.pdf"
CRAZY_ONES_PDF = "pypdf__crazyones.pdf"
SAMPLE_PDF = "samplefiles__pdflatex-4-pages.pdf"


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    """A fresh tenant that owns a Chinese essay and two English PDFs."""
    require_corpus()
    with fresh_tenant(stack, "cutoff") as client:
        index_pdfs(client, (ESSAY_PDF, CRAZY_ONES_PDF, SAMPLE_PDF))
        yield client


@pytest.mark.parametrize("query", ["xq7 vorblat snerg", "zzzqqqxx", "qwertyuiop"])
def test_nonsense_finds_nothing(api: httpx.Client, query: str) -> None:
    assert search(api, query) == []


@pytest.mark.parametrize("query", ["海上钻井平台", "公司简介"])
def test_partly_unknown_chinese_finds_nothing(api: httpx.Client, query: str) -> None:
    assert search(api, query) == []


def test_paraphrase_finds_its_document(api: httpx.Client) -> None:
    """No word of the query is in the poem, so only the vector part finds it."""
    hits = search(api, "people who think differently change the world")

    assert hits
    assert hits[0]["filename"] == CRAZY_ONES_PDF
    assert hits[0]["matched_by"] == ["vector"]


def test_chinese_words_still_match_text(api: httpx.Client) -> None:
    hits = search(api, "校长的魅力")

    assert {hit["filename"] for hit in hits} == {ESSAY_PDF}
    assert all(hit["matched_by"] == ["text"] for hit in hits)
