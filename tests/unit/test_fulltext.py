"""Text preparation for full-text search: segmentation, folding, snippets."""

import pytest

from tidings.fulltext import (
    make_snippet,
    normalize,
    query_terms,
    segment_for_index,
    segment_query,
)

# Normalization


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＡＢＣ ｘｙｚ", "ABC xyz"),
        ("ＰＤＦ２０２４", "PDF2024"),
        ("ﬁle", "file"),
        ("  many \n\t spaces\u00a0here  ", "many spaces here"),
        ("全角\u3000空格", "全角 空格"),
        ("", ""),
    ],
)
def test_normalize_cases(text: str, expected: str) -> None:
    assert normalize(text) == expected


# Segmentation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我爱北京天安门", "我 爱 北京 天安门"),
        ("北京大学", "北京大学"),
    ],
)
def test_segment_query_cases(text: str, expected: str) -> None:
    assert segment_query(text) == expected


def test_segment_puts_spaces_between_words() -> None:
    words = segment_query("我爱北京天安门").split()
    assert len(words) > 1
    assert "".join(words) == "我爱北京天安门"


def test_segment_index_adds_subwords() -> None:
    words = segment_for_index("我爱北京天安门").split()
    assert "天安门" in words
    assert "天安" in words


def test_segment_keeps_latin() -> None:
    assert segment_query("Kafka 和 Postgres") == "Kafka 和 Postgres"


def test_segment_separates_cjk_from_latin() -> None:
    words = segment_query("使用Kafka处理事件").split()
    assert words[:2] == ["使用", "Kafka"]
    assert "".join(words) == "使用Kafka处理事件"


def test_segment_folds_fullwidth() -> None:
    assert segment_for_index("ＡＢＣ公司") == "ABC 公司"


def test_segment_query_folds_traditional() -> None:
    assert segment_query("商品名稱") == segment_query("商品名称")


def test_segment_index_folds_traditional() -> None:
    words = segment_for_index("華聯綠豆商品名稱").split()
    assert "商品" in words
    assert "名称" in words
    assert "名稱" not in words


@pytest.mark.parametrize("text", ["カタカナ", "ひらがな", "\u3400\u3401"])
def test_segment_other_cjk_runs(text: str) -> None:
    segmented = segment_for_index(text)
    assert segmented.replace(" ", "") == text


# Query terms


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Kafka Streams", ["kafka", "streams"]),
        ("kafka KAFKA Kafka", ["kafka"]),
        ('"exact phrase"', ["exact", "phrase"]),
        ("(kafka) OR postgres", ["kafka", "postgres"]),
        ("a and b not c", ["a", "b", "c"]),
        ("-excluded", ["excluded"]),
        ("北京天安门", ["北京", "天安门"]),
        ("ＡＢＣ", ["abc"]),
        ("!!! ...", []),
        ("", []),
    ],
)
def test_query_terms_cases(query: str, expected: list[str]) -> None:
    assert query_terms(query) == expected


# Snippets


def test_snippet_contains_term() -> None:
    content = "filler " * 200 + "needle " + "filler " * 200
    assert "needle" in make_snippet(content, ["needle"])


def test_snippet_has_context_before_term() -> None:
    content = "filler " * 200 + "needle " + "filler " * 200
    snippet = make_snippet(content, ["needle"], width=240)
    before = snippet.index("needle")
    # The window starts a third of its width before the term.
    assert before >= 60


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        (["first", "second"], "first"),
        (["second", "first"], "first"),
    ],
)
def test_snippet_starts_at_earliest_term(terms: list[str], expected: str) -> None:
    content = "x " * 300 + "first " + "y " * 300 + "second " + "z " * 300
    snippet = make_snippet(content, terms, width=120)
    assert expected in snippet


def test_snippet_ellipsis_both_sides() -> None:
    content = "filler " * 200 + "needle " + "filler " * 200
    snippet = make_snippet(content, ["needle"])
    assert snippet.startswith("…")
    assert snippet.endswith("…")


def test_snippet_no_ellipsis_at_start() -> None:
    content = "needle " + "filler " * 200
    snippet = make_snippet(content, ["needle"])
    assert snippet.startswith("needle")
    assert snippet.endswith("…")


def test_snippet_no_ellipsis_at_end() -> None:
    content = "filler " * 200 + "needle"
    assert make_snippet(content, ["needle"]).endswith("needle")


def test_snippet_width() -> None:
    content = "filler " * 200 + "needle " + "filler " * 200
    snippet = make_snippet(content, ["needle"], width=100)
    assert len(snippet.strip("…")) == 100


def test_snippet_case_insensitive() -> None:
    content = "filler " * 100 + "Needle"
    assert "Needle" in make_snippet(content, ["needle"])


def test_snippet_without_hit_is_prefix() -> None:
    content = "word " * 100
    assert make_snippet(content, ["absent"], width=50) == normalize(content)[:50]


def test_snippet_chinese_term() -> None:
    content = "无关的内容" * 100 + "天安门广场" + "无关的内容" * 100
    assert "天安门" in make_snippet(content, query_terms("天安门"))


def test_snippet_finds_simplified_term_in_traditional() -> None:
    content = "無關的內容" * 100 + "商品名稱" + "無關的內容" * 100
    snippet = make_snippet(content, query_terms("商品名称"), width=60)
    assert "商品名稱" in snippet


def test_snippet_normalizes_content() -> None:
    content = "ＮＥＥＤＬＥ\n\nin   text"
    assert make_snippet(content, ["needle"]) == "NEEDLE in text"


def test_snippet_after_dotted_capital_i() -> None:
    content = "İ" * 100 + " needle " + "x" * 400
    assert "needle" in make_snippet(content, ["needle"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("运动鞋 -跑步", "运动鞋 -跑步"),
        ("-跑步鞋 运动", '-"跑步 鞋" 运动'),
        ("运动鞋-跑步", "运动鞋 - 跑步"),
    ],
)
def test_segment_query_keeps_minus(query: str, expected: str) -> None:
    assert segment_query(query) == expected
