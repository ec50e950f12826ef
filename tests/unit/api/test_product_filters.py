"""Product filters: parsing and the SQL condition they produce."""

import pytest
from psycopg import sql

from api.product_filters import FilterError, ProductFilters, parse_attribute_filters


def rendered(condition: sql.Composable) -> str:
    return condition.as_string(None)


def test_attribute_filters_group_by_name() -> None:
    parsed = parse_attribute_filters(["color:Black", "size:M", "color:Red"])

    assert parsed == (("color", ("Black", "Red")), ("size", ("M",)))


def test_attribute_value_may_contain_colon() -> None:
    assert parse_attribute_filters(["ratio:16:9"]) == (("ratio", ("16:9",)),)


@pytest.mark.parametrize("raw", ["color", ":Black", "color:", " : "])
def test_malformed_attribute_filter(raw: str) -> None:
    with pytest.raises(FilterError, match="must have the form name:value"):
        parse_attribute_filters([raw])


def test_no_filters_only_tenant() -> None:
    condition, params = ProductFilters().where("t1")

    assert params == {"f_tenant": "t1"}
    assert ProductFilters().active is False


def test_every_filter_adds_condition() -> None:
    filters = ProductFilters(
        categories=("Men",),
        brands=("Luma",),
        price_min=1.0,
        price_max=9.0,
        in_stock=True,
        attributes=(("color", ("Black",)),),
        exclude_ids=("p1",),
    )
    condition, params = filters.where("t1")
    text = rendered(condition)

    assert filters.active is True
    assert text.count(" AND ") == 7
    assert params["f_attribute_0"] == ["color=Black"]
    assert params["f_exclude"] == ["p1"]
