"""Text preparation for Postgres full-text search in Chinese and English.

Text and queries pass through the same `fold`: NFKC turns full-width forms
and ligatures into plain ones, and OpenCC's `t2s` turns traditional Chinese
into simplified, so "ｉＰｈｏｎｅ 電腦" and "iPhone 电脑" index and search alike.
Postgres' parser treats a run of Chinese characters as one word, so CJK runs
are then segmented into words with jieba before `to_tsvector`. Latin text
passes through unchanged and gets the `english` configuration's stemming.
"""

import logging
import re
import unicodedata
from functools import lru_cache

import jieba
import opencc

TS_CONFIG = "english"

# CJK Unified Ideographs (with extension A), compatibility ideographs,
# Hiragana and Katakana.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]+")

jieba.setLogLevel(logging.WARNING)

_t2s = opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Fold full-width forms and ligatures (NFKC) and collapse whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def contains_cjk(text: str) -> bool:
    """Return whether the text contains Chinese or Japanese characters."""
    return _CJK_RUN.search(text) is not None


def fold(text: str) -> str:
    """Fold full-width forms (NFKC) and traditional Chinese into simplified."""
    return _t2s.convert(unicodedata.normalize("NFKC", text))


def _excluded(text: str, start: int) -> bool:
    """Return whether the run at `start` follows a websearch minus: a "-"
    at the start of the text or after a space."""
    return (
        start > 0 and text[start - 1] == "-" and (start == 1 or text[start - 2] == " ")
    )


def _segment(text: str, for_index: bool) -> str:
    cut = jieba.cut_for_search if for_index else jieba.cut
    folded = " ".join(fold(text).split())

    def words(match: re.Match[str]) -> str:
        segmented = [w for w in cut(match.group(0)) if w.strip()]
        if not for_index and _excluded(folded, match.start()):
            # Keep the minus on the words, so the whole run stays excluded:
            # "-跑步鞋" becomes '-"跑步 鞋"', not "- 跑步 鞋".
            joined = " ".join(segmented)
            excluded = joined if len(segmented) == 1 else f'"{joined}"'
            return excluded + " "
        return " " + " ".join(segmented) + " "

    return " ".join(_CJK_RUN.sub(words, folded).split())


def segment_for_index(text: str) -> str:
    """Fold and segment a chunk's text. Jieba's search mode also indexes the
    sub-words of long words."""
    return _segment(text, for_index=True)


@lru_cache(maxsize=4096)
def segment_query(query: str) -> str:
    """Fold and segment a query like the text it searches."""
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
    # Terms are folded, so they are found in the folded text. Its positions
    # fit the original text when folding kept the length, else the folded
    # text is shown. The search ignores case instead of comparing lower()
    # copies, because lower() can change a string's length (U+0130).
    folded = fold(text)
    if len(folded) != len(text):
        text = folded
    hits = [
        match.start()
        for term in terms
        if (match := re.search(re.escape(term), folded, re.IGNORECASE))
    ]
    if not hits:
        return text[:width]

    start = max(0, min(hits) - width // 3)
    snippet = text[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return prefix + snippet + suffix
