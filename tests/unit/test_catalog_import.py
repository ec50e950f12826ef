"""Reading and checking catalog files for `tidings catalog import`."""

from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Body, FastAPI
from fastapi.testclient import TestClient

from api.catalog_models import ProductCreate
from tests.stack import REPO_ROOT
from tidings.catalog_import import batches, rejected_rows, scan
from tidings.catalog_rows import FIELD_RULES, CatalogFileError, CatalogRow, read_rows


def _rows(path: Path) -> list[CatalogRow]:
    return list(read_rows(path))


def _problems(path: Path) -> list[str]:
    return [str(problem) for row in read_rows(path) for problem in row.problems]


def test_read_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"product_id": "a", "title": "A"}\n\n{"product_id": "b", "title": "B"}\n'
    )
    rows = _rows(path)

    assert [row.product["product_id"] for row in rows if row.product] == ["a", "b"]
    assert [row.line for row in rows] == [1, 3]


def test_read_csv_converts_types(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "product_id,title,price,stock,category_path,attributes,brand\n"
        'a,A,9.5,3,Home > Kitchen,"{""color"": ""red""}",\n'
    )
    row = _rows(path)[0]

    assert row.problems == []
    assert row.product == {
        "product_id": "a",
        "title": "A",
        "price": 9.5,
        "stock": 3,
        "category_path": ["Home", "Kitchen"],
        "attributes": {"color": "red"},
    }


def test_csv_bad_number_names_line_field_value(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("product_id,title,price\na,A,9\nb,B,cheap\n")

    assert _problems(path) == [
        "line 3: price 'cheap': not a number; expected a number of 0 or more, "
        "such as 19.99"
    ]


def test_csv_line_counts_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('product_id,title,description\na,A,"two\nlines"\nb,B,x\n')

    assert [row.line for row in _rows(path)] == [2, 4]


def test_csv_extra_cells_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("product_id,title\na,Shirt, blue\n")

    assert _problems(path) == [
        "line 2: 1 more cells than the header has columns; quote cells that "
        "contain commas"
    ]


def test_csv_unknown_column_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("product_id,title,categry\na,A,x\n")

    with pytest.raises(CatalogFileError, match="unknown column 'categry'"):
        _rows(path)


def test_model_errors_name_field_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"product_id": "a b", "title": "A"}\n'
        '{"product_id": "c", "currency": "usd"}\n'
        '{"product_id": "d", "title": "D", "colour": "red"}\n'
    )

    assert _problems(path) == [
        "line 1: product_id 'a b': invalid characters or length; expected 1 to "
        "128 letters, digits, '_', '.', ':' or '-' (required)",
        "line 2: title: missing; expected 1 to 500 characters (required)",
        "line 2: currency 'usd': invalid characters or length; expected an ISO "
        "4217 code in three capital letters, such as USD",
        "line 3: colour 'red': unknown field; use one of the accepted fields: "
        "product_id, title, version, description, brand, category_path, price, "
        "currency, stock, attributes, image_url",
    ]


def test_long_value_shortened(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"product_id,title,stock\na,A,{'9' * 100}x\n")
    problem = _problems(path)[0]

    assert problem.startswith("line 2: stock '99999")
    assert "...: not a whole number" in problem
    assert len(problem) < 200


def test_repeated_product_id_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"product_id": "a", "title": "A"}\n{"product_id": "a", "title": "B"}\n'
    )

    assert _problems(path) == [
        "line 2: product_id 'a': also on line 1; keep one row per product"
    ]


def test_json_lines_bad_line_names_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"product_id": "a", "title": "A"}\n[1, 2]\n')

    assert _problems(path) == ["line 2: not a JSON object; write one object per line"]


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "p.xml"
    path.write_text("")

    with pytest.raises(CatalogFileError, match="use .csv, .jsonl or .ndjson"):
        _rows(path)


def test_scan_counts_valid_and_invalid(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("product_id,title,price\na,A,1\nb,,2\nc,C,x\nd,D,4\n")
    result = scan(path)

    assert result.rows == 4
    assert result.valid == 2
    assert result.invalid_lines == 2


def test_batches_skip_invalid_keep_remainder(tmp_path: Path) -> None:
    rows = [CatalogRow(i, {"i": i}) for i in range(5)]
    rows.insert(2, CatalogRow(9, None))
    sizes = [len(b) for b in batches(iter(rows), 2)]

    assert sizes == [2, 2, 1]


def test_rejected_rows_map_api_errors_to_lines() -> None:
    # The API's own body declaration, so the locations have the real shape.
    app = FastAPI()

    @app.post("/products")
    def products(body: Annotated[ProductCreate | list[ProductCreate], Body()]) -> None:
        return None

    batch = [CatalogRow(10, {}), CatalogRow(12, {})]
    sent = [{"product_id": "a", "title": "A"}, {"product_id": "b", "price": -1}]
    detail = TestClient(app).post("/products", json=sent).json()["detail"]
    problems = [str(problem) for problem in rejected_rows(detail, batch)]

    assert "line 12: title: Field required" in problems
    assert "line 12: price -1: Input should be greater than or equal to 0" in problems
    assert all(problem.startswith("line 12") for problem in problems)


def test_field_rules_match_api_model() -> None:
    assert {rule.name for rule in FIELD_RULES} == set(ProductCreate.model_fields)


def test_catalog_doc_lists_every_field() -> None:
    doc = (REPO_ROOT / "docs" / "catalog.md").read_text()

    for rule in FIELD_RULES:
        assert f"| `{rule.name}` | {rule.json_type} |" in doc, rule.name
