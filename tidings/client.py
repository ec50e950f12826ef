"""HTTP client of the Tidings API, used by the CLI."""

import time
from pathlib import Path
from typing import Any

import httpx

from tidings.settings import Settings

FINAL_STATUSES = frozenset({"indexed", "failed", "no_text"})


class ClientError(RuntimeError):
    """The API rejected a request or could not be reached.

    `status` and `detail` are the HTTP status and the response's `detail`,
    when the API responded.
    """

    def __init__(
        self, message: str, status: int | None = None, detail: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


MAX_SHOWN_VALUE = 60


def shorten(value: Any, limit: int = MAX_SHOWN_VALUE) -> str:
    """Return the value's repr, cut to `limit` characters."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def error_message(error: dict[str, Any]) -> str:
    """Return the message of one pydantic error without pydantic's prefix."""
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def describe_validation_error(error: dict[str, Any]) -> str:
    """Return one line for one entry of a 422 `detail` list: field, value, message.

    The location drops its leading "body" or "query", so the field reads as
    the request names it.
    """
    location = [str(part) for part in error.get("loc", [])]
    if location and location[0] in ("body", "query", "path", "header"):
        location = location[1:]
    field = ".".join(location) or "request"
    message = error_message(error)
    if error.get("type") == "missing" or "input" not in error:
        return f"{field}: {message}"
    return f"{field} {shorten(error['input'])}: {message}"


def _error_text(detail: Any) -> str:
    if isinstance(detail, list) and all(isinstance(item, dict) for item in detail):
        return "; ".join(describe_validation_error(item) for item in detail)
    return str(detail)


def resolve_api_key(settings: Settings) -> str:
    if settings.api_key is not None:
        return settings.api_key.get_secret_value()
    path = settings.keys_dir / "demo.key"
    if path.exists():
        return path.read_text().strip()
    raise ClientError(
        f"no API key: set TIDINGS_API_KEY, or start the local stack (`make run`) "
        f"so that {path} exists"
    )


class TidingsClient:
    def __init__(self, settings: Settings, timeout: float = 60.0) -> None:
        self.base_url = settings.base_api_url
        self.http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {resolve_api_key(settings)}"},
            timeout=timeout,
        )

    def _check(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ClientError(
                f"HTTP {response.status_code}: {_error_text(detail)}",
                response.status_code,
                detail,
            )
        body: dict[str, Any] = response.json()
        return body

    def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return self._check(self.http.request(method, url, **kwargs))
        except httpx.TransportError as exc:
            raise ClientError(
                f"cannot reach the API at {self.base_url}: {exc}; start it with "
                "`make run` or set TIDINGS_API_URL"
            ) from exc

    def upload(self, path: Path, password: str | None = None) -> dict[str, Any]:
        with path.open("rb") as handle:
            files = {"file": (path.name, handle, "application/pdf")}
            data = {"password": password} if password else None
            return self._request("POST", "/v1/documents", files=files, data=data)

    def document(self, document_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/documents/{document_id}")

    def verify(
        self, body: dict[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._request("POST", "/v1/verifications", json=body, headers=headers)

    def verification(self, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/verifications/{job_id}")

    def upsert_products(self, products: list[dict[str, Any]]) -> dict[str, Any]:
        return self._request("POST", "/v1/catalog/products", json=products)

    def webhook_secret(self) -> dict[str, Any]:
        return self._request("GET", "/v1/webhooks/secret")

    def rotate_webhook_secret(self) -> dict[str, Any]:
        return self._request("POST", "/v1/webhooks/secret/rotate")

    def start_crawl(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/v1/sites", json=body)

    def crawl(self, crawl_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/sites/{crawl_id}")

    def search(self, query: str, limit: int) -> dict[str, Any]:
        return self._request(
            "GET", "/v1/search/documents", params={"q": query, "limit": limit}
        )

    def wait_final(
        self, document_ids: list[str], timeout: float, on_final: Any
    ) -> dict[str, dict[str, Any]]:
        """Poll until every document is final or the timeout passes."""
        pending = set(document_ids)
        latest: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for document_id in sorted(pending):
                latest[document_id] = self.document(document_id)
                if latest[document_id]["status"] in FINAL_STATUSES:
                    pending.discard(document_id)
                    on_final(latest[document_id])
            if pending:
                time.sleep(0.5)
        return latest
