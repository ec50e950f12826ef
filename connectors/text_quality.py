"""Decide whether text extracted from a document is worth indexing.

A PDF font without a Unicode mapping makes pypdf return glyph codes instead of
text. Depending on the font, the codes come out as private-use characters, as
Latin-1 characters, or as letters of unrelated writing systems. The rules below
recognise those patterns from the characters alone. They were checked against
pypdf 7.1.1 output for scanned, garbled and clean PDFs in many languages.
"""

import functools
import unicodedata
from dataclasses import dataclass
from typing import Literal

TextQualityReason = Literal["no_text_layer", "garbled_text"]

# NOTE: The thresholds below are estimates. They classify the 36 readable PDFs of
# the test corpus and the tests' language samples, but only 5 of those PDFs are
# garbled, so new kinds of garbled fonts may need new rules or other thresholds.

# Fewer visible characters per page than this is what page numbers alone give.
MIN_CHARS_PER_PAGE = 3.0
# Private-use and U+FFFD characters occur in good text (icons, a few unmapped
# glyphs), so only a large share of them marks a document as garbled.
MAX_UNMAPPED_SHARE = 0.20
# Controls, unassigned code points and combining marks without a base letter do
# not occur in real text, so a small share of them is enough.
MAX_INVALID_SHARE = 0.05
# Latin-1 letters make up under 10% of the Czech, Icelandic and Vietnamese samples.
MAX_LATIN1_SHARE = 0.40
# Consecutive letters of real text change writing system rarely (16% in a Chinese
# product list full of English units), glyph numbers nearly at every letter.
MAX_SCRIPT_SWITCH_SHARE = 0.40
MIN_LETTERS_FOR_SCRIPT_SWITCHES = 20
# Random syllables fall outside KS X 1001 four times in five (8,822 of 11,172).
MAX_RARE_HANGUL_SHARE = 0.50
MIN_HANGUL_FOR_RARE_SHARE = 5

GARBLED_REMEDY = (
    "the PDF's fonts lack a Unicode mapping, so run OCR on it or export it again "
    "with fonts that include one"
)
NO_TEXT_REMEDY = "run OCR on the PDF and upload the result"

# Japanese and Korean mix these writing systems within one word.
_CJK_NAME_PREFIXES = frozenset(
    [
        "CJK",
        "HIRAGANA",
        "KATAKANA",
        "KATAKANA-HIRAGANA",
        "IDEOGRAPHIC",
        "HANGUL",
        "BOPOMOFO",
        "HENTAIGANA",
    ]
)
# Letters with these name prefixes belong to no single writing system.
_SCRIPTLESS_NAME_PREFIXES = frozenset(["MODIFIER", "MATHEMATICAL"])
_WIDTH_NAME_PREFIXES = frozenset(["FULLWIDTH", "HALFWIDTH"])


@dataclass(frozen=True)
class TextQuality:
    """Verdict on extracted text, with the measurements behind it.

    `reason` and `detail` are None when the text is usable.
    """

    usable: bool
    reason: TextQualityReason | None
    detail: str | None
    stats: dict[str, float]


@dataclass
class _CharacterCounts:
    pages: int = 0
    visible: int = 0
    private_use: int = 0
    replacement: int = 0
    invalid: int = 0
    latin1: int = 0
    letters: int = 0
    script_switches: int = 0
    hangul: int = 0
    rare_hangul: int = 0


Verdict = tuple[TextQualityReason, str]


def assess_text(pages: list[str]) -> TextQuality:
    """Decide whether the text of a document's pages is worth indexing.

    The first rule that matches decides the verdict, so the detail names the
    clearest sign found.
    """
    counts = _count_characters(pages)
    stats = _stats(counts)

    rules = (
        _check_empty,
        _check_invalid,
        _check_unmapped,
        _check_latin1,
        _check_script_switches,
        _check_rare_hangul,
        _check_sparse,
    )
    for rule in rules:
        verdict = rule(counts)
        if verdict is not None:
            reason, detail = verdict
            return TextQuality(usable=False, reason=reason, detail=detail, stats=stats)

    return TextQuality(usable=True, reason=None, detail=None, stats=stats)


def _count_characters(pages: list[str]) -> _CharacterCounts:
    counts = _CharacterCounts(pages=len(pages))
    for page in pages:
        _count_page(page, counts)
    return counts


def _count_page(text: str, counts: _CharacterCounts) -> None:
    has_base = False
    previous_script: str | None = None

    for char in text:
        if char.isspace():
            has_base = False
            continue

        counts.visible += 1
        category = unicodedata.category(char)
        if category[0] == "M":
            # A combining mark needs a letter, digit or symbol before it.
            if not has_base:
                counts.invalid += 1
            continue
        has_base = category[0] in "LNS"

        _count_unmapped(char, category, counts)
        if "\x80" <= char <= "\xff":
            counts.latin1 += 1
        if category[0] == "L":
            previous_script = _count_letter(char, previous_script, counts)


def _count_unmapped(char: str, category: str, counts: _CharacterCounts) -> None:
    if category == "Co":
        counts.private_use += 1
    elif char == "\ufffd":
        counts.replacement += 1
    elif category in ("Cc", "Cn", "Cs"):
        counts.invalid += 1


def _count_letter(
    char: str, previous_script: str | None, counts: _CharacterCounts
) -> str | None:
    """Count one letter and return the script that the next letter is compared to."""
    script = _letter_script(char)
    if script is None:
        return previous_script

    counts.letters += 1
    if previous_script is not None and script != previous_script:
        counts.script_switches += 1

    if "\uac00" <= char <= "\ud7a3":
        counts.hangul += 1
        if not _is_common_hangul(char):
            counts.rare_hangul += 1
    return script


