"""Checks that request models share: text that Postgres can store."""

from typing import Any

from pydantic import ValidationInfo


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def reject_nul(value: Any, info: ValidationInfo) -> Any:
    """Raise ValueError when a text in the value contains a NUL character.

    Postgres text cannot hold NUL, so such a value would be accepted by the
    API and then rejected by the stage that stores it.
    """
    if _has_nul(value):
        raise ValueError(
            f"{info.field_name} contains a NUL character (\\x00), which cannot "
            "be stored; remove it"
        )
    return value
