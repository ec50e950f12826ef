"""A generic JSON-over-HTTP provider: URL template, auth header, field mapping.

`HttpProvider.fetch_records` makes one request and maps the response with
the provider's `ResponseMapping`; `HttpProvider.query` runs it through the
provider's `ProviderGuard` (retries, circuit breaker, rate limit, cache).
Every httpx and json error becomes a `ProviderError` here, so callers see
one family with a stable `reason`.
"""

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from connectors.verification.clock import Clock, SystemClock
from connectors.verification.errors import (
    ProviderConfigError,
    ProviderConnectionError,
    ProviderResponseError,
    ProviderStatusError,
    ProviderTimeoutError,
)
from connectors.verification.json_path import JsonPath, compile_path
from connectors.verification.names import normalize_query
from connectors.verification.presets import ResponseMapping, get_preset
from connectors.verification.resilience import (
    AttemptCallback,
    CallContext,
    ProviderGuard,
)
from connectors.verification.retry import parse_retry_after
from connectors.verification.settings import ProviderSettings

Record = dict[str, Any]

DEFAULT_MAX_RESPONSE_BYTES = 5_000_000
# Enough of a provider's error body to explain a failure in a log line.
ERROR_BODY_PREVIEW = 200


@dataclass(frozen=True)
class HttpProviderConfig:
    """Everything needed to call one provider; `api_key` stays out of repr."""

    name: str
    base_url: str
    path_template: str
    mapping: ResponseMapping
    method: str = "GET"
    auth_header: str | None = None
    auth_scheme: str | None = None
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    @classmethod
    def from_settings(
        cls, name: str, settings: ProviderSettings
    ) -> "HttpProviderConfig":
        """Build a config from settings, filling gaps from the named preset."""
        if not settings.base_url:
            raise ProviderConfigError(
                f"provider {name!r} has no base_url; set "
                f"TIDINGS_VERIFY_{name.upper()}__BASE_URL"
            )
        preset = get_preset(settings.preset) if settings.preset else None
        path_template = settings.path_template or (
            preset.path_template if preset else None
        )
        if path_template is None or preset is None:
            raise ProviderConfigError(
                f"provider {name!r} needs a preset for its response mapping; set "
                f"TIDINGS_VERIFY_{name.upper()}__PRESET"
            )
        api_key = settings.api_key.get_secret_value() if settings.api_key else None
        return cls(
            name=name,
            base_url=settings.base_url,
            path_template=path_template,
            mapping=preset.mapping,
            auth_header=preset.auth_header,
            auth_scheme=preset.auth_scheme,
            api_key=api_key,
            headers=dict(preset.headers),
            params={**preset.default_params, **settings.params},
        )


