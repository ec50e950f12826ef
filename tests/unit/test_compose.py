"""Structure of compose/docker-compose.yml, checked without Docker.

Docker cannot run where the suite runs, so these tests read the compose file
as YAML and as text: every TIDINGS_* name must be a Settings field, secrets
must be required, images must be pinned and dependencies must exist.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tidings.settings import Settings

COMPOSE_DIR = Path(__file__).resolve().parents[2] / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
DOCKERFILE = COMPOSE_DIR / "Dockerfile"

ENV_PREFIX = "TIDINGS_"
DESIGN_SERVICES = ("kafka", "postgres", "minio", "api", "worker")
TIDINGS_SERVICES = ("api", "worker")
REQUIRED_SECRETS = (
    "POSTGRES_PASSWORD",
    "MINIO_ROOT_PASSWORD",
    "TIDINGS_S3_SECRET_ACCESS_KEY",
    "TIDINGS_SECRET_KEY",
)
SECRET_KEY_PATTERN = re.compile(r"PASSWORD|SECRET", re.IGNORECASE)

# `${NAME}`, `${NAME:-default}`, `${NAME:?message}` and the forms without a
# colon; `$${...}` is an escaped dollar sign, not an interpolation.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?")
TIDINGS_NAME = re.compile(rf"\b{ENV_PREFIX}[A-Z0-9_]+\b")


def load_compose() -> dict[str, Any]:
    with COMPOSE_FILE.open() as handle:
        return yaml.safe_load(handle)


def services() -> dict[str, dict[str, Any]]:
    return load_compose()["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """Return a service's environment, given as a mapping or a KEY=VALUE list."""
    raw = service.get("environment") or {}
    if isinstance(raw, dict):
        return {
            str(key): "" if value is None else str(value) for key, value in raw.items()
        }

    pairs = {}
    for item in raw:
        key, _, value = str(item).partition("=")
        pairs[key] = value
    return pairs


def field_name(env_var: str) -> str:
    return env_var.removeprefix(ENV_PREFIX).lower()


def interpolations(text: str) -> list[tuple[str, str]]:
    """Return (variable, operator) for each compose interpolation in the text."""
    return [(name, operator or "") for name, operator in INTERPOLATION.findall(text)]


def image_tag(image: str) -> str | None:
    """Return the tag of an image reference, or None if it has none.

    A digest (`@sha256:...`) counts as a pin and is returned as the tag.
    """
    if "@" in image:
        return image.split("@", 1)[1]
    last_part = image.rsplit("/", 1)[-1]
    if ":" not in last_part:
        return None
    return last_part.split(":", 1)[1]


# Helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${A}", [("A", "")]),
        ("${A:-x}", [("A", ":-")]),
        ("${A:?set A}", [("A", ":?")]),
        ("${A?set A}", [("A", "?")]),
        ("$${A}", []),
        ("url://u:${P:?p}@h/${D:-db}", [("P", ":?"), ("D", ":-")]),
    ],
)
def test_interpolations_cases(text: str, expected: list[tuple[str, str]]) -> None:
    assert interpolations(text) == expected


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("apache/kafka:4.1.1", "4.1.1"),
        ("apache/kafka", None),
        ("minio/minio:latest", "latest"),
        ("localhost:5000/tidings", None),
        ("localhost:5000/tidings:1.0", "1.0"),
        ("postgres@sha256:abc", "sha256:abc"),
    ],
)
def test_image_tag_cases(image: str, expected: str | None) -> None:
    assert image_tag(image) == expected


@pytest.mark.parametrize(
    ("env_var", "expected"),
    [
        ("TIDINGS_KAFKA_BOOTSTRAP", "kafka_bootstrap"),
        ("TIDINGS_S3_SECRET_ACCESS_KEY", "s3_secret_access_key"),
    ],
)
def test_field_name_mapping(env_var: str, expected: str) -> None:
    assert field_name(env_var) == expected


def test_environment_list_form() -> None:
    service = {"environment": ["A=1", "B=x=y", "C"]}
    assert environment(service) == {"A": "1", "B": "x=y", "C": ""}


# Services


@pytest.mark.parametrize("name", DESIGN_SERVICES)
def test_compose_has_service(name: str) -> None:
    assert name in services(), f"compose file has no service {name!r}"


def test_worker_has_two_replicas() -> None:
    assert services()["worker"]["deploy"]["replicas"] == 2


@pytest.mark.parametrize(
    ("service", "command"),
    [("api", "tidings api"), ("worker", "tidings worker")],
)
def test_service_runs_command(service: str, command: str) -> None:
    raw = services()[service]["command"]
    text = raw if isinstance(raw, str) else " ".join(raw)
    assert command in text


@pytest.mark.parametrize("name", DESIGN_SERVICES)
def test_service_has_healthcheck(name: str) -> None:
    healthcheck = services()[name].get("healthcheck") or {}
    assert healthcheck.get("test"), f"service {name!r} has no health check"


