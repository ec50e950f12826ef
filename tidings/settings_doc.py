"""Render the settings reference, docs/settings.md, from the settings classes.

Regenerate the page with `python -m tidings.settings_doc > docs/settings.md`.
Defaults that depend on the machine are shown with placeholders: `~` for the
home folder and `<site-packages>` for the Python environment's package folder.
"""

import os
import site
import sys
import sysconfig
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from connectors.verification.settings import VerificationSettings
from tidings.settings import Settings

REGENERATE_COMMAND = "python -m tidings.settings_doc > docs/settings.md"
ENV_PREFIX: str = Settings.model_config.get("env_prefix", "")
VERIFY_PREFIX: str = VerificationSettings.model_config.get("env_prefix", "")
NESTED_DELIMITER = "__"

HOME_PLACEHOLDER = "~"
SITE_PACKAGES_PLACEHOLDER = "<site-packages>"


def env_name(field_name: str) -> str:
    """Return the environment variable that sets a Settings field."""
    return ENV_PREFIX + field_name.upper()


def _machine_folders() -> list[tuple[str, str]]:
    """Return (folder, placeholder) pairs, longest folder first.

    Package folders come before the home folder because a virtual environment
    often lies inside the home folder.
    """
    package_folders = {
        *site.getsitepackages(),
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    }
    if site.ENABLE_USER_SITE:
        package_folders.add(site.getusersitepackages())

    pairs = [(folder, SITE_PACKAGES_PLACEHOLDER) for folder in package_folders]
    home = str(Path.home())
    # A home folder of "/" would turn every absolute path into "~/...".
    if home not in ("", os.sep):
        pairs.append((home, HOME_PLACEHOLDER))
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def portable_path(text: str) -> str:
    """Replace a machine-specific folder at the start of a path with its placeholder."""
    for folder, placeholder in _machine_folders():
        folder = folder.rstrip(os.sep)
        if text == folder:
            return placeholder
        if text.startswith(folder + os.sep):
            return placeholder + text[len(folder) :]
    return text


def _code(text: str) -> str:
    return f"`{text}`"


def render_default(field: FieldInfo) -> str:
    """Render a field's default as a Markdown table cell."""
    value: Any = field.get_default(call_default_factory=True, validated_data={})
    if value is None:
        return "*(unset)*"
    if isinstance(value, SecretStr):
        # A secret default is never printed, not even in the docs.
        return "*(secret)*"
    if isinstance(value, bool):
        return _code("true" if value else "false")
    if isinstance(value, Path):
        return _code(portable_path(str(value)))
    if isinstance(value, str):
        return _code(portable_path(value)) if value else '`""`'
    return _code(str(value))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_description(field: FieldInfo) -> str:
    """Render a field's description, plus the allowed values of a Literal type."""
    description = field.description or ""
    if get_origin(field.annotation) is Literal:
        choices = ", ".join(_code(str(choice)) for choice in get_args(field.annotation))
        description = f"{description} One of: {choices}.".strip()
    return description


def render_settings_table() -> str:
    """Render one Markdown table row per Settings field, in declaration order."""
    lines = [
        "| Variable | Default | Description |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        row = (
            f"| {_code(env_name(name))} | {_cell(render_default(field))} "
            f"| {_cell(render_description(field))} |"
        )
        lines.append(row)
    return "\n".join(lines) + "\n"


def _nested_model(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def render_verification_table() -> str:
    """Render the `TIDINGS_VERIFY_*` rows; nested provider fields get one row
    each, named with the `__` delimiter."""
    lines = [
        "| Variable | Default | Description |",
        "| --- | --- | --- |",
    ]
    for name, field in VerificationSettings.model_fields.items():
        variable = VERIFY_PREFIX + name.upper()
        nested = _nested_model(field)
        if nested is None:
            lines.append(
                f"| {_code(variable)} | {_cell(render_default(field))} "
                f"| {_cell(render_description(field))} |"
            )
            continue
        for inner_name, inner in nested.model_fields.items():
            inner_variable = variable + NESTED_DELIMITER + inner_name.upper()
            description = f"{field.description} {render_description(inner)}"
            lines.append(
                f"| {_code(inner_variable)} | {_cell(render_default(inner))} "
                f"| {_cell(description)} |"
            )
    return "\n".join(lines) + "\n"


def render_settings_page() -> str:
    """Render the whole docs/settings.md page: title, notes and the table."""
    intro = [
        "# Settings",
        "",
        "Every Tidings process (API, worker, local stack and command line) reads",
        f"its configuration from environment variables prefixed `{ENV_PREFIX}`.",
        "Every default works on the local stack. Relative paths are resolved",
        f"against the working folder. In the defaults, `{HOME_PLACEHOLDER}` is the",
        "home folder of the user that runs Tidings, and",
        f"`{SITE_PACKAGES_PLACEHOLDER}` is the package folder of the Python",
        "environment that Tidings is installed in.",
        "",
        "This page is generated from `tidings/settings.py`. After changing a",
        f"setting, regenerate it with `{REGENERATE_COMMAND}`",
        "instead of editing it by hand.",
        "",
    ]
    verification = [
        "",
        "## Verification",
        "",
        f"The verification connectors and job runners read `{VERIFY_PREFIX}*`",
        "variables (`connectors/verification/settings.py`). A provider's fields",
        "can be set one at a time, such as",
        f"`{VERIFY_PREFIX}WEB_SEARCH{NESTED_DELIMITER}TIMEOUT_SECONDS=5`, or",
        f"together as JSON in `{VERIFY_PREFIX}WEB_SEARCH`.",
        "",
    ]
    return (
        "\n".join(intro)
        + "\n"
        + render_settings_table()
        + "\n".join(verification)
        + "\n"
        + render_verification_table()
    )


if __name__ == "__main__":
    sys.stdout.write(render_settings_page())
