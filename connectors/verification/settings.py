"""Settings of the verification connectors, read from `TIDINGS_VERIFY_*` variables.

Provider settings are nested: `TIDINGS_VERIFY_WEB_SEARCH__TIMEOUT_SECONDS=5`
sets one field, and `TIDINGS_VERIFY_WEB_SEARCH='{"preset": "brave_web_search"}'`
sets several as JSON.
"""

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProviderSettings(BaseModel):
    """Endpoint, credentials and resilience of one HTTP provider."""

    base_url: str = Field(
        default="",
        description="Scheme, host and optional path prefix of the provider's API, "
        "such as https://search.example.com. Empty disables the provider.",
    )
    preset: str | None = Field(
        default=None,
        description="Name of a response-shape preset in "
        "connectors.verification.presets; its URL path, auth header and field "
        "mapping are used unless set here.",
    )
    path_template: str | None = Field(
        default=None,
        description="Path and query appended to base_url, with {placeholders} "
        "that are URL-encoded, such as /search?q={query}. Overrides the preset.",
    )
    params: dict[str, str] = Field(
        default_factory=dict,
        description="Fixed values for path template placeholders, as JSON, such "
        'as {"engine_id": "..."} for the google_custom_search preset.',
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="Credential sent in the auth header or as {api_key} in the "
        "path template.",
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit of one attempt, seconds."
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Attempts per call, the first one included."
    )
    backoff_base_seconds: float = Field(
        default=0.5,
        ge=0,
        description="Backoff ceiling before the first retry, seconds. It doubles per "
        "retry, and the wait is drawn between 0 and the ceiling.",
    )
    backoff_max_seconds: float = Field(
        default=10.0, ge=0, description="Largest backoff ceiling, seconds."
    )
    retry_after_max_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A Retry-After longer than this ends the retries, seconds.",
    )
    breaker_failure_threshold: int = Field(
        default=5,
        ge=1,
        description="Failures within breaker_window_seconds that open the "
        "circuit breaker.",
    )
    breaker_window_seconds: float = Field(
        default=60.0, gt=0, description="Window in which failures are counted."
    )
    breaker_open_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Time an open breaker fails calls fast before one probe.",
    )
    rate_per_second: float = Field(
        default=5.0, gt=0, description="Calls per second allowed to the provider."
    )
    rate_burst: int = Field(
        default=5, ge=1, description="Calls allowed at once after an idle period."
    )
    cache_ttl_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Time a provider response stays cached, seconds.",
    )
    cache_max_entries: int = Field(
        default=10_000, ge=1, description="Responses cached per provider and process."
    )


class WebSearchSettings(ProviderSettings):
    """The web_search check's provider; a search API preset by default."""

    preset: str | None = Field(
        default="brave_web_search",
        description="Response-shape preset: brave_web_search, google_custom_search "
        "or bing_web_search_v7.",
    )


class RegistrySettings(ProviderSettings):
    """The registry check's provider; the company_registry shape by default."""

    preset: str | None = Field(
        default="company_registry",
        description="Response-shape preset of the company-registry API.",
    )


class VerificationSettings(BaseSettings):
    """Configuration of the verification providers, website checks and webhooks."""

    model_config = SettingsConfigDict(
        env_prefix="TIDINGS_VERIFY_", env_nested_delimiter="__", extra="ignore"
    )

    web_search: WebSearchSettings = Field(
        default_factory=WebSearchSettings,
        description="The web_search check's search API.",
    )
    registry: RegistrySettings = Field(
        default_factory=RegistrySettings,
        description="The registry check's company-registry API.",
    )
    tenant_max_concurrent_calls: int = Field(
        default=4,
        ge=1,
        description="Provider calls one tenant may have in progress at once.",
    )
    url_allow_networks: list[str] = Field(
        default_factory=list,
        description="CIDR networks that callback and website URLs may resolve to "
        'even though they are private or loopback, as JSON: ["127.0.0.0/8"]. '
        "Meant for tests; leave empty in production.",
    )
    website_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit of one website request."
    )
    website_max_bytes: int = Field(
        default=2_000_000,
        ge=1024,
        description="Most bytes of a website page that are read.",
    )
    website_max_redirects: int = Field(
        default=5, ge=0, description="Redirects followed when fetching a website."
    )
    sanctions_list_path: Path | None = Field(
        default=None,
        description="OpenSanctions simple CSV file (targets.simple.csv) that the "
        "sanctions check matches against.",
    )
    sanctions_min_score: float = Field(
        default=88.0,
        ge=0,
        le=100,
        description="Lowest fuzzy-match score (0-100) reported as a sanctions hit.",
    )
    runners: int = Field(
        default=8,
        ge=1,
        description="Jobs one worker process runs at once (runner tasks that "
        "claim jobs from the queue).",
    )
    tenant_max_concurrent_jobs: int = Field(
        default=4,
        ge=1,
        description="Jobs of one tenant in progress at once across all workers; "
        "further jobs of that tenant wait while other tenants' jobs run.",
    )
    job_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Lease of a claimed job, seconds: another runner may claim "
        "the job when the lease expires. The runner renews the lease while the "
        "job runs, so only a dead worker's jobs are claimed again.",
    )
    job_deadline_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Time budget of one job's checks, seconds: no retry is "
        "scheduled past it, and a check still running then ends as unavailable.",
    )
    queue_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        description="How often an idle runner looks for queued jobs, seconds.",
    )
    batch_max_jobs: int = Field(
        default=1000,
        ge=1,
        description="Most jobs one POST /v1/verifications/batch request may carry.",
    )
    adverse_min_score: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="Lowest adverse-media score (0-1) of a search hit that flags "
        "the web_search check.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit of one webhook delivery attempt."
    )
    webhook_max_attempts: int = Field(
        default=12, ge=1, description="Delivery attempts per webhook."
    )
    webhook_backoff_base_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Backoff ceiling before the second delivery attempt, seconds. It "
        "doubles per attempt.",
    )
    webhook_backoff_max_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="Largest backoff ceiling between delivery attempts, seconds.",
    )
    webhook_retry_after_max_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="Longest Retry-After from a receiver that is honoured, seconds; "
        "a longer one waits this long.",
    )
    webhook_max_concurrent: int = Field(
        default=32,
        ge=1,
        description="Webhook attempts one worker has in progress at once.",
    )
    webhook_tenant_max_concurrent: int = Field(
        default=4,
        ge=1,
        description="Webhook attempts one tenant may have in progress in one worker, "
        "so a slow receiver cannot take every slot.",
    )
    webhook_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a worker looks for webhook attempts that are due, "
        "seconds.",
    )
    webhook_lease_margin_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A worker leases a due webhook attempt for twice the attempt "
        "timeout plus this long, seconds. If the worker dies, another one makes "
        "the attempt again (same webhook id) when the lease ends.",
    )
    webhook_secret_grace_seconds: float = Field(
        default=86400.0,
        ge=0,
        description="After a tenant rotates its webhook secret, deliveries carry a "
        "second signature under the old secret for this long, seconds.",
    )
    events_heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        description="Interval of the comment line that GET /v1/events sends to "
        "keep idle connections open through proxies, seconds.",
    )
    events_replay_per_tenant: int = Field(
        default=1000,
        ge=0,
        description="Recent events per tenant that an API process keeps, so a client "
        "that reconnects with Last-Event-ID gets what it missed.",
    )
