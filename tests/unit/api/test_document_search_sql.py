"""The document search statement for each vector path."""

from api.document_search import nearest_chunks_sql, search_sql


def test_exact_scan_defeats_indexes() -> None:
    text = nearest_chunks_sql("tnt_a", None).as_string(None)

    assert "+ 0" in text
    assert "tnt_a" not in text


def test_index_walk_names_tenant_literal() -> None:
    """A literal tenant id lets the planner match the partial index predicate."""
    text = nearest_chunks_sql("tnt_a'b", "idx").as_string(None)

    assert "tenant_id = 'tnt_a''b'" in text
    assert "LIMIT %(walk)s" in text


def test_text_only_search_skips_embedding() -> None:
    text = search_sql("tnt_a", None, vector=False).as_string(None)

    assert "%(embedding)s" not in text
    assert "WHERE false" in text


def test_hybrid_search_uses_embedding() -> None:
    text = search_sql("tnt_a", None, vector=True).as_string(None)

    assert "%(embedding)s" in text
    assert "%(min_similarity)s" in text
