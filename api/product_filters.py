"""Product filters and the SQL condition they become.

Values of one filter are alternatives (brand=A&brand=B matches either), and
different filters must all hold. Every condition starts with the tenant.
"""

from dataclasses import dataclass
from typing import Any

from psycopg import sql


class FilterError(ValueError):
    """A filter value has the wrong form."""


@dataclass(frozen=True)
class ProductFilters:
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    in_stock: bool = False
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude_ids: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when any condition beyond the tenant applies."""
        return bool(
            self.categories
            or self.brands
            or self.price_min is not None
            or self.price_max is not None
            or self.in_stock
            or self.attributes
            or self.exclude_ids
        )

    def where(self, tenant_id: str) -> tuple[sql.Composable, dict[str, Any]]:
        """Return the WHERE condition on alias `p` and its parameters."""
        parts: list[sql.Composable] = [sql.SQL("p.tenant_id = %(f_tenant)s")]
        params: dict[str, Any] = {"f_tenant": tenant_id}
        if self.categories:
            parts.append(sql.SQL("p.category_prefixes && %(f_categories)s"))
            params["f_categories"] = list(self.categories)
        if self.brands:
            parts.append(sql.SQL("p.brand = ANY(%(f_brands)s)"))
            params["f_brands"] = list(self.brands)
        if self.price_min is not None:
            parts.append(sql.SQL("p.price >= %(f_price_min)s"))
            params["f_price_min"] = self.price_min
        if self.price_max is not None:
            parts.append(sql.SQL("p.price <= %(f_price_max)s"))
            params["f_price_max"] = self.price_max
        if self.in_stock:
            parts.append(sql.SQL("(p.stock IS NULL OR p.stock > 0)"))
        for number, (name, values) in enumerate(self.attributes):
            key = f"f_attribute_{number}"
            parts.append(sql.SQL(f"p.attribute_pairs && %({key})s"))
            params[key] = [f"{name}={value}" for value in values]
        if self.exclude_ids:
            parts.append(sql.SQL("p.product_id <> ALL(%(f_exclude)s)"))
            params["f_exclude"] = list(self.exclude_ids)
        return sql.SQL(" AND ").join(parts), params


def parse_attribute_filters(
    raw: list[str],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Group "name:value" strings by name, keeping the order of first use."""
    grouped: dict[str, list[str]] = {}
    for item in raw:
        name, separator, value = item.partition(":")
        if not separator or not name.strip() or not value.strip():
            raise FilterError(
                f"Attribute filter {item!r} must have the form name:value, "
                "for example attribute=color:Black"
            )
        values = grouped.setdefault(name.strip(), [])
        if value.strip() not in values:
            values.append(value.strip())
    return tuple((name, tuple(values)) for name, values in grouped.items())
