"""Backward compatibility of a payload's JSON Schema within one major version.

A new schema is compatible with an old one when the new model still reads
every event written under the old schema (replays and rebuilds read old
history) and keeps every property that consumers of the old schema read.
Four changes break that:

- a property is removed;
- a property becomes required (a new required property counts too);
- a property's type changes;
- an enum loses values.

Nested objects, `$ref`s into `$defs` and array items are compared the same
way. Constraints such as `minimum` or `pattern` are not compared.
"""

from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]


@dataclass(frozen=True)
class Incompatibility:
    path: str  # dotted property path; `[]` marks array items
    kind: str  # removed, newly_required, type_changed or enum_narrowed
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"


def _resolve(schema: Schema, root: Schema) -> Schema:
    """Follow a local `$ref` such as `#/$defs/Name` to its target."""
    seen = set()
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/") or ref in seen:
            return schema
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = target
    return schema


def _members(schema: Schema, root: Schema) -> list[Schema]:
    """Return the alternatives of an anyOf/oneOf, or the schema itself."""
    schema = _resolve(schema, root)
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            return [_resolve(member, root) for member in schema[keyword]]
    return [schema]


def types_of(schema: Schema, root: Schema) -> frozenset[str] | None:
    """Return the JSON types a schema allows, or None if it sets no type."""
    found: set[str] = set()
    for member in _members(schema, root):
        kind = member.get("type")
        if kind is None:
            return None
        found.update([kind] if isinstance(kind, str) else kind)
    return frozenset(found)


def enum_of(schema: Schema, root: Schema) -> frozenset[Any] | None:
    """Return the values an enum or const allows (null counted if a member
    allows it), or None if some member takes any value of its type."""
    values: set[Any] = set()
    for member in _members(schema, root):
        if "enum" in member:
            values.update(member["enum"])
        elif "const" in member:
            values.add(member["const"])
        elif member.get("type") == "null":
            values.add(None)
        else:
            return None
    return frozenset(values)


def _compare_value(
    path: str, old: Schema, new: Schema, old_root: Schema, new_root: Schema
) -> list[Incompatibility]:
    problems = []
    old_types = types_of(old, old_root)
    new_types = types_of(new, new_root)
    if old_types is not None and new_types is not None and old_types != new_types:
        problems.append(
            Incompatibility(
                path,
                "type_changed",
                f"type changed from {sorted(old_types)} to {sorted(new_types)}",
            )
        )

    old_enum = enum_of(old, old_root)
    new_enum = enum_of(new, new_root)
    if old_enum is not None and new_enum is not None and not old_enum <= new_enum:
        lost = sorted(old_enum - new_enum, key=repr)
        problems.append(
            Incompatibility(path, "enum_narrowed", f"enum lost the values {lost}")
        )

    old_object = _object_member(old, old_root)
    new_object = _object_member(new, new_root)
    if old_object is not None and new_object is not None:
        problems += _compare_object(path, old_object, new_object, old_root, new_root)

    old_items = _items_member(old, old_root)
    new_items = _items_member(new, new_root)
    if old_items is not None and new_items is not None:
        problems += _compare_value(
            f"{path}[]", old_items, new_items, old_root, new_root
        )
    return problems


def _object_member(schema: Schema, root: Schema) -> Schema | None:
    for member in _members(schema, root):
        if "properties" in member:
            return member
    return None


def _items_member(schema: Schema, root: Schema) -> Schema | None:
    for member in _members(schema, root):
        if isinstance(member.get("items"), dict):
            return _resolve(member["items"], root)
    return None


def _compare_object(
    path: str, old: Schema, new: Schema, old_root: Schema, new_root: Schema
) -> list[Incompatibility]:
    problems = []
    old_properties: Schema = old.get("properties", {})
    new_properties: Schema = new.get("properties", {})
    old_required = set(old.get("required", []))
    prefix = f"{path}." if path else ""

    for name, old_schema in old_properties.items():
        if name not in new_properties:
            problems.append(
                Incompatibility(prefix + name, "removed", "property was removed")
            )
            continue
        problems += _compare_value(
            prefix + name, old_schema, new_properties[name], old_root, new_root
        )

    for name in new.get("required", []):
        if name not in old_required:
            problems.append(
                Incompatibility(
                    prefix + name,
                    "newly_required",
                    "property is required now, but events written under the "
                    "old schema may lack it",
                )
            )
    return problems


def find_incompatibilities(old: Schema, new: Schema) -> list[Incompatibility]:
    """List every backward-incompatible difference from `old` to `new`."""
    return _compare_object("", _resolve(old, old), _resolve(new, new), old, new)
