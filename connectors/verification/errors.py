"""Exceptions of the verification connectors.

```
ConnectorError
└── VerificationError
    ├── ProviderConfigError          a provider's configuration is invalid
    ├── ProviderError                a provider call failed (`reason` is stable)
    │   ├── ProviderTimeoutError         reason "timeout"
    │   ├── ProviderConnectionError      reason "connection_failed"
    │   ├── ProviderStatusError          reason "http_status"
    │   ├── ProviderResponseError        reason "malformed_response"
    │   └── ProviderUnavailableError     reason "unavailable" (circuit open)
    ├── UrlRejectedError             a URL is not allowed or does not resolve
    ├── NameNormalizationError       OpenCC failed to convert a name
    ├── SanctionsListError           a sanctions list file cannot be loaded
    ├── NameMatchError               rapidfuzz failed to compare names
    ├── WebsiteFetchError            a subject's website cannot be fetched
    └── WebhookSecretError           a webhook secret is not valid
```
"""

from typing import ClassVar

from connectors.errors import ConnectorError

# HTTP statuses that a later attempt may not get: request timeout and
# too many requests. Every other 4xx repeats the same response.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})


def is_retryable_status(status_code: int) -> bool:
    """Return whether a request that got `status_code` is worth retrying."""
    return status_code >= 500 or status_code in RETRYABLE_CLIENT_STATUSES


class VerificationError(ConnectorError):
    """A verification connector failed in a way the caller can report."""


class ProviderConfigError(VerificationError):
    """A provider's URL template, response mapping or preset is invalid."""


class ProviderError(VerificationError):
    """A call to a provider failed.

    `reason` is a stable code for events and API responses, and `detail` is
    the readable explanation. `retry_after` is in seconds, when the provider
    or the circuit breaker set how long to wait.
    """

    reason: ClassVar[str] = "provider_error"

    def __init__(
        self, provider: str, detail: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{provider}: {detail}")
        self.provider = provider
        self.detail = detail
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Whether another attempt of the same call may succeed."""
        return False

    @property
    def counts_as_failure(self) -> bool:
        """Whether the provider's circuit breaker counts this error."""
        return True


class ProviderTimeoutError(ProviderError):
    """The provider did not respond within the timeout."""

    reason = "timeout"

    @property
    def retryable(self) -> bool:
        return True


class ProviderConnectionError(ProviderError):
    """The connection to the provider failed or broke off."""

    reason = "connection_failed"

    @property
    def retryable(self) -> bool:
        return True


class ProviderStatusError(ProviderError):
    """The provider responded with an HTTP status other than 2xx."""

    reason = "http_status"

    def __init__(
        self,
        provider: str,
        detail: str,
        *,
        status_code: int,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, detail, retry_after=retry_after)
        self.status_code = status_code

    @property
    def retryable(self) -> bool:
        return is_retryable_status(self.status_code)

    @property
    def counts_as_failure(self) -> bool:
        # A 4xx other than 408 and 429 is a fault of the request, and the
        # provider itself is healthy.
        return is_retryable_status(self.status_code)


class ProviderResponseError(ProviderError):
    """The provider's response is not the JSON document its mapping expects."""

    reason = "malformed_response"


class ProviderUnavailableError(ProviderError):
    """The provider's circuit breaker is open, so the call failed at once."""

    reason = "unavailable"

    @property
    def counts_as_failure(self) -> bool:
        return False


class UrlRejectedError(VerificationError):
    """A callback or website URL is rejected before any request is sent.

    `reason` is a stable code such as "private" or "cloud_metadata", and
    `address` is the resolved address that caused the rejection, if any.
    """

    def __init__(
        self, url: str, reason: str, detail: str, *, address: str | None = None
    ) -> None:
        super().__init__(f"URL {url!r} rejected ({reason}): {detail}")
        self.url = url
        self.reason = reason
        self.detail = detail
        self.address = address


class NameNormalizationError(VerificationError):
    """OpenCC failed to load its configuration or to convert a name."""


class SanctionsListError(VerificationError):
    """A sanctions list file is missing, unreadable or not in the expected format."""


class NameMatchError(VerificationError):
    """rapidfuzz failed to compare two names."""


class WebsiteFetchError(VerificationError):
    """A subject's website could not be fetched.

    `reason` is a stable code: "timeout", "connection_failed", "tls_invalid",
    "too_many_redirects", "too_large" or "invalid_url".
    """

    def __init__(self, url: str, reason: str, detail: str) -> None:
        super().__init__(f"fetching {url!r} failed ({reason}): {detail}")
        self.url = url
        self.reason = reason
        self.detail = detail


class WebhookSecretError(VerificationError):
    """A webhook signing secret is empty or not valid base64."""
