"""Adverse keywords in Chinese and English, negation, and snippet scores."""

import pytest

from connectors.verification.adverse import (
    AdverseCategory,
    assess_search_results,
    find_adverse_terms,
    mentions_name,
    score_snippet,
)
from connectors.verification.records import SearchResult


def categories(text: str) -> list[AdverseCategory]:
    return [hit.category for hit in find_adverse_terms(text) if not hit.negated]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("某公司被列为失信被执行人", AdverseCategory.DISHONEST_DEBTOR),
        ("该公司为被执行人", AdverseCategory.ENFORCEMENT),
        ("法定代表人涉嫌合同诈骗", AdverseCategory.INVESTIGATION),
        ("因集资诈骗被查", AdverseCategory.FRAUD),
        ("被美国列入实体清单", AdverseCategory.SANCTIONS),
        ("收到行政处罚决定书", AdverseCategory.REGULATORY_PENALTY),
        ("公司进入破产程序", AdverseCategory.BANKRUPTCY),
        ("合同纠纷一审判决", AdverseCategory.LAWSUIT),
        ("Acme was sanctioned by OFAC", AdverseCategory.SANCTIONS),
        ("Founder charged with wire fraud", AdverseCategory.INVESTIGATION),
        ("Investors sued Acme in 2021", AdverseCategory.LAWSUIT),
        ("Regulator fined the bank", AdverseCategory.REGULATORY_PENALTY),
        ("Acme filed for bankruptcy", AdverseCategory.BANKRUPTCY),
        ("a Ponzi scheme run by the firm", AdverseCategory.FRAUD),
    ],
)
def test_category_found(text: str, expected: AdverseCategory) -> None:
    assert expected in categories(text)


def test_traditional_chinese_matches() -> None:
    assert AdverseCategory.FRAUD in categories("涉嫌詐騙")


def test_dishonest_debtor_not_also_enforcement() -> None:
    assert categories("失信被执行人名单") == [AdverseCategory.DISHONEST_DEBTOR]


@pytest.mark.parametrize(
    "text",
    ["Acme Sanctuary Hotel", "a frauder-free zone", "the fine print", "Acme sues"],
)
def test_english_needs_whole_words(text: str) -> None:
    expected = [AdverseCategory.LAWSUIT] if text.endswith("sues") else []
    assert categories(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "No fraud was found at Acme",
        "Acme is not under investigation",
        "该公司未被列入失信被执行人名单",
        "无行政处罚记录",
    ],
)
def test_negated_terms_do_not_score(text: str) -> None:
    assert score_snippet(text).score == 0.0


def test_negated_hit_reported() -> None:
    hits = find_adverse_terms("no fraud found")

    assert hits[0].negated


def test_clean_snippet_scores_zero() -> None:
    assert score_snippet("Acme Ltd opens a new office in Shenzhen").score == 0.0


def test_categories_combine() -> None:
    lawsuit = score_snippet("Acme Ltd sued by a supplier", "Acme Ltd").score
    lawsuit_and_fraud = score_snippet("Acme Ltd sued for fraud", "Acme Ltd").score

    assert lawsuit_and_fraud > lawsuit


def test_unnamed_subject_halves_score() -> None:
    named = score_snippet("Acme Ltd sanctioned by OFAC", "Acme Ltd")
    unnamed = score_snippet("Apex Corp sanctioned by OFAC", "Acme Ltd")

    assert named.score == 1.0
    assert unnamed.score == 0.5
    assert not unnamed.mentions_subject


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("華為技術被列入實體清單", "华为技术有限公司"),
        ("HUAWEI TECHNOLOGIES added to entity list", "Huawei Technologies Co., Ltd."),
        ("Huawei Technologie was fined", "Huawei Technologies Co Ltd"),
    ],
)
def test_mentions_name_after_normalising(text: str, name: str) -> None:
    assert mentions_name(text, name)


def test_short_name_needs_exact_mention() -> None:
    assert not mentions_name("ABD Trading fined", "ABC")


def test_assess_keeps_adverse_hits_only() -> None:
    results = [
        SearchResult("Acme Ltd news", "https://news.test/1", "Acme Ltd opens office"),
        SearchResult("Acme Ltd 涉嫌诈骗", "https://news.test/2", "警方立案调查"),
        SearchResult("Acme Ltd sued", "https://news.test/3", "A supplier sued Acme"),
    ]

    assessment = assess_search_results(results, "Acme Ltd")

    assert [item.url for item in assessment.evidence] == [
        "https://news.test/2",
        "https://news.test/3",
    ]
    assert assessment.score == assessment.evidence[0].score
    assert AdverseCategory.FRAUD in assessment.categories


def test_assess_without_results() -> None:
    assessment = assess_search_results([], "Acme Ltd")

    assert assessment.score == 0.0
    assert assessment.evidence == ()
