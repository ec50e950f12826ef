"""Highlighted titles and snippets: query terms wrapped in <mark>, HTML-escaped.

Terms are found in the folded text (full-width and traditional forms folded,
as for search) and marked in the original text when folding kept its length,
else in the folded text. A Latin term also marks longer words that start
with it minus a plural or verb ending, a rough stand-in for the stemming
that full-text search applies.
"""

import html
import re
from functools import lru_cache

from tidings.catalog_text import fold

SNIPPET_CHARS = 160
_ENDINGS = ("ing", "es", "ed", "s")
_LATIN_LETTERS = "0-9a-z\u00e0-\u024f"
_LATIN = re.compile(f"^[{_LATIN_LETTERS}]+$")


def _stem(term: str) -> str:
    for ending in _ENDINGS:
        if term.endswith(ending) and len(term) - len(ending) >= 3:
            return term[: -len(ending)]
    return term


# Each hit's title and snippet use the same pattern.
@lru_cache(maxsize=1024)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = []
    for term in sorted(set(terms), key=len, reverse=True):
        if _LATIN.match(term):
            stem = re.escape(_stem(term))
            parts.append(f"(?<![{_LATIN_LETTERS}]){stem}[{_LATIN_LETTERS}]*")
        else:
            parts.append(re.escape(term))
    if not parts:
        return None
    return re.compile("|".join(parts), re.IGNORECASE)


def _spans(text: str, terms: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Return the text to show and the spans of terms in it."""
    folded = fold(text)
    shown = text if len(folded) == len(text) else folded
    pattern = _pattern(tuple(terms))
    if pattern is None:
        return shown, []
    return shown, [m.span() for m in pattern.finditer(folded) if m.end() > m.start()]


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    pieces = []
    position = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, position), min(span_end, end)
        if span_start >= span_end:
            continue
        pieces.append(html.escape(text[position:span_start]))
        pieces.append("<mark>" + html.escape(text[span_start:span_end]) + "</mark>")
        position = span_end
    pieces.append(html.escape(text[position:end]))
    return "".join(pieces)


def highlight(text: str, terms: list[str]) -> str:
    """Return the whole text, escaped, with query terms marked."""
    shown, spans = _spans(text, terms)
    return _render(shown, spans, 0, len(shown))


def snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """Return a window of about `width` characters around the first term."""
    shown, spans = _spans(" ".join(text.split()), terms)
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3) if spans else 0
    end = min(len(shown), start + width)
    body = _render(shown, spans, start, end)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(shown) else ""
    return prefix + body + suffix
