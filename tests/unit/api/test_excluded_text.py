"""The words and phrases that a websearch query excludes."""

import pytest

from api.product_search import excluded_text, without_excluded


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("shoes -trail", "trail"),
        ("-wool", "wool"),
        ('shoes -"trail running" -red', '"trail running" or red'),
        ("t-shirt", ""),
        ("x - y", ""),
        ("shoes", ""),
        ('-"hoodie', '"hoodie'),
        ('top -"trail running', '"trail running'),
    ],
)
def test_excluded_text(query: str, expected: str) -> None:
    assert excluded_text(query) == expected


def test_without_excluded_keeps_wanted_words() -> None:
    assert without_excluded('shirt -yoga -"trail running" blue') == "shirt blue"
    assert without_excluded("-wool") == ""
    assert without_excluded("t-shirt") == "t-shirt"
