"""Presets: request and response shapes of known search and registry APIs.

A preset gives the path template, the auth header and the mapping from
the provider's JSON response to our fields. The host comes from the
provider's `base_url` setting, so no preset sends a request anywhere by
default.

Web search presets map each hit to `title`, `url` and `snippet`, and the
registry preset maps each company to `name`, `number`, `status`,
`legal_representative`, `address` and `country`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.verification.errors import ProviderConfigError


@dataclass(frozen=True)
class ResponseMapping:
    """Paths to the records in a response and to each field in a record.

    `items_path` leads to a list of records (a single object counts as one
    record, and a missing list as none). An empty `items_path` means the
    whole response is one record. `fields` maps our field names to paths
    inside a record (see `json_path`). A record that lacks a `required`
    field makes the response malformed.
    """

    items_path: str
    fields: Mapping[str, str]
    required: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ProviderPreset:
    name: str
    path_template: str
    mapping: ResponseMapping
    auth_header: str | None = None
    auth_scheme: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    default_params: Mapping[str, str] = field(default_factory=dict)


SEARCH_FIELDS = ("title", "url", "snippet")

# Google Custom Search JSON API, method cse.list, resource `Search`:
#   {"kind": "customsearch#search", "searchInformation": {...},
#    "items": [{"title": "...", "link": "https://...", "displayLink": "...",
#               "snippet": "...", "htmlSnippet": "...", ...}]}
# The key travels as the `key` query parameter and the engine as `cx`;
# "items" is absent when nothing matched.
GOOGLE_CUSTOM_SEARCH = ProviderPreset(
    name="google_custom_search",
    path_template="/customsearch/v1?key={api_key}&cx={engine_id}&q={query}&num={count}",
    mapping=ResponseMapping(
        items_path="items",
        fields={"title": "title", "url": "link", "snippet": "snippet"},
        required=frozenset({"url"}),
    ),
    default_params={"count": "10"},
)

# Brave Search API, web search endpoint, model `WebSearchApiResponse`:
#   {"type": "search", "query": {"original": "..."},
#    "web": {"type": "search", "results": [{"title": "...", "url": "https://...",
#            "description": "...", "extra_snippets": ["..."], ...}]}}
# The key travels in the X-Subscription-Token header.
BRAVE_WEB_SEARCH = ProviderPreset(
    name="brave_web_search",
    path_template="/res/v1/web/search?q={query}&count={count}",
    mapping=ResponseMapping(
        items_path="web.results",
        fields={"title": "title", "url": "url", "snippet": "description"},
        required=frozenset({"url"}),
    ),
    auth_header="X-Subscription-Token",
    headers={"Accept": "application/json"},
    default_params={"count": "10"},
)

# Bing Web Search API v7, object `SearchResponse`:
#   {"_type": "SearchResponse", "queryContext": {...},
#    "webPages": {"totalEstimatedMatches": 1, "value": [{"name": "...",
#                 "url": "https://...", "snippet": "...", ...}]}}
# The key travels in the Ocp-Apim-Subscription-Key header.
# NOTE: Microsoft's Bing Web Search documentation says the API retires on
# 11 August 2025. The preset remains for gateways that keep this shape.
BING_WEB_SEARCH_V7 = ProviderPreset(
    name="bing_web_search_v7",
    path_template="/v7.0/search?q={query}&count={count}",
    mapping=ResponseMapping(
        items_path="webPages.value",
        fields={"title": "name", "url": "url", "snippet": "snippet"},
        required=frozenset({"url"}),
    ),
    auth_header="Ocp-Apim-Subscription-Key",
    default_params={"count": "10"},
)

# A company-registry API of our own design, for registries that we front
# with an adapter:
#   GET /v1/companies?name=...&number=...&country=...
#   Authorization: Bearer <key>
#   {"data": {"companies": [{
#       "registered_name": "深圳示例科技有限公司",
#       "registration_number": "91440300EXAMPLE0001",
#       "status": "active",             (or revoked, dissolved, or the
#                                        registry's own word, e.g. 存续)
#       "legal_representative": {"name": "张三"},
#       "registered_address": {"full": "深圳市南山区示例路 1 号",
#                              "country": "CN"}}]}}
COMPANY_REGISTRY = ProviderPreset(
    name="company_registry",
    path_template="/v1/companies?name={name}&number={number}&country={country}",
    mapping=ResponseMapping(
        items_path="data.companies",
        fields={
            "name": "registered_name",
            "number": "registration_number",
            "status": "status",
            "legal_representative": "legal_representative.name",
            "address": "registered_address.full",
            "country": "registered_address.country",
        },
        required=frozenset({"name"}),
    ),
    auth_header="Authorization",
    auth_scheme="Bearer",
    headers={"Accept": "application/json"},
    default_params={"number": "", "country": ""},
)

PRESETS: dict[str, ProviderPreset] = {
    preset.name: preset
    for preset in (
        GOOGLE_CUSTOM_SEARCH,
        BRAVE_WEB_SEARCH,
        BING_WEB_SEARCH_V7,
        COMPANY_REGISTRY,
    )
}


def get_preset(name: str) -> ProviderPreset:
    """Return the preset called `name`, or raise ProviderConfigError."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ProviderConfigError(
            f"unknown provider preset {name!r}; choose one of {sorted(PRESETS)} "
            f"or set path_template and the field mapping yourself"
        ) from None
