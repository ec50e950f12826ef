"""A small path language for picking fields out of JSON documents.

A path is a chain of steps: `.name` or `name` for an object key,
`['odd.key']` for a key with dots, `[0]` for a list index and `[*]` for
every element of a list. A leading `$` is optional. Examples:
`web.results`, `data.companies[0].name`, `$.items[*].link`.
"""

import re
from dataclasses import dataclass
from typing import Any

from connectors.verification.errors import ProviderConfigError

_STEP = re.compile(
    r"""
    \.?(?P<name>[A-Za-z0-9_\-@]+)        # .name or a leading name
    | \[(?P<index>\d+)\]                 # [0]
    | \[(?P<all>\*)\]                    # [*]
    | \['(?P<single>[^']*)'\]            # ['odd.key']
    | \["(?P<double>[^"]*)"\]            # ["odd.key"]
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class JsonPath:
    """A compiled path; `steps` hold keys (str), indexes (int) and None for `[*]`."""

    text: str
    steps: tuple[str | int | None, ...]

    def extract(self, document: Any) -> Any:
        """Return the value at the path, None if it is missing.

        With a `[*]` step the result is a list of the values found under
        each element, without the missing ones.
        """
        return _walk(document, self.steps)


def compile_path(text: str) -> JsonPath:
    """Parse a path, raising ProviderConfigError with the position of a bad step."""
    body = text.strip()
    if body.startswith("$"):
        body = body[1:]
    steps: list[str | int | None] = []
    position = 0
    while position < len(body):
        match = _STEP.match(body, position)
        if match is None or match.end() == position:
            raise ProviderConfigError(
                f"invalid JSON path {text!r} at {body[position:]!r}; write steps "
                f"like a.b, a[0], a[*] or a['key.with.dots']"
            )
        steps.append(_step_value(match))
        position = match.end()
    return JsonPath(text=text, steps=tuple(steps))


def _step_value(match: re.Match[str]) -> str | int | None:
    if match.group("index") is not None:
        return int(match.group("index"))
    if match.group("all") is not None:
        # None stands for the wildcard, since no key or index is None.
        return None
    for group in ("name", "single", "double"):
        value = match.group(group)
        if value is not None:
            return value
    raise AssertionError("the step pattern matched no group")


def _walk(value: Any, steps: tuple[str | int | None, ...]) -> Any:
    for position, step in enumerate(steps):
        if step is None:
            if not isinstance(value, list):
                return None
            rest = steps[position + 1 :]
            found = [_walk(item, rest) for item in value]
            return [item for item in found if item is not None]
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return None
            value = value[step]
    return value
