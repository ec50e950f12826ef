"""Input checks of the product model that the catalog API accepts."""

import pytest
from pydantic import ValidationError

from api.catalog_models import ProductCreate


def error_of(**fields: object) -> dict:
    with pytest.raises(ValidationError) as raised:
        ProductCreate(product_id="p1", **fields)
    errors = raised.value.errors()
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize("title", ["", "   ", "\t\n"])
def test_blank_title_rejected(title: str) -> None:
    error = error_of(title=title)

    assert error["loc"] == ("title",)


def test_blank_title_message() -> None:
    message = error_of(title="   ")["msg"]

    assert "'   '" in message
    assert "visible character" in message


def test_category_level_with_separator_rejected() -> None:
    error = error_of(title="Shirt", category_path=["Men/Tops"])

    assert error["loc"] == ("category_path",)
    assert "category_path[0] 'Men/Tops'" in error["msg"]
    assert "['Men', 'Tops']" in error["msg"]


@pytest.mark.parametrize(
    ("path", "index"),
    [(["", "Tops"], 0), (["Men", "  "], 1)],
)
def test_empty_category_level_rejected(path: list[str], index: int) -> None:
    error = error_of(title="Shirt", category_path=path)

    assert error["loc"] == ("category_path",)
    assert f"category_path[{index}]" in error["msg"]
    assert "remove the level" in error["msg"]


def test_valid_product_accepted() -> None:
    product = ProductCreate(
        product_id="p1", title=" Shirt ", category_path=["Men", "Tops"]
    )

    assert product.title == " Shirt "
    assert product.category_path == ["Men", "Tops"]
