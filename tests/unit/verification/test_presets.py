"""Presets and the generic provider's URL building and response mapping."""

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.verification.errors import ProviderConfigError, ProviderResponseError
from connectors.verification.http_provider import HttpProvider, HttpProviderConfig
from connectors.verification.presets import PRESETS, get_preset
from connectors.verification.records import to_registry_record, to_search_result
from connectors.verification.settings import ProviderSettings

# Responses in each API's documented shape, trimmed to the fields we use.
GOOGLE_RESPONSE = {
    "kind": "customsearch#search",
    "items": [
        {
            "kind": "customsearch#result",
            "title": "Acme Ltd fined",
            "link": "https://news.test/acme",
            "displayLink": "news.test",
            "snippet": "Regulator fined Acme Ltd",
        }
    ],
}
BRAVE_RESPONSE = {
    "type": "search",
    "query": {"original": "acme"},
    "web": {
        "type": "search",
        "results": [
            {
                "title": "Acme Ltd sued",
                "url": "https://news.test/sued",
                "description": "Investors sued Acme Ltd",
            }
        ],
    },
}
BING_RESPONSE = {
    "_type": "SearchResponse",
    "webPages": {
        "value": [
            {
                "name": "Acme Ltd",
                "url": "https://acme.test/",
                "snippet": "Acme Ltd makes widgets",
            }
        ]
    },
}
REGISTRY_RESPONSE = {
    "data": {
        "companies": [
            {
                "registered_name": "深圳示例科技有限公司",
                "registration_number": "91440300EXAMPLE0001",
                "status": "存续",
                "legal_representative": {"name": "张三"},
                "registered_address": {
                    "full": "深圳市南山区示例路 1 号",
                    "country": "CN",
                },
            }
        ]
    }
}


def provider(preset: str, **settings: Any) -> HttpProvider:
    config = HttpProviderConfig.from_settings(
        "web_search",
        ProviderSettings(base_url="http://provider.test", preset=preset, **settings),
    )
    return HttpProvider(config, httpx.AsyncClient())


@pytest.mark.parametrize(
    ("preset", "response", "expected"),
    [
        (
            "google_custom_search",
            GOOGLE_RESPONSE,
            ("Acme Ltd fined", "https://news.test/acme", "Regulator fined Acme Ltd"),
        ),
        (
            "brave_web_search",
            BRAVE_RESPONSE,
            ("Acme Ltd sued", "https://news.test/sued", "Investors sued Acme Ltd"),
        ),
        (
            "bing_web_search_v7",
            BING_RESPONSE,
            ("Acme Ltd", "https://acme.test/", "Acme Ltd makes widgets"),
        ),
    ],
)
def test_search_preset_maps_response(
    preset: str, response: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    records = provider(preset).map_records(response)
    result = to_search_result(records[0])

    assert (result.title, result.url, result.snippet) == expected


def test_registry_preset_maps_response() -> None:
    records = provider("company_registry").map_records(REGISTRY_RESPONSE)
    record = to_registry_record(records[0])

    assert record.name == "深圳示例科技有限公司"
    assert record.number == "91440300EXAMPLE0001"
    assert record.status == "active"
    assert record.raw_status == "存续"
    assert record.legal_representative == "张三"
    assert record.country == "CN"


def test_google_without_items_is_empty() -> None:
    response = {"kind": "customsearch#search", "searchInformation": {}}

    assert provider("google_custom_search").map_records(response) == []


def test_items_of_wrong_type_rejected() -> None:
    with pytest.raises(ProviderResponseError, match="list of results"):
        provider("brave_web_search").map_records({"web": {"results": "none"}})


def test_record_without_required_field() -> None:
    response = {"web": {"results": [{"title": "no url"}]}}

    with pytest.raises(ProviderResponseError, match=r"lacks \['url'\]"):
        provider("brave_web_search").map_records(response)


def test_build_url_encodes_values() -> None:
    url = provider("brave_web_search").build_url({"query": "华为 & co/ltd"})

    assert url == (
        "http://provider.test/res/v1/web/search"
        "?q=%E5%8D%8E%E4%B8%BA%20%26%20co%2Fltd&count=10"
    )


def test_build_url_uses_key_and_params() -> None:
    google = provider(
        "google_custom_search",
        api_key=SecretStr("k-123"),
        params={"engine_id": "engine-9"},
    )

    url = google.build_url({"query": "acme"})

    assert url == (
        "http://provider.test/customsearch/v1?key=k-123&cx=engine-9&q=acme&num=10"
    )


def test_build_url_missing_value_named() -> None:
    with pytest.raises(ProviderConfigError, match=r"\['engine_id'\]"):
        provider("google_custom_search", api_key=SecretStr("k")).build_url(
            {"query": "acme"}
        )


def test_api_key_not_in_repr() -> None:
    config = HttpProviderConfig.from_settings(
        "web_search",
        ProviderSettings(
            base_url="http://provider.test",
            preset="brave_web_search",
            api_key=SecretStr("very-secret"),
        ),
    )

    assert "very-secret" not in repr(config)


def test_unknown_preset_lists_names() -> None:
    with pytest.raises(ProviderConfigError, match="brave_web_search"):
        get_preset("altavista")


def test_missing_base_url_names_variable() -> None:
    with pytest.raises(
        ProviderConfigError, match="TIDINGS_VERIFY_WEB_SEARCH__BASE_URL"
    ):
        HttpProviderConfig.from_settings("web_search", ProviderSettings())


def test_cache_key_normalises_query() -> None:
    search = provider("brave_web_search")

    assert search.cache_key({"query": "ＡＣＭＥ  華為"}) == search.cache_key(
        {"query": "acme 华为"}
    )


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_paths_compile(name: str) -> None:
    # Building a provider compiles the template and every field path.
    assert provider(name).name == "web_search"
