"""OpenSanctions simple CSV loading and fuzzy matching with aliases."""

import csv
import io
from pathlib import Path

import pytest

from connectors.verification.errors import NameMatchError, SanctionsListError
from connectors.verification.sanctions import (
    SanctionsList,
    load_sanctions_list,
    read_sanctions_csv,
    split_values,
)

HEADER = [
    "id", "schema", "name", "aliases", "birth_date", "countries", "addresses",
    "identifiers", "sanctions", "phones", "emails", "program_ids", "dataset",
    "first_seen", "last_seen", "last_change",
]  # fmt: skip

ROWS = [
    {
        "id": "NK-company-1",
        "schema": "Company",
        "name": "Shenzhen Example Shipping Co., Ltd.",
        "aliases": '深圳示例航运有限公司;"Example Shipping; HK"',
        "countries": "cn;hk",
        "identifiers": "91440300EXAMPLE0001",
        "sanctions": "OFAC - SDGT - 2020-01-01",
        "program_ids": "US-SDGT",
        "dataset": "US OFAC Specially Designated Nationals (SDN) List",
    },
    {
        "id": "NK-person-1",
        "schema": "Person",
        "name": "Сергей Петрович Иванов",
        "aliases": "Sergei Petrovich Ivanov;Ivanov Sergey",
        "birth_date": "1970-05-01",
        "countries": "ru",
        "dataset": "EU Financial Sanctions Files (FSF)",
    },
    {
        "id": "NK-person-2",
        "schema": "Person",
        "name": "Acme Trading",
        "dataset": "Test list",
    },
]


def csv_text(rows: list[dict[str, str]], header: list[str] = HEADER) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, dialect=csv.unix_dialect)
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in header})
    return buffer.getvalue()


@pytest.fixture()
def sanctions_file(tmp_path: Path) -> Path:
    path = tmp_path / "targets.simple.csv"
    path.write_text(csv_text(ROWS), encoding="utf-8")
    return path


@pytest.fixture()
def sanctions(sanctions_file: Path) -> SanctionsList:
    return load_sanctions_list(sanctions_file)


def test_load_reads_every_row(sanctions: SanctionsList) -> None:
    assert len(sanctions) == 3


def test_multi_valued_cells_split(sanctions: SanctionsList) -> None:
    entry = sanctions.entries[0]

    assert entry.aliases == ("深圳示例航运有限公司", "Example Shipping; HK")
    assert entry.countries == ("cn", "hk")
    assert entry.program_ids == ("US-SDGT",)


def test_older_export_without_program_ids() -> None:
    header = [column for column in HEADER if column != "program_ids"]

    entries = list(read_sanctions_csv(io.StringIO(csv_text(ROWS, header))))

    assert entries[0].program_ids == ()


def test_match_by_name(sanctions: SanctionsList) -> None:
    matches = sanctions.match("Shenzhen Example Shipping Company Limited")

    assert matches[0].entry.id == "NK-company-1"
    assert matches[0].score == 100.0


def test_match_by_chinese_alias(sanctions: SanctionsList) -> None:
    matches = sanctions.match("深圳示例航運有限公司")

    assert matches[0].entry.id == "NK-company-1"
    assert matches[0].matched_name == "深圳示例航运有限公司"


def test_match_by_transliteration(sanctions: SanctionsList) -> None:
    matches = sanctions.match("Sergey Petrovich Ivanov", "person")

    assert matches[0].entry.id == "NK-person-1"
    assert matches[0].score >= 95.0


def test_match_cyrillic_query(sanctions: SanctionsList) -> None:
    matches = sanctions.match("Иванов Сергей", "person")

    assert [match.entry.id for match in matches] == ["NK-person-1"]


def test_target_listed_once(sanctions: SanctionsList) -> None:
    matches = sanctions.match("Sergei Petrovich Ivanov", "person", min_score=50.0)

    ids = [match.entry.id for match in matches]
    assert ids.count("NK-person-1") == 1


def test_kind_filters_schema(sanctions: SanctionsList) -> None:
    assert sanctions.match("Acme Trading", "company") == []


def test_min_score_filters(sanctions: SanctionsList) -> None:
    assert sanctions.match("Shenzhen Harbour Logistics", min_score=88.0) == []


def test_empty_name_matches_nothing(sanctions: SanctionsList) -> None:
    assert sanctions.match("  Ltd. ") == []


def test_split_values_quoted() -> None:
    assert split_values('a;"b;c";d') == ("a", "b;c", "d")


def test_missing_file_translated(tmp_path: Path) -> None:
    with pytest.raises(SanctionsListError, match="SANCTIONS_LIST_PATH") as caught:
        load_sanctions_list(tmp_path / "absent.csv")

    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_missing_columns_named(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("identifier,caption\n1,Acme\n", encoding="utf-8")

    with pytest.raises(SanctionsListError, match=r"\['id', 'schema', 'name'\]"):
        load_sanctions_list(path)


def test_csv_error_translated(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('id,schema,name\n"x"y,Person,Acme\n', encoding="utf-8")

    with pytest.raises(SanctionsListError, match="not valid CSV") as caught:
        load_sanctions_list(path)

    assert isinstance(caught.value.__cause__, csv.Error)


def test_bad_alias_cell_translated() -> None:
    text = 'id,schema,name,aliases\n1,Person,Acme,"a;""b""c"\n'

    with pytest.raises(SanctionsListError) as caught:
        list(read_sanctions_csv(io.StringIO(text)))

    assert isinstance(caught.value.__cause__, csv.Error)


def test_non_utf8_translated(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,schema,name\n1,Person,Müller\n".encode("latin-1"))

    with pytest.raises(SanctionsListError, match="not UTF-8") as caught:
        load_sanctions_list(path)

    assert isinstance(caught.value.__cause__, UnicodeDecodeError)


def test_empty_id_rejected() -> None:
    text = "id,schema,name\n,Person,Acme\n"

    with pytest.raises(SanctionsListError, match="line 2"):
        list(read_sanctions_csv(io.StringIO(text)))


def test_rapidfuzz_error_translated(sanctions: SanctionsList) -> None:
    with pytest.raises(NameMatchError, match="min_score") as caught:
        sanctions.match("Acme", min_score="high")  # type: ignore[arg-type]

    assert isinstance(caught.value.__cause__, TypeError)
