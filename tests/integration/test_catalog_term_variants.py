"""The migration that added deletion variants to existing vocabulary terms
computes the same variants as the catalog stage does for new terms."""

import re

import psycopg
import pytest

from connectors.postgres import MIGRATIONS_DIR
from tidings.catalog_text import deletion_variants

pytestmark = pytest.mark.integration

WORDS = ["chair", "sleep", "café", "naïve", "aaaa", "übermäßig", "wainscoting"]


def _backfill_statement() -> str:
    text = (MIGRATIONS_DIR / "0009_catalog_term_variants.sql").read_text()
    match = re.search(r"UPDATE catalog_terms SET variants = .*?;", text, re.DOTALL)
    assert match is not None, "the migration no longer has its backfill UPDATE"
    return match.group(0)


def test_backfill_matches_python(db: psycopg.Connection) -> None:
    with db.transaction(force_rollback=True):
        # A temporary table of the same name comes first in the search path,
        # so the migration's statement runs on these rows only.
        db.execute(
            "CREATE TEMP TABLE catalog_terms "
            "(tenant_id text, term text, variants text[]) ON COMMIT DROP"
        )
        for word in WORDS:
            db.execute(
                "INSERT INTO catalog_terms (tenant_id, term) VALUES ('t', %s)", (word,)
            )
        db.execute(_backfill_statement())
        rows = dict(db.execute("SELECT term, variants FROM catalog_terms").fetchall())

    # The same order too: a rebuild's --check compares the arrays as they are.
    for word in WORDS:
        assert rows[word] == deletion_variants(word), word
