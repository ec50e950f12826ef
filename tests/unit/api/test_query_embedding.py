"""What a query's embedding is made of, and when vector search skips it."""

from types import SimpleNamespace

import pytest

from api.catalog_cache import CatalogCaches
from api.product_search import SearchPage
from api.product_search_service import embedding_input, remember_state
from api.unknown_tokens import (
    MAX_UNKNOWN_TOKEN_SHARE,
    mostly_unknown,
    unknown_token_share,
)
from api.vector_search import CatalogState
from tidings.settings import Settings


class CharacterTokenizer:
    """Tokenizer that splits into characters and maps every non-ASCII one to
    [UNK], like a vocabulary without Chinese characters."""

    unk_token = "[UNK]"

    def tokenize(self, text: str) -> list[str]:
        return [c if c.isascii() else self.unk_token for c in text if c != " "]


EMBEDDER = SimpleNamespace(model=SimpleNamespace(tokenizer=CharacterTokenizer()))


def test_latin_query_is_known() -> None:
    assert unknown_token_share(EMBEDDER, "mug") == 0.0  # type: ignore[arg-type]


def test_chinese_query_is_unknown() -> None:
    share = unknown_token_share(EMBEDDER, "羊毛被")  # type: ignore[arg-type]

    assert share > MAX_UNKNOWN_TOKEN_SHARE


def test_empty_query_counts_as_unknown() -> None:
    assert unknown_token_share(EMBEDDER, " ") == 1.0  # type: ignore[arg-type]


def test_mostly_unknown_mixed_query() -> None:
    """Two known letters against three unknown characters: text only."""
    assert mostly_unknown(EMBEDDER, "ab 羊毛被")  # type: ignore[arg-type]


def test_mostly_unknown_cjk_needs_every_token() -> None:
    """Three known letters against two unknown characters is below half, but
    a query with CJK characters needs every token known."""
    assert mostly_unknown(EMBEDDER, "abc 羊毛")  # type: ignore[arg-type]


def test_mostly_unknown_latin_below_half() -> None:
    """Outside CJK queries, a share up to one half keeps the vector part."""
    assert not mostly_unknown(EMBEDDER, "abcé")  # type: ignore[arg-type]
    assert mostly_unknown(EMBEDDER, "aéé")  # type: ignore[arg-type]


class KnownTokenizer(CharacterTokenizer):
    """Tokenizer with a token for every character, like a multilingual model."""

    def tokenize(self, text: str) -> list[str]:
        return [c for c in text if c != " "]


def test_mostly_unknown_cjk_all_known() -> None:
    embedder = SimpleNamespace(model=SimpleNamespace(tokenizer=KnownTokenizer()))

    assert not mostly_unknown(embedder, "羊毛被")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hoodie", "hoodie"),
        ("shoes －red", "shoes"),
        ("-红色shoes", "shoes"),
        ("-red鞋", "鞋"),
        ('Ｈｏｏｄｉｅ -"trail running" 羊毛', "Hoodie 羊毛"),
    ],
)
def test_embedding_input_drops_excluded_words(query: str, expected: str) -> None:
    # The same words as full-text search excludes, after folding and
    # segmenting, so full-width minus signs and Chinese runs count too.
    assert embedding_input(query) == expected


def _page(version: int, index: str | None) -> SearchPage:
    return SearchPage(
        rows=[],
        total=0,
        text_matches=0,
        exhaustive=True,
        catalog_version=version,
        vector_index=index,
    )


def test_state_memo_keeps_newest_version() -> None:
    caches = CatalogCaches(Settings())
    remember_state(caches, "t1", _page(5, "idx"))
    remember_state(caches, "t1", _page(4, None))

    assert caches.states["t1"] == CatalogState(5, "idx")
