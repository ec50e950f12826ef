"""Every word one edit away shares a deletion variant with the word, so the
typo lookup loses no correction before it is checked, and the best of several
corrections is the one sharing the most trigrams."""

import random
import string

from api.typo import best_correction, correct, typo_lookup
from tidings.catalog_text import TYPO_MIN_LENGTH, deletion_variants, within_one_edit


def _one_edit_variants(word: str, letters: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return deletes | swaps | replaces | inserts


def test_one_edit_words_share_variant() -> None:
    rng = random.Random(5)
    letters = string.ascii_lowercase + "éü"
    for _ in range(200):
        length = rng.randint(TYPO_MIN_LENGTH, 12)
        word = "".join(rng.choice(letters) for _ in range(length))
        variants = set(deletion_variants(word))
        for edited in _one_edit_variants(word, letters):
            assert within_one_edit(word, edited)
            assert variants & set(deletion_variants(edited)), (word, edited)


def test_variants_of_short_word() -> None:
    assert deletion_variants("chair") == [
        "cair",
        "chai",
        "chair",
        "char",
        "chir",
        "hair",
    ]


def test_variants_of_repeated_letters() -> None:
    assert deletion_variants("sleep") == ["leep", "seep", "slee", "sleep", "slep"]


def test_best_correction_prefers_shared_trigrams() -> None:
    # Both are one edit away. "lamps" shares four trigrams, "campz" three.
    assert best_correction("lampz", ["campz", "lamps"]) == "lamps"


def test_best_correction_ties_alphabetical() -> None:
    assert best_correction("chaxr", ["chair", "chaor"]) == "chair"


def test_best_correction_none_two_edits_away() -> None:
    assert best_correction("chair", ["chore", "cheer"]) is None


def test_lookup_takes_long_latin_words() -> None:
    lookup = typo_lookup("Ｗool 羊毛 HOODIE cap")

    assert lookup is not None
    assert lookup.words == ["hoodie"]
    assert lookup.text == "wool 羊毛 hoodie cap"
    assert set(deletion_variants("hoodie")) == set(lookup.variants)


def test_lookup_of_short_or_chinese_words_is_none() -> None:
    assert typo_lookup("羊毛 cap") is None


def test_correct_replaces_unknown_words_only() -> None:
    lookup = typo_lookup("blakc hoodie")
    assert lookup is not None

    assert correct(lookup, ["black", "hoodie", "hoodies"]) == "black hoodie"


def test_correct_without_candidates_is_none() -> None:
    lookup = typo_lookup("blakc hoodie")
    assert lookup is not None

    assert correct(lookup, ["hoodie"]) is None
    assert correct(lookup, []) is None
