"""Export files: JSON Lines and Parquet, written whole or not at all."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.unit.history.records import record
from tidings.history.rows import COLUMNS, EventRow, decode_row
from tidings.history.sinks import JsonLinesSink, ParquetSink


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