def test_depends_on_existing_services() -> None:
    all_services = services()
    problems = []
    for name, service in all_services.items():
        depends_on = service.get("depends_on") or {}
        targets = (
            depends_on if isinstance(depends_on, dict) else dict.fromkeys(depends_on)
        )
        for target, options in targets.items():
            if target not in all_services:
                problems.append(f"{name} depends on unknown service {target}")
                continue
            condition = (options or {}).get("condition")
            has_healthcheck = "healthcheck" in all_services[target]
            if condition == "service_healthy" and not has_healthcheck:
                problems.append(f"{name} waits for {target}, which has no health check")
    assert problems == []


def test_setup_runs_before_workers() -> None:
    depends_on = services()["worker"]["depends_on"]
    assert depends_on["setup"]["condition"] == "service_completed_successfully"


# Images


def test_images_are_pinned() -> None:
    unpinned = []
    for name, service in services().items():
        image = service.get("image")
        if image is None:
            assert "build" in service, f"service {name!r} has neither image nor build"
            continue
        tag = image_tag(image)
        if tag is None or tag == "latest":
            unpinned.append(f"{name}: {image}")
    assert unpinned == [], "images need a fixed tag, not none or latest"


def test_dockerfile_base_pinned() -> None:
    bases = re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert bases, "compose/Dockerfile has no FROM line"
    for base in bases:
        assert image_tag(base) not in (None, "latest"), f"unpinned base image {base}"


def test_kafka_image_version() -> None:
    assert services()["kafka"]["image"] == "apache/kafka:4.1.1"


# Settings passed to the Tidings services


def test_env_names_are_settings() -> None:
    unknown = []
    for name, service in services().items():
        for env_var in environment(service):
            if (
                env_var.startswith(ENV_PREFIX)
                and field_name(env_var) not in Settings.model_fields
            ):
                unknown.append(f"{name}: {env_var}")
    assert unknown == [], "TIDINGS_* variables that are no field of Settings"


def test_file_names_are_settings() -> None:
    # Also covers names in commands, health checks and interpolations.
    names = set(TIDINGS_NAME.findall(COMPOSE_FILE.read_text()))
    unknown = sorted(
        name for name in names if field_name(name) not in Settings.model_fields
    )
    assert unknown == [], "TIDINGS_* names in the compose file that are no setting"


@pytest.mark.parametrize("name", TIDINGS_SERVICES)
def test_literal_settings_are_valid(name: str) -> None:
    # Unknown names and interpolated values are checked by other tests.
    literal = {
        field_name(env_var): value
        for env_var, value in environment(services()[name]).items()
        if env_var.startswith(ENV_PREFIX)
        and field_name(env_var) in Settings.model_fields
        and "$" not in value
    }
    settings = Settings(**literal)
    for field, value in literal.items():
        assert str(getattr(settings, field)) == value, field


@pytest.mark.parametrize(
    ("service", "env_var", "expected"),
    [
        ("api", "TIDINGS_API_HOST", "0.0.0.0"),
        ("api", "TIDINGS_OBJECT_STORE", "s3"),
        ("worker", "TIDINGS_OBJECT_STORE", "s3"),
        ("api", "TIDINGS_LOG_FORMAT", "json"),
        ("worker", "TIDINGS_LOG_FORMAT", "json"),
    ],
)
def test_production_setting(service: str, env_var: str, expected: str) -> None:
    assert environment(services()[service]).get(env_var) == expected


@pytest.mark.parametrize(
    "env_var",
    [
        "TIDINGS_KAFKA_BOOTSTRAP",
        "TIDINGS_DATABASE_URL",
        "TIDINGS_S3_ENDPOINT_URL",
        "TIDINGS_S3_ACCESS_KEY_ID",
        "TIDINGS_S3_SECRET_ACCESS_KEY",
        "TIDINGS_SECRET_KEY",
    ],
)
@pytest.mark.parametrize("service", TIDINGS_SERVICES)
def test_service_gets_setting(service: str, env_var: str) -> None:
    # Unset, these would make a service start a local broker or database.
    assert environment(services()[service]).get(env_var), f"{service} lacks {env_var}"


# Secrets


@pytest.mark.parametrize("secret", REQUIRED_SECRETS)
def test_secret_is_required(secret: str) -> None:
    operators = [
        op for name, op in interpolations(COMPOSE_FILE.read_text()) if name == secret
    ]
    assert operators, f"compose file never uses {secret}"
    assert set(operators) == {":?"}, (
        f"write every use of {secret} as ${{{secret}:?message}}"
    )


def test_secret_env_values_interpolated() -> None:
    # A password or secret key in the file itself would be committed to git.
    literal = []
    for name, service in services().items():
        for env_var, value in environment(service).items():
            if not SECRET_KEY_PATTERN.search(env_var):
                continue
            if not any(op == ":?" for _, op in interpolations(value)):
                literal.append(f"{name}: {env_var}")
    assert literal == [], "secret values must be ${VAR:?message} interpolations"


def test_database_url_password_required() -> None:
    url = environment(services()["api"])["TIDINGS_DATABASE_URL"]
    assert ("POSTGRES_PASSWORD", ":?") in interpolations(url)


# Settings class


def test_settings_fields_have_description() -> None:
    missing = sorted(
        name for name, field in Settings.model_fields.items() if not field.description
    )
    assert missing == [], (
        f"Settings fields without a description: {', '.join(missing)}; add "
        "Field(description=...) in tidings/settings.py, then run "
        "`python -m tidings.settings_doc > docs/settings.md`"
    )
