"""Sanctions list in the OpenSanctions "simple CSV" format, with fuzzy name matching.

The format is the `targets.simple.csv` export of OpenSanctions, written by
zavod's `SimpleCSVExporter`. It has one row per target, with the columns `id`,
`schema`, `name`, `aliases`, `birth_date`, `countries`, `addresses`,
`identifiers`, `sanctions`, `phones`, `emails`, `dataset`, `first_seen`,
`last_seen` and `last_change`. Newer exports add `program_ids`. A
multi-valued cell contains its values joined by ";" and quoted as CSV where a
value contains ";". Only `id`, `schema` and `name` are required here.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from connectors.verification.errors import NameMatchError, SanctionsListError
from connectors.verification.names import NameKind, normalize_name, transliterate

REQUIRED_COLUMNS = ("id", "schema", "name")
MULTI_VALUED_COLUMNS = (
    "aliases",
    "birth_date",
    "countries",
    "addresses",
    "identifiers",
    "sanctions",
    "dataset",
    "program_ids",
)

# A target's sanctions cell can run to hundreds of KiB, more than the csv
# module's default field limit of 128 KiB.
FIELD_SIZE_LIMIT = 16 * 1024 * 1024

# FollowTheMoney schemas that a company or a person subject is compared with.
SCHEMAS_BY_KIND: dict[NameKind, frozenset[str]] = {
    "company": frozenset({"Company", "Organization", "LegalEntity", "PublicBody"}),
    "person": frozenset({"Person", "LegalEntity"}),
}


@dataclass(frozen=True)
class SanctionsEntry:
    """One listed target."""

    id: str
    schema: str
    name: str
    aliases: tuple[str, ...]
    birth_dates: tuple[str, ...]
    countries: tuple[str, ...]
    identifiers: tuple[str, ...]
    sanctions: tuple[str, ...]
    datasets: tuple[str, ...]
    program_ids: tuple[str, ...]


@dataclass(frozen=True)
class SanctionsMatch:
    """A listed target whose name or alias resembles the queried name."""

    entry: SanctionsEntry
    score: float
    matched_name: str


@dataclass(frozen=True)
class _IndexedName:
    entry: SanctionsEntry
    original: str


class SanctionsList:
    """Listed targets with each name and alias indexed in two forms.

    The first form is the normalised name (`names.normalize_name`). The
    second is its Latin transliteration, so 华为技术 matches the alias
    "Huawei Jishu" and "Сергей Иванов" matches "Sergei Ivanov".
    """

    def __init__(self, entries: Iterable[SanctionsEntry]) -> None:
        self.entries = tuple(entries)
        self._names: list[_IndexedName] = []
        self._normalised: list[str] = []
        self._latin: list[str] = []
        for entry in self.entries:
            kind: NameKind = "person" if entry.schema == "Person" else "company"
            for original in dict.fromkeys((entry.name, *entry.aliases)):
                normalised = normalize_name(original, kind)
                if not normalised:
                    continue
                self._names.append(_IndexedName(entry, original))
                self._normalised.append(normalised)
                self._latin.append(transliterate(normalised))

    def __len__(self) -> int:
        return len(self.entries)

    def match(
        self,
        name: str,
        kind: NameKind = "company",
        *,
        min_score: float = 88.0,
        limit: int = 5,
    ) -> list[SanctionsMatch]:
        """Return up to `limit` targets whose best name scores at least `min_score`.

        Scores run from 0 to 100 (rapidfuzz token sort ratio). Only targets
        whose schema fits `kind` are considered, and each target appears
        once, with its best-scoring name.
        """
        schemas = SCHEMAS_BY_KIND[kind]
        query = normalize_name(name, kind)
        if not query:
            return []

        best: dict[str, SanctionsMatch] = {}
        for index, score in self._scores(query, min_score):
            indexed = self._names[index]
            if indexed.entry.schema not in schemas:
                continue
            current = best.get(indexed.entry.id)
            if current is None or score > current.score:
                best[indexed.entry.id] = SanctionsMatch(
                    entry=indexed.entry, score=score, matched_name=indexed.original
                )

        ranked = sorted(best.values(), key=lambda m: (-m.score, m.entry.id))
        return ranked[:limit]

    def _scores(self, query: str, min_score: float) -> Iterator[tuple[int, float]]:
        latin_query = transliterate(query)
        try:
            direct = process.extract(
                query,
                self._normalised,
                scorer=fuzz.token_sort_ratio,
                score_cutoff=min_score,
                limit=None,
            )
            latin = process.extract(
                latin_query,
                self._latin,
                scorer=fuzz.token_sort_ratio,
                score_cutoff=min_score,
                limit=None,
            )
        except (TypeError, ValueError) as exc:
            raise NameMatchError(
                f"rapidfuzz could not match {query!r} against the sanctions list "
                f"({type(exc).__name__}: {exc}); check that min_score is a number "
                f"from 0 to 100"
            ) from exc
        for _, score, index in (*direct, *latin):
            yield index, float(score)


def load_sanctions_list(path: Path) -> SanctionsList:
    """Read an OpenSanctions simple CSV file; raise SanctionsListError if unusable."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            entries = list(read_sanctions_csv(handle, source=str(path)))
    except OSError as exc:
        raise SanctionsListError(
            f"cannot read the sanctions list {str(path)!r} ({exc.strerror}); set "
            f"TIDINGS_VERIFY_SANCTIONS_LIST_PATH to a readable targets.simple.csv"
        ) from exc
    except UnicodeDecodeError as exc:
        raise SanctionsListError(
            f"the sanctions list {str(path)!r} is not UTF-8 text (invalid byte at "
            f"offset {exc.start}); export it again as UTF-8 CSV"
        ) from exc
    return SanctionsList(entries)


