"""Folding, segmentation, vocabulary and one-edit checks for product search."""

import pytest

from tidings.catalog_text import (
    embedding_text,
    fold,
    index_text,
    latin_words,
    query_terms,
    trigrams,
    within_one_edit,
)


def test_fold_full_width() -> None:
    assert fold("ＵＳＢ充电器　快充") == "USB充电器 快充"


def test_fold_traditional_to_simplified() -> None:
    assert fold("無線藍牙耳機") == "无线蓝牙耳机"


def test_index_text_segments_chinese() -> None:
    words = index_text("秋冬保暖加厚澳洲羊毛被").split()

    assert "羊毛" in words
    assert "保暖" in words


def test_index_text_keeps_latin_words() -> None:
    assert index_text("iPhone 手机壳").split()[0] == "iPhone"


def test_query_terms_drop_operators() -> None:
    assert query_terms('wool or "fleece" -cotton') == ["wool", "fleece"]


def test_latin_words_skip_short_and_cjk() -> None:
    assert latin_words("Wool hat 羊毛 Sunglasses") == {"wool", "sunglasses"}


def test_trigrams_are_padded() -> None:
    assert trigrams("cat") == ["  c", " ca", "at ", "cat"]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("sunglases", "sunglasses", True),
        ("sunglassess", "sunglasses", True),
        ("sunglasees", "sunglasses", True),
        ("sungalsses", "sunglasses", True),
        ("sunglasses", "sunglasses", True),
        ("sunglas", "sunglasses", False),
        ("snuglasess", "sunglasses", False),
        ("hoodie", "hoodies", True),
        ("abcd", "badc", False),
    ],
)
def test_within_one_edit(a: str, b: str, expected: bool) -> None:
    assert within_one_edit(a, b) is expected


def test_embedding_text_joins_fields() -> None:
    text = embedding_text("無線耳機", "Sony", ["數碼", "耳機"], "降噪")

    assert text == "无线耳机. Sony. 数码 / 耳机. 降噪"


def test_embedding_text_cuts_description() -> None:
    text = embedding_text("Mug", None, [], "x" * 2000)

    assert len(text) < 600
