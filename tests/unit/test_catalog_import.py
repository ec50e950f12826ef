"""Reading catalog files for `tidings catalog import`."""

from pathlib import Path

import pytest

from tidings.catalog_import import CatalogFileError, batches, read_products


def test_read_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"product_id": "a", "title": "A"}\n\n{"product_id": "b"}\n')

    assert [p["product_id"] for p in read_products(path)] == ["a", "b"]


def test_read_csv_converts_types(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "product_id,title,price,stock,category_path,attributes,brand\n"
        'a,A,9.5,3,Home > Kitchen,"{""color"": ""red""}",\n'
    )
    product = next(read_products(path))

    assert product == {
        "product_id": "a",
        "title": "A",
        "price": 9.5,
        "stock": 3,
        "category_path": ["Home", "Kitchen"],
        "attributes": {"color": "red"},
    }


def test_csv_bad_number_names_line(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("product_id,title,price\na,A,cheap\n")

    with pytest.raises(CatalogFileError, match="line 2"):
        list(read_products(path))


def test_json_lines_bad_line_names_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"product_id": "a"}\n[1, 2]\n')

    with pytest.raises(CatalogFileError, match="line 2: expected a JSON object"):
        list(read_products(path))


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "p.xml"
    path.write_text("")

    with pytest.raises(CatalogFileError, match="use .csv, .jsonl or .ndjson"):
        list(read_products(path))


def test_batches_keep_remainder() -> None:
    sizes = [len(b) for b in batches(iter([{"i": i} for i in range(5)]), 2)]

    assert sizes == [2, 2, 1]
