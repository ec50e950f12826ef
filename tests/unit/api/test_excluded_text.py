"""The words and phrases that a websearch query excludes."""

import pytest

from api.product_search import excluded_text


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
