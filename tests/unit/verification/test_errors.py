"""Which provider errors are retried and which count against the breaker."""

import pytest

from connectors.errors import ConnectorError
from connectors.verification import errors

PROVIDER_ERRORS = [
    errors.ProviderTimeoutError("p", "d"),
    errors.ProviderConnectionError("p", "d"),
    errors.ProviderStatusError("p", "d", status_code=500),
    errors.ProviderResponseError("p", "d"),
    errors.ProviderUnavailableError("p", "d"),
]


@pytest.mark.parametrize(
    ("error", "retryable", "counts"),
    [
        (PROVIDER_ERRORS[0], True, True),
        (PROVIDER_ERRORS[1], True, True),
        (PROVIDER_ERRORS[2], True, True),
        (errors.ProviderStatusError("p", "d", status_code=429), True, True),
        (errors.ProviderStatusError("p", "d", status_code=408), True, True),
        (errors.ProviderStatusError("p", "d", status_code=404), False, False),
        (errors.ProviderStatusError("p", "d", status_code=401), False, False),
        (PROVIDER_ERRORS[3], False, True),
        (PROVIDER_ERRORS[4], False, False),
    ],
)
def test_error_classification(
    error: errors.ProviderError, retryable: bool, counts: bool
) -> None:
    assert error.retryable is retryable
    assert error.counts_as_failure is counts


@pytest.mark.parametrize(
    "error_type",
    [
        errors.ProviderError,
        errors.ProviderConfigError,
        errors.UrlRejectedError,
        errors.NameNormalizationError,
        errors.NameMatchError,
        errors.SanctionsListError,
        errors.WebsiteFetchError,
        errors.WebhookSecretError,
    ],
)
def test_errors_share_root(error_type: type[Exception]) -> None:
    assert issubclass(error_type, ConnectorError)


def test_provider_error_message_names_provider() -> None:
    assert str(errors.ProviderResponseError("registry", "not JSON")) == (
        "registry: not JSON"
    )
