"""Rebuild a view's tables from Kafka history and swap them in.

First `<table>_shadow` is created (LIKE the live table, INCLUDING ALL) and
filled from the view's topics, read from the low to the high watermark. Then
one transaction locks the live tables against writers, applies the events
written since, drops the live tables and renames the shadows and their
indexes to the live names. Readers never see a half-filled table, because a
search that starts during the swap waits for the commit and then reads the
new table. `--check` compares the tables instead of swapping them.

A view may name an advisory lock, which the rebuild takes at the start and
keeps until the swap commits, and an `after_swap` step that runs in the
swap's transaction. The products view takes the vector index timer's lock and
bumps every tenant's catalog version after the swap.

NOTE: LIKE ... INCLUDING ALL copies columns, defaults, constraints and
indexes, and the table's storage parameters are copied apart. It copies no
triggers, policies, grants or foreign keys that point at the table. A
serial column's default would still use the live table's sequence, which
the swap drops. The current views have none of these.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog
from pgvector.psycopg import register_vector_async
from psycopg import AsyncConnection, sql

from schemas.envelope import EnvelopeError, from_record
from tidings.history.errors import RebuildError
from tidings.history.reader import (
    PartitionRange,
    open_consumer,
    plan_after,
    plan_ranges,
    read_ranges,
)
from tidings.history.views import SKIPPED_EVENT_ERRORS, TableSpec, View, ViewBuilder
from tidings.settings import Settings

log = structlog.get_logger(__name__)

# Cosine distance under which two embeddings of a chunk count as equal: the
# model's output varies in the last float bits with the batch it ran in.
EMBEDDING_TOLERANCE = 1e-4
LISTED_DIFFERENCES = 20
_INDEX_HEAD = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ ")
_SKIPPED_ERRORS: tuple[type[Exception], ...] = (EnvelopeError, *SKIPPED_EVENT_ERRORS)


@dataclass(frozen=True)
class Difference:
    key: tuple[Any, ...]
    kind: str  # only_live, only_rebuilt or differs
    columns: tuple[str, ...] = ()  # the differing columns, for kind differs


@dataclass
class TableReport:
    table: str
    live_rows: int
    rebuilt_rows: int
    difference_count: int = 0
    differences: list[Difference] = field(default_factory=list)


@dataclass
class RebuildReport:
    view: str
    swapped: bool
    events_read: int = 0
    events_skipped: int = 0
    seconds: float = 0.0
    tables: list[TableReport] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return all(table.difference_count == 0 for table in self.tables)


async def _create_shadows(conn: AsyncConnection, view: View) -> None:
    for table in view.tables:
        found = await (
            await conn.execute("SELECT to_regclass(%s)", (table.name,))
        ).fetchone()
        if found is None or found[0] is None:
            raise RebuildError(
                f"table {table.name} does not exist; apply the migrations first "
                "(`tidings run` applies them at start)"
            )
        await conn.execute(
            sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table.shadow))
        )
        await conn.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                sql.Identifier(table.shadow), sql.Identifier(table.name)
            )
        )
        await _copy_table_options(conn, table.name, table.shadow)


async def _copy_table_options(conn: AsyncConnection, source: str, target: str) -> None:
    """Copy storage parameters such as toast_tuple_target, which LIKE leaves
    out."""
    cursor = await conn.execute(
        "SELECT reloptions FROM pg_class WHERE oid = %s::regclass", (source,)
    )
    row = await cursor.fetchone()
    if row is None or not row[0]:
        return
    options = []
    for option in row[0]:
        name, _, value = option.partition("=")
        options.append(
            sql.SQL("{} = {}").format(sql.Identifier(name), sql.Literal(value))
        )
    await conn.execute(
        sql.SQL("ALTER TABLE {} SET ({})").format(
            sql.Identifier(target), sql.SQL(", ").join(options)
        )
    )


async def _take_view_lock(conn: AsyncConnection, lock_id: int, view: View) -> None:
    """Take the view's advisory lock, waiting while another session has it.
    The lock lasts until the connection closes."""
    cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_id,))
    row = await cursor.fetchone()
    if row is not None and row[0]:
        return
    log.info("rebuild_lock_waiting", view=view.name, lock_id=lock_id)
    await conn.execute("SELECT pg_advisory_lock(%s)", (lock_id,))


async def _analyze_shadows(conn: AsyncConnection, view: View) -> None:
    # The renamed tables keep these statistics, so the planner does not plan
    # the first searches after the swap without any.
    for table in view.tables:
        await conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table.shadow)))


async def _drop_shadows(conn: AsyncConnection, view: View) -> None:
    for table in view.tables:
        await conn.execute(
            sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table.shadow))
        )


async def _drop_shadows_quietly(conn: AsyncConnection, view: View) -> None:
    # Runs while another error may be on its way up; that one matters more.
    try:
        await _drop_shadows(conn, view)
    except psycopg.Error as exc:
        log.warning("shadow_tables_not_dropped", view=view.name, error=str(exc))


async def _apply_ranges(
    conn: AsyncConnection,
    bootstrap: str,
    ranges: list[PartitionRange],
    builder: ViewBuilder,
    report: RebuildReport,
    on_progress: Callable[[int], None] | None,
) -> None:
    consumer = open_consumer(bootstrap)
    try:
        for batch in read_ranges(consumer, ranges):
            for message in batch:
                try:
                    event = from_record(message.headers(), message.value())
                    await builder.apply(conn, event)
                except _SKIPPED_ERRORS as exc:
                    report.events_skipped += 1
                    log.warning(
                        "rebuild_event_skipped",
                        topic=message.topic(),
                        partition=message.partition(),
                        offset=message.offset(),
                        error=str(exc),
                    )
                    continue
                report.events_read += 1
            if on_progress is not None:
                on_progress(len(batch))
    finally:
        consumer.close()
    await builder.finish(conn)


async def _count(conn: AsyncConnection, table: str) -> int:
    row = await (
        await conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        )
    ).fetchone()
    return int(row[0]) if row else 0


def _differing_columns(table: TableSpec) -> sql.Composed:
    """Select the names of the columns in which a row pair differs."""
    tests = [
        sql.SQL("CASE WHEN l.{0} IS DISTINCT FROM r.{0} THEN {1} END").format(
            sql.Identifier(name), sql.Literal(name)
        )
        for name in table.columns
    ]
    tests += [
        sql.SQL("CASE WHEN (l.{0} <=> r.{0}) > %(tolerance)s THEN {1} END").format(
            sql.Identifier(name), sql.Literal(name)
        )
        for name in table.vectors
    ]
    return sql.SQL("array_remove(ARRAY[{}]::text[], NULL)").format(
        sql.SQL(", ").join(tests)
    )


def _difference_query(table: TableSpec) -> sql.Composed:
    keys = sql.SQL(", ").join(sql.Identifier(name) for name in table.key)

    def columns(alias: str) -> sql.Composed:
        return sql.SQL(", ").join(
            sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(name))
            for name in table.columns
        )

    vectors = sql.SQL("").join(
        sql.SQL(" OR (l.{0} <=> r.{0}) > %(tolerance)s").format(sql.Identifier(name))
        for name in table.vectors
    )
    return sql.SQL(
        "SELECT {keys}, {differing}, CASE WHEN l._present IS NULL THEN "
        "'only_rebuilt' WHEN r._present IS NULL THEN 'only_live' ELSE 'differs' END "
        "FROM (SELECT *, true AS _present FROM {live}) l "
        "FULL JOIN (SELECT *, true AS _present FROM {shadow}) r USING ({keys}) "
        "WHERE l._present IS NULL OR r._present IS NULL "
        "OR ROW({live_columns}) IS DISTINCT FROM ROW({shadow_columns}){vectors} "
        "ORDER BY {keys}"
    ).format(
        keys=keys,
        live=sql.Identifier(table.name),
        shadow=sql.Identifier(table.shadow),
        live_columns=columns("l"),
        shadow_columns=columns("r"),
        vectors=vectors,
        differing=_differing_columns(table),
    )


async def compare_table(conn: AsyncConnection, table: TableSpec) -> TableReport:
    """Compare the live table with its shadow, row by row on the key."""
    report = TableReport(
        table=table.name,
        live_rows=await _count(conn, table.name),
        rebuilt_rows=await _count(conn, table.shadow),
    )
    cursor = await conn.execute(
        _difference_query(table), {"tolerance": EMBEDDING_TOLERANCE}
    )
    key_size = len(table.key)
    async for row in cursor:
        report.difference_count += 1
        if len(report.differences) < LISTED_DIFFERENCES:
            kind = row[-1]
            columns = tuple(row[key_size]) if kind == "differs" else ()
            report.differences.append(Difference(tuple(row[:key_size]), kind, columns))
    return report


async def _index_pairs(
    conn: AsyncConnection, table: TableSpec
) -> list[tuple[str, str]]:
    """Pair each shadow index with the live index of the same definition."""
    by_definition: dict[str, dict[str, list[str]]] = {}
    for name, role in ((table.name, "live"), (table.shadow, "shadow")):
        cursor = await conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = %s "
            "ORDER BY indexname",
            (name,),
        )
        for index_name, definition in await cursor.fetchall():
            normalized = _INDEX_HEAD.sub(r"CREATE \1INDEX ON ", definition)
            by_definition.setdefault(normalized, {"live": [], "shadow": []})
            by_definition[normalized][role].append(index_name)
    return [
        (shadow, live)
        for names in by_definition.values()
        for shadow, live in zip(names["shadow"], names["live"], strict=False)
    ]


async def _swap(conn: AsyncConnection, view: View) -> None:
    """Replace the live tables by their shadows; call inside a transaction."""
    for table in view.tables:
        pairs = await _index_pairs(conn, table)
        await conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table.name)))
        await conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(table.shadow), sql.Identifier(table.name)
            )
        )
        # Renaming an index that backs a constraint renames the constraint too.
        for shadow_index, live_index in pairs:
            await conn.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    sql.Identifier(shadow_index), sql.Identifier(live_index)
                )
            )


async def _catch_up_and_swap(
    conn: AsyncConnection,
    view: View,
    bootstrap: str,
    ranges: list[PartitionRange],
    builder: ViewBuilder,
    report: RebuildReport,
    lock_timeout_seconds: float,
) -> None:
    live = sql.SQL(", ").join(sql.Identifier(table.name) for table in view.tables)
    try:
        async with conn.transaction():
            await conn.execute(
                sql.SQL("SET LOCAL lock_timeout = {}").format(
                    sql.Literal(f"{int(lock_timeout_seconds * 1000)}ms")
                )
            )
            # Writers wait from here on; readers go on until the DROP.
            await conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(live))
            consumer = open_consumer(bootstrap)
            try:
                late = plan_after(consumer, ranges)
            finally:
                consumer.close()
            log.info(
                "rebuild_catching_up", view=view.name, events=sum(r.size for r in late)
            )
            await _apply_ranges(conn, bootstrap, late, builder, report, None)
            await _swap(conn, view)
            if view.after_swap is not None:
                await view.after_swap(conn)
    except psycopg.errors.LockNotAvailable as exc:
        raise RebuildError(
            f"could not lock the tables of view {view.name} within "
            f"{lock_timeout_seconds:g} s because other transactions hold them; "
            "retry when the load is lower"
        ) from exc


async def rebuild_view(
    view: View,
    settings: Settings,
    *,
    check: bool,
    on_plan: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    lock_timeout_seconds: float = 10.0,
) -> RebuildReport:
    """Rebuild the view into shadow tables, then compare or swap them in."""
    started = time.perf_counter()
    report = RebuildReport(view=view.name, swapped=False)
    bootstrap = settings.resolved_kafka_bootstrap()
    try:
        conn = await AsyncConnection.connect(
            settings.resolved_database_url(), autocommit=True
        )
    except psycopg.OperationalError as exc:
        raise RebuildError(
            f"cannot connect to Postgres: {exc}; check TIDINGS_DATABASE_URL"
        ) from exc

    try:
        await register_vector_async(conn)
        if view.lock_id is not None and not check:
            await _take_view_lock(conn, view.lock_id, view)
        await _create_shadows(conn, view)
        builder = view.builder(settings)
        consumer = open_consumer(bootstrap)
        try:
            ranges = plan_ranges(
                consumer, [spec.name for spec in view.topics], None, None
            )
        finally:
            consumer.close()
        if on_plan is not None:
            on_plan(sum(r.size for r in ranges))
        log.info("rebuild_started", view=view.name, check=check)
        await _apply_ranges(conn, bootstrap, ranges, builder, report, on_progress)

        if check:
            for table in view.tables:
                report.tables.append(await compare_table(conn, table))
        else:
            await _analyze_shadows(conn, view)
            await _catch_up_and_swap(
                conn, view, bootstrap, ranges, builder, report, lock_timeout_seconds
            )
            report.swapped = True
            for table in view.tables:
                rows = await _count(conn, table.name)
                report.tables.append(TableReport(table.name, rows, rows))
    finally:
        if not report.swapped:
            await _drop_shadows_quietly(conn, view)
        await conn.close()

    report.seconds = time.perf_counter() - started
    log.info(
        "rebuild_finished",
        view=view.name,
        swapped=report.swapped,
        events=report.events_read,
        skipped=report.events_skipped,
        seconds=round(report.seconds, 2),
    )
    return report
