"""Pure parts of the catalog stage's table writes."""

from datetime import UTC, datetime

import numpy as np

from connectors.catalog_tables import (
    ProductUpsert,
    attribute_pairs,
    category_prefixes,
    product_words,
    upsert_params,
)
from schemas.events import ProductUpsertedV1


def test_category_prefixes() -> None:
    assert category_prefixes(["Men", "Tops", "Hoodies"]) == [
        "Men",
        "Men/Tops",
        "Men/Tops/Hoodies",
    ]


def test_attribute_pairs_flatten_lists() -> None:
    pairs = attribute_pairs({"color": ["Black", "Red"], "eco": True, "size": 42})

    assert pairs == ["color=Black", "color=Red", "eco=true", "size=42"]


def test_upsert_params_fold_title() -> None:
    product = ProductUpsertedV1(product_id="p", version=1, title="無線耳機")
    change = ProductUpsert("t1", "e1", datetime.now(UTC), product, np.zeros(384))
    params = upsert_params(change)

    assert params["title"] == "無線耳機"
    assert {"无线", "耳机"} <= set(params["title_text"].split())


def test_product_words_cover_fields() -> None:
    product = ProductUpsertedV1(
        product_id="p",
        version=1,
        title="Aviator Sunglasses",
        brand="Rayban",
        attributes={"frame": "Titanium"},
        description="Polarized lenses",
    )

    assert product_words(product) == {
        "aviator",
        "sunglasses",
        "rayban",
        "titanium",
        "polarized",
        "lenses",
    }
