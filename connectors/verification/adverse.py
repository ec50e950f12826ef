"""Adverse signals in search snippets: keyword sets in Chinese and English.

Snippets are folded first (see `names.fold_text`), so traditional Chinese
詐騙 matches the simplified keyword 诈骗 and full-width letters match ASCII.
English keywords match whole words. A keyword with a negation just before
it ("no fraud", 无失信记录) is reported as negated and does not score.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz

from connectors.verification.names import (
    NameKind,
    fold_text,
    guarded_fuzz,
    normalize_name,
)
from connectors.verification.records import SearchResult


class AdverseCategory(StrEnum):
    SANCTIONS = "sanctions"
    DISHONEST_DEBTOR = "dishonest_debtor"
    FRAUD = "fraud"
    ENFORCEMENT = "enforcement"
    INVESTIGATION = "investigation"
    REGULATORY_PENALTY = "regulatory_penalty"
    BANKRUPTCY = "bankruptcy"
    LAWSUIT = "lawsuit"


# Weight, from 0 to 1, of one snippet in a category as a signal against a subject.
# NOTE: the weights are a judgement, not fitted to labelled data.
CATEGORY_WEIGHTS: dict[AdverseCategory, float] = {
    AdverseCategory.SANCTIONS: 1.0,
    AdverseCategory.DISHONEST_DEBTOR: 0.9,
    AdverseCategory.FRAUD: 0.85,
    AdverseCategory.ENFORCEMENT: 0.7,
    AdverseCategory.INVESTIGATION: 0.6,
    AdverseCategory.REGULATORY_PENALTY: 0.5,
    AdverseCategory.BANKRUPTCY: 0.5,
    AdverseCategory.LAWSUIT: 0.4,
}

# Chinese keywords in simplified characters. 失信被执行人 (a dishonest
# judgment debtor on the courts' blacklist) contains 被执行人 (any
# judgment debtor). The longer match wins, see `find_adverse_terms`.
CHINESE_KEYWORDS: dict[AdverseCategory, tuple[str, ...]] = {
    AdverseCategory.SANCTIONS: ("制裁", "实体清单", "黑名单", "出口管制", "资产冻结"),
    AdverseCategory.DISHONEST_DEBTOR: ("失信被执行人", "失信人", "失信名单", "老赖"),
    AdverseCategory.FRAUD: (
        "诈骗", "欺诈", "骗局", "非法集资", "洗钱", "传销", "集资诈骗",
        "合同诈骗", "假冒", "行贿", "受贿", "造假",
    ),
    AdverseCategory.ENFORCEMENT: ("被执行人", "强制执行", "限制消费", "限制高消费"),
    AdverseCategory.INVESTIGATION: (
        "涉嫌", "立案调查", "立案侦查", "被调查", "被捕", "逮捕", "通缉", "刑事拘留",
    ),
    AdverseCategory.REGULATORY_PENALTY: (
        "行政处罚", "罚款", "处罚决定", "吊销营业执照", "严重违法", "违规",
    ),
    AdverseCategory.BANKRUPTCY: ("破产", "清算", "经营异常"),
    AdverseCategory.LAWSUIT: (
        "诉讼", "起诉", "被告", "判决", "裁判文书", "仲裁", "纠纷",
    ),
}  # fmt: skip

# English keywords as regular expressions over case-folded text.
ENGLISH_PATTERNS: dict[AdverseCategory, tuple[str, ...]] = {
    AdverseCategory.SANCTIONS: (
        r"sanction(?:s|ed)?", r"ofac", r"sdn list", r"entity list",
        r"blacklist(?:s|ed)?", r"export controls?", r"asset freeze",
    ),
    AdverseCategory.DISHONEST_DEBTOR: (
        r"dishonest (?:judgment )?debtors?", r"judgment defaulters?",
    ),
    AdverseCategory.FRAUD: (
        r"fraud(?:s|ulent|ster|sters)?", r"scam(?:s|med|mer|mers)?", r"ponzi",
        r"embezzl\w*", r"money laundering", r"launder(?:ed|ing)?",
        r"counterfeit\w*", r"brib(?:e|es|ed|ery)", r"pyramid scheme",
    ),
    AdverseCategory.ENFORCEMENT: (
        r"enforcement actions?", r"court enforcement", r"assets? (?:seized|frozen)",
        r"seizure",
    ),
    AdverseCategory.INVESTIGATION: (
        r"investigat(?:ed|ion|ions|ing)", r"probe[sd]?", r"arrest(?:ed|s)?",
        r"charged with", r"suspected of", r"indict(?:ed|ment|ments)?",
        r"convicted", r"wanted by",
    ),
    AdverseCategory.REGULATORY_PENALTY: (
        r"fined", r"penalt(?:y|ies)", r"penali[sz]ed", r"violations?",
        r"cease and desist", r"licen[cs]e revoked",
    ),
    AdverseCategory.BANKRUPTCY: (
        r"bankrupt(?:cy)?", r"insolven(?:t|cy)", r"liquidation", r"receivership",
    ),
    AdverseCategory.LAWSUIT: (
        r"lawsuits?", r"sued", r"su(?:es|ing)", r"litigation", r"class action",
        r"plead(?:ed)? guilty",
    ),
}  # fmt: skip

# Cues that negate a keyword right after them.
_CHINESE_NEGATION = re.compile(
    r"(?:无|未|没有|不是|并非|非|未被|不存在)[^，。；,;]{0,4}$"
)
_ENGLISH_NEGATION = re.compile(
    r"\b(?:no|not|never|without|cleared of|denies|denied|free of|zero)"
    r"(?:\W+\w+){0,2}\W*$"
)

_CATEGORY_PATTERNS: dict[AdverseCategory, re.Pattern[str]] = {
    category: re.compile(
        "|".join(
            [
                *(re.escape(word) for word in CHINESE_KEYWORDS[category]),
                *(rf"\b{pattern}\b" for pattern in ENGLISH_PATTERNS[category]),
            ]
        )
    )
    for category in AdverseCategory
}

# Shorter names match too many unrelated snippets by fuzzy containment.
_MIN_FUZZY_NAME_LENGTH = 4
_MENTION_THRESHOLD = 90.0
# A snippet that does not name the subject may be about someone else.
UNNAMED_SUBJECT_FACTOR = 0.5


@dataclass(frozen=True)
class AdverseHit:
    """One adverse keyword in a folded snippet; `start` and `end` index the fold."""

    category: AdverseCategory
    keyword: str
    start: int
    end: int
    negated: bool


@dataclass(frozen=True)
class SnippetAssessment:
    """The adverse signal of one snippet, from 0 (none) to 1."""

    score: float
    categories: tuple[AdverseCategory, ...]
    hits: tuple[AdverseHit, ...]
    mentions_subject: bool


@dataclass(frozen=True)
class Evidence:
    """A search hit that carries an adverse signal."""

    url: str
    title: str
    snippet: str
    score: float
    categories: tuple[AdverseCategory, ...]


@dataclass(frozen=True)
class AdverseAssessment:
    """The strongest signal over all search hits, and the hits as evidence."""

    score: float
    categories: tuple[AdverseCategory, ...]
    evidence: tuple[Evidence, ...]


def find_adverse_terms(text: str) -> list[AdverseHit]:
    """Return the adverse keywords in `text` after folding, in text order.

    Where keywords overlap, the longest wins, so 失信被执行人 is one
    dishonest-debtor hit and not also an enforcement hit.
    """
    folded = fold_text(text)
    candidates: list[tuple[int, int, AdverseCategory]] = []
    for category, pattern in _CATEGORY_PATTERNS.items():
        for match in pattern.finditer(folded):
            candidates.append((match.start(), match.end(), category))
    candidates.sort(key=lambda item: (item[0], -(item[1] - item[0])))

    hits: list[AdverseHit] = []
    covered_until = -1
    for start, end, category in candidates:
        if start < covered_until:
            continue
        covered_until = end
        hits.append(
            AdverseHit(
                category=category,
                keyword=folded[start:end],
                start=start,
                end=end,
                negated=_is_negated(folded[:start]),
            )
        )
    return hits


def _is_negated(before: str) -> bool:
    window = before[-30:]
    return bool(_CHINESE_NEGATION.search(window) or _ENGLISH_NEGATION.search(window))


def score_snippet(
    text: str, subject_name: str | None = None, kind: NameKind = "company"
) -> SnippetAssessment:
    """Score the adverse signal of one snippet from 0 to 1.

    Categories combine as independent signals: 1 - prod(1 - weight). The
    score is halved when `subject_name` is given and the snippet does not
    name the subject.
    """
    hits = tuple(find_adverse_terms(text))
    categories = tuple(dict.fromkeys(hit.category for hit in hits if not hit.negated))
    score = 1.0 - math.prod(1.0 - CATEGORY_WEIGHTS[c] for c in categories)

    mentions = True if subject_name is None else mentions_name(text, subject_name, kind)
    if not mentions:
        score *= UNNAMED_SUBJECT_FACTOR
    return SnippetAssessment(
        score=round(score, 4),
        categories=categories,
        hits=hits,
        mentions_subject=mentions,
    )


def mentions_name(text: str, name: str, kind: NameKind = "company") -> bool:
    """Return whether `text` names the subject, after normalising both."""
    normal_name = normalize_name(name, kind)
    normal_text = normalize_name(text, "person")
    if not normal_name:
        return False
    if normal_name in normal_text:
        return True
    if len(normal_name) < _MIN_FUZZY_NAME_LENGTH:
        return False
    score = guarded_fuzz(fuzz.partial_ratio, normal_name, normal_text)
    return score >= _MENTION_THRESHOLD


def assess_search_results(
    results: Iterable[SearchResult],
    subject_name: str,
    kind: NameKind = "company",
) -> AdverseAssessment:
    """Score every hit's title and snippet; keep the adverse ones as evidence.

    The overall score is the highest score of one hit, because many hits
    often repeat one story.
    """
    evidence: list[Evidence] = []
    for result in results:
        assessment = score_snippet(
            f"{result.title} {result.snippet}", subject_name, kind
        )
        if assessment.score > 0:
            evidence.append(
                Evidence(
                    url=result.url,
                    title=result.title,
                    snippet=result.snippet,
                    score=assessment.score,
                    categories=assessment.categories,
                )
            )
    evidence.sort(key=lambda item: item.score, reverse=True)

    categories = tuple(dict.fromkeys(c for item in evidence for c in item.categories))
    top = evidence[0].score if evidence else 0.0
    return AdverseAssessment(score=top, categories=categories, evidence=tuple(evidence))
