"""The connectors one worker uses for verification checks, built once from settings.

Each provider has one `ProviderGuard` per worker process, so its circuit
breaker, rate limit and cache are shared by every job in the process.
"""

from dataclasses import dataclass, field

import httpx
import structlog

from connectors.verification.clock import SystemClock
from connectors.verification.errors import ProviderConfigError, SanctionsListError
from connectors.verification.http_provider import (
    HttpProvider,
    HttpProviderConfig,
    Record,
)
from connectors.verification.limits import TenantLimiter
from connectors.verification.resilience import ProviderGuard, build_guard
from connectors.verification.sanctions import SanctionsList, load_sanctions_list
from connectors.verification.settings import ProviderSettings, VerificationSettings
from connectors.verification.url_guard import UrlGuard

log = structlog.get_logger(__name__)


@dataclass
class Toolkit:
    """Providers, URL guard and sanctions list of one worker process.

    A provider or list that is not configured is None, with the reason in
    `missing`, so its check ends as unavailable and names the setting.
    """

    settings: VerificationSettings
    client: httpx.AsyncClient
    url_guard: UrlGuard
    web_search: HttpProvider | None = None
    registry: HttpProvider | None = None
    sanctions: SanctionsList | None = None
    missing: dict[str, str] = field(default_factory=dict)

    async def close(self) -> None:
        await self.client.aclose()


def _provider(
    name: str,
    settings: ProviderSettings,
    client: httpx.AsyncClient,
    tenants: TenantLimiter,
    missing: dict[str, str],
) -> HttpProvider | None:
    clock = SystemClock()
    try:
        config = HttpProviderConfig.from_settings(name, settings)
    except ProviderConfigError as exc:
        missing[name] = str(exc)
        log.warning("verification_provider_not_configured", check=name, error=str(exc))
        return None
    guard: ProviderGuard[list[Record]] = build_guard(
        name, settings, clock=clock, tenants=tenants
    )
    return HttpProvider(config, client, guard=guard, clock=clock)


def _sanctions(
    settings: VerificationSettings, missing: dict[str, str]
) -> SanctionsList | None:
    if settings.sanctions_list_path is None:
        missing["sanctions"] = (
            "no sanctions list is configured; set TIDINGS_VERIFY_SANCTIONS_LIST_PATH "
            "to an OpenSanctions targets.simple.csv file"
        )
        return None
    try:
        sanctions = load_sanctions_list(settings.sanctions_list_path)
    except SanctionsListError as exc:
        missing["sanctions"] = str(exc)
        log.error("sanctions_list_not_loaded", error=str(exc))
        return None
    log.info("sanctions_list_loaded", entries=len(sanctions))
    return sanctions


def build_toolkit(settings: VerificationSettings) -> Toolkit:
    """Build the providers, URL guard and sanctions list from settings."""
    # No proxy from the environment: provider calls go straight to base_url.
    client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
    tenants = TenantLimiter(settings.tenant_max_concurrent_calls)
    missing: dict[str, str] = {}
    return Toolkit(
        settings=settings,
        client=client,
        url_guard=UrlGuard(allow_networks=settings.url_allow_networks),
        web_search=_provider(
            "web_search", settings.web_search, client, tenants, missing
        ),
        registry=_provider("registry", settings.registry, client, tenants, missing),
        sanctions=_sanctions(settings, missing),
        missing=missing,
    )