class HttpProvider:
    """Calls one JSON-over-HTTP provider and maps its responses to records."""

    def __init__(
        self,
        config: HttpProviderConfig,
        client: httpx.AsyncClient,
        *,
        guard: ProviderGuard[list[Record]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._client = client
        self._guard = guard
        self._clock = clock or SystemClock()
        self._placeholders = _placeholders(config.path_template)
        self._items_path = compile_path(config.mapping.items_path)
        self._field_paths: dict[str, JsonPath] = {
            name: compile_path(path) for name, path in config.mapping.fields.items()
        }

    @property
    def name(self) -> str:
        return self.config.name

    def build_url(self, params: Mapping[str, str]) -> str:
        """Fill the path template with URL-encoded values; raise on a missing one."""
        values = {**self.config.params, **params}
        if self.config.api_key is not None:
            values.setdefault("api_key", self.config.api_key)
        missing = sorted(self._placeholders - values.keys())
        if missing:
            raise ProviderConfigError(
                f"provider {self.name!r}: the path template "
                f"{self.config.path_template!r} needs values for {missing}; pass "
                f"them as query parameters or set them in the provider's params"
            )
        encoded = {key: quote(str(values[key]), safe="") for key in self._placeholders}
        path = self.config.path_template.format(**encoded)
        return self.config.base_url.rstrip("/") + path

    def cache_key(self, params: Mapping[str, str]) -> str:
        """Return the normalised form of a query, shared by equivalent spellings."""
        return "&".join(
            f"{key}={normalize_query(str(value))}"
            for key, value in sorted(params.items())
        )

    async def query(
        self,
        params: Mapping[str, str],
        context: CallContext,
        *,
        on_attempt: AttemptCallback | None = None,
    ) -> list[Record]:
        """Return the mapped records, through the guard when there is one.

        The records are shallow copies, so a caller may replace their fields
        without changing the cached response.
        """
        if self._guard is None:
            return await self.fetch_records(params)
        records = await self._guard.call(
            lambda: self.fetch_records(params),
            context,
            cache_key=self.cache_key(params),
            on_attempt=on_attempt,
        )
        return [dict(record) for record in records]

    async def fetch_records(self, params: Mapping[str, str]) -> list[Record]:
        """Make one request and map its response; raise ProviderError on failure."""
        document = await self.fetch_json(params)
        return self.map_records(document)

    async def fetch_json(self, params: Mapping[str, str]) -> Any:
        """Make one request and return its parsed JSON body."""
        url = self.build_url(params)
        try:
            request = self._client.build_request(
                self.config.method, url, headers=self._headers()
            )
            response = await self._client.send(request, stream=True)
            try:
                body = await self._read_body(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            raise ProviderTimeoutError(
                self.name,
                f"the request timed out ({type(exc).__name__}); raise the "
                f"provider's timeout_seconds setting if the provider is slow",
            ) from exc
        except httpx.DecodingError as exc:
            raise ProviderResponseError(
                self.name, f"the response body could not be decoded ({exc})"
            ) from exc
        except httpx.InvalidURL as exc:
            raise ProviderConfigError(
                f"provider {self.name!r}: the URL built from base_url and the path "
                f"template is invalid ({exc}); check both settings"
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderConnectionError(
                self.name,
                f"the connection failed ({type(exc).__name__}: {exc}); check that "
                f"base_url {self.config.base_url!r} is right and the provider is up",
            ) from exc

        self._raise_for_status(response, body)
        return self._parse_json(body)

    def map_records(self, document: Any) -> list[Record]:
        """Return one record per item of the response, with our field names."""
        items = self._items(document)
        records: list[Record] = []
        for position, item in enumerate(items):
            record = {
                name: path.extract(item) for name, path in self._field_paths.items()
            }
            missing = sorted(
                name
                for name in self.config.mapping.required
                if record.get(name) in (None, "")
            )
            if missing:
                raise ProviderResponseError(
                    self.name,
                    f"item {position} of the response lacks {missing} (paths "
                    f"{[self.config.mapping.fields[name] for name in missing]}); the "
                    f"response does not have the shape of the configured preset",
                )
            records.append(record)
        return records

    def _items(self, document: Any) -> list[Any]:
        if not self.config.mapping.items_path:
            return [document]
        items = self._items_path.extract(document)
        if items is None:
            return []
        if isinstance(items, dict):
            return [items]
        if not isinstance(items, list):
            raise ProviderResponseError(
                self.name,
                f"the response has a {type(items).__name__} at "
                f"{self.config.mapping.items_path!r} where a list of results belongs",
            )
        return items

    def _headers(self) -> dict[str, str]:
        headers = dict(self.config.headers)
        if self.config.auth_header and self.config.api_key:
            scheme = f"{self.config.auth_scheme} " if self.config.auth_scheme else ""
            headers[self.config.auth_header] = scheme + self.config.api_key
        return headers

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self.config.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise ProviderResponseError(
                    self.name,
                    f"the response is larger than {limit:,} bytes; raise "
                    f"max_response_bytes if such responses are expected",
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _raise_for_status(self, response: httpx.Response, body: bytes) -> None:
        if 200 <= response.status_code < 300:
            return
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), self._clock.time()
        )
        preview = body[:ERROR_BODY_PREVIEW].decode("utf-8", errors="replace")
        raise ProviderStatusError(
            self.name,
            f"the provider responded with HTTP {response.status_code} ({preview!r})",
            status_code=response.status_code,
            retry_after=retry_after,
        )

    def _parse_json(self, body: bytes) -> Any:
        try:
            return json.loads(body)
        except json.JSONDecodeError as exc:
            raise ProviderResponseError(
                self.name,
                f"the response is not valid JSON ({exc.msg} at line {exc.lineno}, "
                f"column {exc.colno})",
            ) from exc
        except UnicodeDecodeError as exc:
            raise ProviderResponseError(
                self.name,
                f"the response is not UTF-8 text (invalid byte at offset {exc.start})",
            ) from exc


def _placeholders(template: str) -> frozenset[str]:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    except ValueError as exc:
        raise ProviderConfigError(
            f"invalid path template {template!r} ({exc}); write placeholders as "
            f"{{name}} and literal braces as {{{{ and }}}}"
        ) from exc
    return frozenset(names)