def read_sanctions_csv(
    lines: Iterable[str], source: str = "<input>"
) -> Iterator[SanctionsEntry]:
    """Parse simple CSV rows into entries, raising SanctionsListError on bad rows."""
    # The limit is global to the process, and raising it only lets other
    # readers accept larger fields.
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    reader = csv.DictReader(lines, strict=True)
    try:
        header = reader.fieldnames or []
        missing = [column for column in REQUIRED_COLUMNS if column not in header]
        if missing:
            raise SanctionsListError(
                f"the sanctions list {source!r} lacks the columns {missing} (its "
                f"header is {header}); use the OpenSanctions targets.simple.csv export"
            )
        for row in reader:
            yield _entry_from_row(row, source, reader.line_num)
    except csv.Error as exc:
        raise SanctionsListError(
            f"the sanctions list {source!r} is not valid CSV near line "
            f"{reader.line_num} ({exc}); export it again from OpenSanctions"
        ) from exc


def _entry_from_row(
    row: Mapping[str, str | None], source: str, line: int
) -> SanctionsEntry:
    entry_id = (row.get("id") or "").strip()
    name = (row.get("name") or "").strip()
    if not entry_id or not name:
        raise SanctionsListError(
            f"row at line {line} of the sanctions list {source!r} has an empty id "
            f"or name; fix or drop that row"
        )
    values = {column: split_values(row.get(column)) for column in MULTI_VALUED_COLUMNS}
    return SanctionsEntry(
        id=entry_id,
        schema=(row.get("schema") or "").strip(),
        name=name,
        aliases=values["aliases"],
        birth_dates=values["birth_date"],
        countries=values["countries"],
        identifiers=values["identifiers"],
        sanctions=values["sanctions"],
        datasets=values["dataset"],
        program_ids=values["program_ids"],
    )


def split_values(cell: str | None) -> tuple[str, ...]:
    """Split a multi-valued cell: values joined by ";", quoted where needed."""
    if not cell:
        return ()
    reader = csv.reader(io.StringIO(cell), delimiter=";", strict=True)
    values = next(reader, [])
    return tuple(value.strip() for value in values if value.strip())
