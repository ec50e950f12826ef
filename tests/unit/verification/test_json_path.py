"""The small JSON path language of response mappings."""

from typing import Any

import pytest

from connectors.verification.errors import ProviderConfigError
from connectors.verification.json_path import compile_path

DOCUMENT: dict[str, Any] = {
    "web": {"results": [{"url": "a", "meta": {"rank": 1}}, {"url": "b"}]},
    "odd.key": {"x": 5},
    "items": [],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("web.results[0].url", "a"),
        ("$.web.results[1].url", "b"),
        ("web.results[*].url", ["a", "b"]),
        ("web.results[*].meta.rank", [1]),
        ("['odd.key'].x", 5),
        ('["odd.key"].x', 5),
        ("items", []),
        ("web.results[5].url", None),
        ("web.missing", None),
        ("web.results.url", None),
        ("items[*].url", []),
        ("", DOCUMENT),
        ("$", DOCUMENT),
    ],
)
def test_extract(path: str, expected: Any) -> None:
    assert compile_path(path).extract(DOCUMENT) == expected


@pytest.mark.parametrize("path", ["web..results", "web[x]", "web.results[", "a b"])
def test_invalid_path_rejected(path: str) -> None:
    with pytest.raises(ProviderConfigError, match="invalid JSON path"):
        compile_path(path)
