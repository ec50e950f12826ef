"""Text preparation for Postgres full-text search in Chinese and English.

Postgres' parser treats a run of Chinese characters as one word, so CJK runs
are segmented into words with jieba before `to_tsvector`. Latin text passes
through unchanged and gets the `english` configuration's stemming.
"""

import logging
import re
import unicodedata
from functools import lru_cache

import jieba

TS_CONFIG = "english"

# CJK Unified Ideographs (with extension A), compatibility ideographs,
# Hiragana and Katakana.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]+")

jieba.setLogLevel(logging.WARNING)


def normalize(text: str) -> str:
    """Fold full-width forms and ligatures (NFKC) and collapse whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _segment(text: str, for_index: bool) -> str:
    cut = jieba.cut_for_search if for_index else jieba.cut

    def words(match: re.Match[str]) -> str:
        return " " + " ".join(w for w in cut(match.group(0)) if w.strip()) + " "

    return " ".join(_CJK_RUN.sub(words, normalize(text)).split())


def segment_for_index(text: str) -> str:
    """Segment a chunk's text; the finer search mode also indexes sub-words."""
    return _segment(text, for_index=True)


@lru_cache(maxsize=4096)
def segment_query(query: str) -> str:
    return _segment(query, for_index=False)


def query_terms(query: str) -> list[str]:
    """Return the distinct lowercase terms of a query, for snippets."""
    seen: dict[str, None] = {}
    for term in segment_query(query).lower().split():
        term = term.strip("\"'()[]{}.,;:!?-")
        if term and term not in ("or", "and", "not"):
            seen.setdefault(term, None)
    return list(seen)


def make_snippet(content: str, terms: list[str], width: int = 240) -> str:
    """Return a window of the content around the first query term it contains."""
    text = normalize(content)
    # Search the text itself, case-insensitively: lower() can change a
    # string's length (U+0130), which would shift positions found in a copy.
    hits = [
        match.start()
        for term in terms
        if (match := re.search(re.escape(term), text, re.IGNORECASE))
    ]
    if not hits:
        return text[:width]

    start = max(0, min(hits) - width // 3)
    snippet = text[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return prefix + snippet + suffix
