"""Export files: JSON Lines and Parquet, written whole or not at all."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.unit.history.records import record
from tidings.cli import app
from tidings.history.errors import ReplayError
from tidings.history.rows import COLUMNS, EventRow, decode_row
from tidings.history.sinks import JsonLinesSink, ParquetSink, choose_output_format


def rows(count: int) -> list[EventRow]:
    row = decode_row(record())
    assert row is not None
    return [row] * count


def test_jsonl_one_line_per_event(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    sink.write(rows(3))
    sink.close()

    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert list(json.loads(lines[0])) == list(COLUMNS)


def test_parquet_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    sink = ParquetSink(path)
    sink.write(rows(5))
    sink.close()

    table = pq.read_table(path)
    assert table.num_rows == 5
    assert table.column_names == list(COLUMNS)
    assert json.loads(table.column("data")[0].as_py())["chunk_count"] == 3


@pytest.mark.parametrize("sink_type", [JsonLinesSink, ParquetSink])
def test_abort_leaves_no_file(tmp_path: Path, sink_type: type) -> None:
    path = tmp_path / "events.out"
    sink = sink_type(path)
    sink.write(rows(2))
    sink.abort()

    assert list(tmp_path.iterdir()) == []


def test_parquet_empty_file_has_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    sink = ParquetSink(path)
    sink.close()

    assert pq.read_table(path).column_names == list(COLUMNS)


@pytest.mark.parametrize(
    ("output", "requested", "expected"),
    [
        ("day.jsonl", None, "jsonl"),
        ("day.NDJSON", None, "jsonl"),
        ("day.parquet", None, "parquet"),
        ("-", None, "jsonl"),
        ("day.log", "jsonl", "jsonl"),
        ("day.parquet", "parquet", "parquet"),
    ],
)
def test_output_format_accepted(
    output: str, requested: str | None, expected: str
) -> None:
    assert choose_output_format(output, requested) == expected


@pytest.mark.parametrize(
    ("output", "requested", "message"),
    [
        (
            "x.csv",
            None,
            "--output 'x.csv' has the suffix '.csv', which names no format",
        ),
        ("events", None, "has the suffix '(none)'"),
        ("x.jsonl", "csv", "--format 'csv' is not supported; use jsonl or parquet"),
        (
            "x.parquet",
            "jsonl",
            "--output 'x.parquet' names parquet but --format is jsonl",
        ),
        ("-", "parquet", "Parquet cannot go to stdout"),
    ],
)
def test_output_format_rejected(
    output: str, requested: str | None, message: str
) -> None:
    with pytest.raises(ReplayError) as caught:
        choose_output_format(output, requested)

    assert message in str(caught.value)


def test_replay_command_rejects_csv_output(tmp_path: Path) -> None:
    output = tmp_path / "x.csv"

    result = CliRunner().invoke(
        app,
        ["replay", "--topic", "tidings.document.uploaded.v1", "--output", str(output)],
    )

    assert result.exit_code == 1
    assert "which names no format that replay writes" in result.output
    assert ".jsonl, .ndjson or .parquet" in result.output
    assert not output.exists()
