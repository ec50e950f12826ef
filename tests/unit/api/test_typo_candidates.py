"""Every word one edit away keeps one of the trigram pairs that the typo
search looks up, so no correction is lost before it is checked."""

import random
import string

from api.typo import kept_pairs
from tidings.catalog_text import TYPO_MIN_LENGTH, trigrams, within_one_edit


def _one_edit_variants(word: str, letters: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return deletes | swaps | replaces | inserts


def test_variants_keep_a_pair() -> None:
    rng = random.Random(5)
    letters = string.ascii_lowercase + "éü"
    for _ in range(200):
        length = rng.randint(TYPO_MIN_LENGTH, 12)
        word = "".join(rng.choice(letters) for _ in range(length))
        pairs = kept_pairs(word).values()
        for variant in _one_edit_variants(word, letters):
            assert within_one_edit(word, variant)
            variant_trigrams = set(trigrams(variant))
            assert any(set(pair) <= variant_trigrams for pair in pairs), (word, variant)


def test_pairs_of_short_word() -> None:
    assert kept_pairs("chair") == {
        "head": ["  c", " ch"],
        "tail": ["air", "ir "],
        "ends": ["  c", "ir "],
    }
