"""Normalising and comparing company and person names, Latin and Chinese.

`normalize_name` folds the differences that do not change who a name
means: case, spacing, full-width forms (NFKC), traditional versus
simplified Chinese (OpenCC `t2s`), punctuation and company legal forms
such as "Co., Ltd." or 有限公司. `compare_names` scores two names from 0 to
100 with rapidfuzz, and compares names in different scripts through their
Latin transliteration (anyascii), so 华为技术 and "Huawei Jishu" match.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypeVar

import opencc
from anyascii import anyascii
from rapidfuzz import fuzz

from connectors.verification.errors import NameMatchError, NameNormalizationError

NameKind = Literal["company", "person"]

T = TypeVar("T")

# Legal forms, as tokens after case folding and with periods removed, so
# "Co., Ltd." becomes "co ltd" and "L.L.C." becomes "llc".
LATIN_COMPANY_SUFFIXES = frozenset(
    {
        "ab", "ag", "as", "bhd", "bv", "co", "company", "corp", "corporation",
        "gmbh", "inc", "incorporated", "jsc", "kk", "limited", "llc", "llp",
        "lp", "ltd", "nv", "oao", "ojsc", "ooo", "oy", "pjsc", "plc", "pte",
        "pty", "sa", "sarl", "sdn", "spa", "srl", "zao",
    }
)  # fmt: skip

# Chinese legal forms in simplified characters, longest first, because
# 有限公司 is also the end of 股份有限公司.
CHINESE_COMPANY_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "个人独资企业",
    "有限合伙",
    "普通合伙",
    "合伙企业",
    "有限公司",
    "股份公司",
    "公司",
)

PERSON_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir"})

_WHITESPACE = re.compile(r"\s+")
# Python strings may hold UTF-16 surrogates, which OpenCC cannot encode.
_SURROGATES = re.compile("[\ud800-\udfff]")
# Word characters include CJK ideographs and digits, and everything else except
# whitespace counts as punctuation.
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_CAPITAL_AFTER_LOWER = re.compile(r"(?<=[a-z])(?=[A-Z])")


class ChineseConverter:
    """OpenCC with its errors translated into NameNormalizationError."""

    def __init__(self, config: str = "t2s") -> None:
        self.config = config
        try:
            self._converter = opencc.OpenCC(config)
        except Exception as exc:
            raise NameNormalizationError(
                f"OpenCC could not load the configuration {config!r} ({exc}); use "
                f"one that ships with the opencc package, such as 't2s'"
            ) from exc

    def convert(self, text: str) -> str:
        try:
            return str(self._converter.convert(text))
        except Exception as exc:
            raise NameNormalizationError(
                f"OpenCC ({self.config}) failed to convert {text!r} "
                f"({type(exc).__name__}: {exc}); pass a str without lone surrogates"
            ) from exc


@lru_cache(maxsize=1)
def default_converter() -> ChineseConverter:
    """Return the shared traditional-to-simplified converter."""
    return ChineseConverter("t2s")


def fold_text(text: str, converter: ChineseConverter | None = None) -> str:
    """Fold width, script variant, case and spacing of free text.

    NFKC turns full-width letters into ASCII, OpenCC turns traditional
    Chinese into simplified, and runs of whitespace become one space. Lone
    surrogates become U+FFFD.
    """
    folded = _SURROGATES.sub("\ufffd", unicodedata.normalize("NFKC", text))
    folded = (converter or default_converter()).convert(folded)
    return _WHITESPACE.sub(" ", folded.casefold()).strip()


def normalize_query(text: str) -> str:
    """Return the cache key form of a query: folded text, see `fold_text`."""
    return fold_text(text)


def normalize_name(
    name: str,
    kind: NameKind = "company",
    converter: ChineseConverter | None = None,
) -> str:
    """Return `name` folded, without punctuation, and without legal forms.

    Company names lose trailing legal forms ("Co., Ltd.", 有限公司), person
    names lose leading titles ("Dr"). Spaces between Chinese characters go,
    so 华为 技术 and 华为技术 are the same name.
    """
    text = fold_text(name, converter).replace(".", "")
    text = _PUNCTUATION.sub(" ", text)
    text = _WHITESPACE.sub(" ", text).strip()
    text = _SPACE_BETWEEN_CJK.sub("", text)

    if kind == "company":
        return _strip_company_suffixes(text)
    return _strip_person_titles(text)


def _strip_company_suffixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in CHINESE_COMPANY_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip()
                changed = True
                break

        tokens = text.split(" ")
        if len(tokens) > 1 and tokens[-1] in LATIN_COMPANY_SUFFIXES:
            text = " ".join(tokens[:-1])
            changed = True
    return text


def _strip_person_titles(text: str) -> str:
    tokens = text.split(" ")
    while len(tokens) > 1 and tokens[0] in PERSON_TITLES:
        tokens = tokens[1:]
    return " ".join(tokens)


def transliterate(text: str) -> str:
    """Return a lower-case Latin form of `text`, one word per syllable or word.

    anyascii writes Chinese as capitalised pinyin syllables without spaces
    ("BeiJing"), so a space goes before each capital that follows a small
    letter.
    """
    latin = _CAPITAL_AFTER_LOWER.sub(" ", anyascii(text))
    latin = _PUNCTUATION.sub(" ", latin.lower())
    return _WHITESPACE.sub(" ", latin).strip()


@dataclass(frozen=True)
class NameComparison:
    """Two normalised names and their similarity from 0 to 100."""

    left: str
    right: str
    score: float

    @property
    def exact(self) -> bool:
        return self.left == self.right


def compare_names(
    left: str,
    right: str,
    kind: NameKind = "company",
    converter: ChineseConverter | None = None,
) -> NameComparison:
    """Normalise both names and score how alike they are.

    The score is rapidfuzz's token sort ratio, so word order does not
    matter. When either name is not ASCII, the names are also compared
    through their transliterations, and the higher score counts.
    """
    normal_left = normalize_name(left, kind, converter)
    normal_right = normalize_name(right, kind, converter)
    return NameComparison(
        left=normal_left,
        right=normal_right,
        score=similarity(normal_left, normal_right),
    )


def similarity(left: str, right: str) -> float:
    """Score two already normalised names from 0 to 100."""
    if left == right:
        return 100.0

    score = guarded_fuzz(fuzz.token_sort_ratio, left, right)
    if left.isascii() and right.isascii():
        return score

    latin_left = transliterate(left)
    latin_right = transliterate(right)
    spaced = guarded_fuzz(fuzz.token_sort_ratio, latin_left, latin_right)
    # Pinyin syllables may be written apart or together: "Hua Wei", "Huawei".
    joined = guarded_fuzz(
        fuzz.ratio, latin_left.replace(" ", ""), latin_right.replace(" ", "")
    )
    return max(score, spaced, joined)


def guarded_fuzz(scorer: Callable[[str, str], float], left: str, right: str) -> float:
    """Call a rapidfuzz scorer, translating its errors into NameMatchError."""
    try:
        return float(scorer(left, right))
    except (TypeError, ValueError) as exc:
        raise NameMatchError(
            f"rapidfuzz could not compare {left!r} with {right!r} "
            f"({type(exc).__name__}: {exc}); both names must be str"
        ) from exc
