"""One-edit typo correction of Latin-script query words.

The catalog stage stores each tenant's words with their trigrams in
`catalog_terms`. A query word of at least TYPO_MIN_LENGTH letters that is not
among them is replaced by a stored word one edit away, found through shared
trigrams and confirmed in Python. pg_trgm would do the same in SQL, but the
embedded Postgres (pgserver 0.1.4) does not ship it.
"""

import re

from psycopg import AsyncConnection

from tidings.catalog_text import TYPO_MIN_LENGTH, fold, trigrams, within_one_edit

# Python checks the candidates for one edit in order of shared trigrams. Many
# words can share as many trigrams as the right one and sort before it, so the
# list is long: 50 missed "storm" for "stoxm" behind 60 words "stoa.." and
# "stob..".
CANDIDATES = 500

KNOWN_SQL = """
SELECT term FROM catalog_terms WHERE tenant_id = %s AND term = ANY(%s)
"""

# One edit changes at most four neighbouring trigrams of a padded word (a swap
# of two letters), so a word of TYPO_MIN_LENGTH or more letters keeps its
# first two, its last two, or its first and last trigram. Asking the GIN
# index for those pairs reads far fewer terms than asking for any shared
# trigram. Terms sharing the most trigrams come first.
CANDIDATES_SQL = """
SELECT term FROM catalog_terms
WHERE tenant_id = %(tenant)s
  AND (trigrams @> %(head)s OR trigrams @> %(tail)s OR trigrams @> %(ends)s)
  AND length(term) BETWEEN %(shortest)s AND %(longest)s
ORDER BY cardinality(ARRAY(
    SELECT unnest(trigrams) INTERSECT SELECT unnest(%(trigrams)s::text[])
)) DESC, term
LIMIT %(limit)s
"""


def kept_pairs(word: str) -> dict[str, list[str]]:
    """Return the trigram pairs of which a word one edit away keeps one."""
    padded = f"  {word} "
    ordered = [padded[i : i + 3] for i in range(len(padded) - 2)]
    return {
        "head": ordered[:2],
        "tail": ordered[-2:],
        "ends": [ordered[0], ordered[-1]],
    }


_WORD = re.compile(r"[a-z\u00e0-\u024f]+")


async def _correction(conn: AsyncConnection, tenant_id: str, word: str) -> str | None:
    cursor = await conn.execute(
        CANDIDATES_SQL,
        {
            "tenant": tenant_id,
            "trigrams": trigrams(word),
            **kept_pairs(word),
            "shortest": len(word) - 1,
            "longest": len(word) + 1,
            "limit": CANDIDATES,
        },
    )
    for (term,) in await cursor.fetchall():
        if within_one_edit(word, term):
            return str(term)
    return None


async def correct_query(
    conn: AsyncConnection, tenant_id: str, query: str
) -> str | None:
    """Return the folded query with unknown words corrected, or None when no
    word needed or found a correction."""
    text = fold(query).lower()
    words = {w for w in _WORD.findall(text) if len(w) >= TYPO_MIN_LENGTH}
    if not words:
        return None
    cursor = await conn.execute(KNOWN_SQL, (tenant_id, sorted(words)))
    known = {row[0] for row in await cursor.fetchall()}

    corrections = {}
    for word in sorted(words - known):
        term = await _correction(conn, tenant_id, word)
        if term is not None:
            corrections[word] = term
    if not corrections:
        return None
    return _WORD.sub(
        lambda match: corrections.get(match.group(0), match.group(0)), text
    )