@functools.cache
def _letter_script(char: str) -> str | None:
    """Return the writing system of a letter, taken from its Unicode name.

    Python's unicodedata has no Script property. The first word of a letter's
    name ("LATIN", "GREEK", "ARABIC", "THAI") names a different script for 12 of
    the 108,000 letters of 42 major scripts in Python 3.11's Unicode 14 data,
    compared with the `regex` package. Chinese, Japanese and Korean letters are
    merged into "CJK", and modifier and mathematical letters have no script.
    """
    words = unicodedata.name(char, "").split()
    if words and words[0] in _WIDTH_NAME_PREFIXES:
        words = words[1:]
    if not words or words[0] in _SCRIPTLESS_NAME_PREFIXES:
        return None
    if words[0] in _CJK_NAME_PREFIXES:
        return "CJK"
    return words[0]


@functools.cache
def _is_common_hangul(syllable: str) -> bool:
    # Python's euc_kr codec writes the 2,350 KS X 1001 syllables as 2 bytes and
    # every other syllable as an 8-byte make-up sequence (KS X 1001:1998 annex 3).
    return len(syllable.encode("euc_kr")) == 2


def _stats(counts: _CharacterCounts) -> dict[str, float]:
    visible = counts.visible
    unmapped = counts.private_use + counts.replacement
    return {
        "pages": float(counts.pages),
        "visible_chars": float(visible),
        "chars_per_page": _ratio(visible, counts.pages),
        "private_use_share": _ratio(counts.private_use, visible),
        "replacement_share": _ratio(counts.replacement, visible),
        "invalid_share": _ratio(counts.invalid, visible),
        "unmapped_share": _ratio(unmapped, visible),
        "latin1_share": _ratio(counts.latin1, visible),
        "letters": float(counts.letters),
        "script_switch_share": _ratio(counts.script_switches, counts.letters),
        "hangul_syllables": float(counts.hangul),
        "rare_hangul_share": _ratio(counts.rare_hangul, counts.hangul),
    }


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _check_empty(counts: _CharacterCounts) -> Verdict | None:
    if counts.visible:
        return None
    return (
        "no_text_layer",
        f"the document contains no extractable text, as scanned pages without "
        f"an OCR text layer do; {NO_TEXT_REMEDY}",
    )


def _check_unmapped(counts: _CharacterCounts) -> Verdict | None:
    share = _ratio(counts.private_use + counts.replacement, counts.visible)
    if share < MAX_UNMAPPED_SHARE:
        return None
    return (
        "garbled_text",
        f"{share:.0%} of {counts.visible:,} characters are private-use or U+FFFD "
        f"replacement characters; {GARBLED_REMEDY}",
    )


def _check_invalid(counts: _CharacterCounts) -> Verdict | None:
    share = _ratio(counts.invalid, counts.visible)
    if share < MAX_INVALID_SHARE:
        return None
    return (
        "garbled_text",
        f"{share:.0%} of {counts.visible:,} characters are control, unassigned or "
        f"stray combining characters, which real text does not contain; "
        f"{GARBLED_REMEDY}",
    )


def _check_latin1(counts: _CharacterCounts) -> Verdict | None:
    # GBK, Big5, Shift-JIS and EUC code bytes are mostly 0x80-0xFF, so Chinese,
    # Japanese or Korean text decoded as Latin-1 lands in U+0080-U+00FF.
    share = _ratio(counts.latin1, counts.visible)
    if share < MAX_LATIN1_SHARE:
        return None
    return (
        "garbled_text",
        f"{share:.0%} of {counts.visible:,} characters are Latin-1 accented letters "
        f"and symbols, the pattern of Chinese, Japanese or Korean text decoded as "
        f"Latin-1; {GARBLED_REMEDY}",
    )


def _check_script_switches(counts: _CharacterCounts) -> Verdict | None:
    # Glyph numbers read as code points scatter over Greek, Cyrillic, Arabic,
    # Indic and other blocks, so nearly every letter changes writing system.
    if counts.letters < MIN_LETTERS_FOR_SCRIPT_SWITCHES:
        return None
    share = _ratio(counts.script_switches, counts.letters)
    if share < MAX_SCRIPT_SWITCH_SHARE:
        return None
    return (
        "garbled_text",
        f"{share:.0%} of {counts.letters:,} letters belong to a different writing "
        f"system than the letter before them, the pattern of glyph numbers read "
        f"as Unicode; {GARBLED_REMEDY}",
    )


def _check_rare_hangul(counts: _CharacterCounts) -> Verdict | None:
    # Two-byte GBK or Big5 codes read as code points land on arbitrary Hangul
    # syllables, while Korean text keeps to the 2,350 syllables of KS X 1001.
    if counts.hangul < MIN_HANGUL_FOR_RARE_SHARE:
        return None
    share = _ratio(counts.rare_hangul, counts.hangul)
    if share < MAX_RARE_HANGUL_SHARE:
        return None
    return (
        "garbled_text",
        f"{share:.0%} of {counts.hangul:,} Hangul syllables are outside the 2,350 "
        f"common syllables of KS X 1001, the pattern of Chinese codes read as "
        f"Unicode; {GARBLED_REMEDY}",
    )


def _check_sparse(counts: _CharacterCounts) -> Verdict | None:
    per_page = _ratio(counts.visible, counts.pages)
    if per_page >= MIN_CHARS_PER_PAGE:
        return None
    return (
        "no_text_layer",
        f"the document has only {counts.visible:,} visible characters on "
        f"{counts.pages:,} pages, about what page numbers alone give; "
        f"{NO_TEXT_REMEDY}",
    )
