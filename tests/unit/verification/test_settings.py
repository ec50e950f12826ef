"""Verification settings from TIDINGS_VERIFY_* variables."""

import pytest
from pydantic import BaseModel, ValidationError

from connectors.verification.settings import (
    ProviderSettings,
    RegistrySettings,
    VerificationSettings,
    WebSearchSettings,
)


def test_nested_provider_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_VERIFY_WEB_SEARCH__TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("TIDINGS_VERIFY_WEB_SEARCH__BASE_URL", "http://127.0.0.1:9")

    settings = VerificationSettings()

    assert settings.web_search.timeout_seconds == 2.5
    assert settings.web_search.base_url == "http://127.0.0.1:9"
    assert settings.web_search.preset == "brave_web_search"


def test_allow_networks_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_VERIFY_URL_ALLOW_NETWORKS", '["127.0.0.0/8"]')

    assert VerificationSettings().url_allow_networks == ["127.0.0.0/8"]


def test_invalid_value_names_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_VERIFY_TENANT_MAX_CONCURRENT_CALLS", "0")

    with pytest.raises(ValidationError, match="tenant_max_concurrent_calls"):
        VerificationSettings()


def test_defaults_send_nothing() -> None:
    settings = VerificationSettings()

    assert settings.web_search.base_url == ""
    assert settings.registry.base_url == ""
    assert settings.url_allow_networks == []


def test_registry_keeps_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_VERIFY_REGISTRY__MAX_ATTEMPTS", "5")

    assert VerificationSettings().registry.preset == "company_registry"


@pytest.mark.parametrize(
    "model",
    [VerificationSettings, ProviderSettings, WebSearchSettings, RegistrySettings],
)
def test_every_field_described(model: type[BaseModel]) -> None:
    undescribed = [
        name for name, field in model.model_fields.items() if not field.description
    ]

    assert undescribed == []
