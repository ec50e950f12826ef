"""One-edit typo correction of Latin-script query words.

The catalog stage stores each tenant's words in `catalog_terms` with their
deletion variants. A query word of at least TYPO_MIN_LENGTH letters that is
not among them is replaced by a stored word one edit away. One lookup of the
variants of every query word finds both the known words and the candidates,
which Python confirms. pg_trgm's similarity search would find candidates in
SQL, but the embedded Postgres (pgserver 0.1.4) does not ship it.

The search statement runs the lookup itself when the text matches too
little (TERMS_SQL), which saves a round trip.
"""

import re
from dataclasses import dataclass

from tidings.catalog_text import (
    TYPO_MIN_LENGTH,
    deletion_variants,
    fold,
    trigrams,
    within_one_edit,
)

# The stored words that share a deletion variant with a query word; a
# subquery of the search statement, with the tenant in %(f_tenant)s.
TERMS_SQL = """
ARRAY(SELECT term FROM catalog_terms
      WHERE tenant_id = %(f_tenant)s AND variants && %(variants)s::text[])"""

_WORD = re.compile(r"[a-z\u00e0-\u024f]+")


def best_correction(word: str, terms: list[str]) -> str | None:
    """Return the term one edit away from `word` that shares the most
    trigrams with it (the first in alphabetical order among equals)."""
    grams = set(trigrams(word))
    best: tuple[int, str] | None = None
    for term in terms:
        if not within_one_edit(word, term):
            continue
        rank = (-len(grams.intersection(trigrams(term))), term)
        if best is None or rank < best:
            best = rank
    return None if best is None else best[1]


@dataclass(frozen=True)
class TypoLookup:
    """The words of a query that may be typos, and the variants to look up."""

    text: str  # the folded, lower-cased query
    words: list[str]
    variants: list[str]


def typo_lookup(query: str) -> TypoLookup | None:
    """Return the lookup for `query`, or None when no word is long enough."""
    text = fold(query).lower()
    words = sorted({w for w in _WORD.findall(text) if len(w) >= TYPO_MIN_LENGTH})
    if not words:
        return None
    variants = sorted({v for word in words for v in deletion_variants(word)})
    return TypoLookup(text=text, words=words, variants=variants)


def correct(lookup: TypoLookup, terms: list[str]) -> str | None:
    """Return the folded query with unknown words corrected from the stored
    words `terms`, or None when no word needed or found a correction."""
    known = set(terms)
    corrections = {}
    for word in lookup.words:
        if word in known:
            continue
        term = best_correction(word, terms)
        if term is not None:
            corrections[word] = term
    if not corrections:
        return None
    return _WORD.sub(
        lambda match: corrections.get(match.group(0), match.group(0)), lookup.text
    )
