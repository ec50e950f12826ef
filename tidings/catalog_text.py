"""Text preparation for product search: folding, segmentation and typo terms.

Product text and queries pass through the same `fold` as documents (see
`tidings.fulltext`), so "ｉＰｈｏｎｅ 電腦" and "iPhone 电脑" index and search
alike, and Chinese runs are segmented with jieba.
"""

import re
from functools import lru_cache

from tidings.fulltext import fold, normalize, segment_for_index, segment_query

# Words shorter than this are never corrected: one edit in a short word
# turns it into too many other words.
TYPO_MIN_LENGTH = 5
# Vocabulary words are one shorter, since a correction may delete a letter.
VOCABULARY_MIN_LENGTH = TYPO_MIN_LENGTH - 1
MAX_EMBEDDED_DESCRIPTION = 200

_LATIN_WORD = re.compile(r"[a-z\u00e0-\u024f]+")
_QUERY_OPERATORS = frozenset({"or", "and", "not"})


def index_text(text: str) -> str:
    """Return folded, segmented text for `to_tsvector`."""
    return segment_for_index(text)


@lru_cache(maxsize=4096)
def query_text(query: str) -> str:
    """Return the folded, segmented query for `websearch_to_tsquery`."""
    return segment_query(query)


def query_terms(query: str) -> list[str]:
    """Return the distinct lowercase terms of a query, without operators."""
    seen: dict[str, None] = {}
    for word in query_text(query).lower().split():
        term = word.strip("\"'()[]{}.,;:!?-")
        if term and term not in _QUERY_OPERATORS and not word.startswith("-"):
            seen.setdefault(term, None)
    return list(seen)


def latin_words(text: str, min_length: int = VOCABULARY_MIN_LENGTH) -> set[str]:
    """Return the distinct lowercase Latin-script words of a text."""
    words = _LATIN_WORD.findall(fold(text).lower())
    return {word for word in words if len(word) >= min_length}


def trigrams(word: str) -> list[str]:
    """Return the word's trigrams, padded like pg_trgm: two spaces in front."""
    padded = f"  {word} "
    return sorted({padded[i : i + 3] for i in range(len(padded) - 2)})


def deletion_variants(word: str) -> list[str]:
    """Return the word and each string that deleting one of its letters gives.

    Two words one insertion, deletion, substitution or neighbour swap apart
    always share a variant, so exact lookups of variants find every
    candidate correction (the deletion idea of SymSpell). Words that share a
    variant can still be two edits apart, so candidates need `within_one_edit`.
    """
    return sorted({word} | {word[:i] + word[i + 1 :] for i in range(len(word))})


def within_one_edit(a: str, b: str) -> bool:
    """True when one insertion, deletion, substitution or swap of two
    neighbouring letters turns `a` into `b` (or they are equal)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        first, second = diffs[0], diffs[-1]
        return (
            len(diffs) == 2
            and second == first + 1
            and a[first] == b[second]
            and a[second] == b[first]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(longer)):
        if longer[:i] + longer[i + 1 :] == shorter:
            return True
    return False


def embedding_text(
    title: str, brand: str | None, category_path: list[str], description: str
) -> str:
    """Return the text whose embedding stands for a product."""
    parts = [title, brand or "", " / ".join(category_path)]
    parts.append(normalize(description)[:MAX_EMBEDDED_DESCRIPTION])
    return fold(". ".join(part for part in parts if part))
