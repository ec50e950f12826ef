"""Tests of the text quality rules on the shared corpus and on real languages."""

import pytest

from connectors.pdf import PdfError, extract_text, normalize_text
from connectors.text_quality import assess_text
from tests.corpus import (
    expected_outcomes,
    load_pdf_manifest,
    manifest_params,
    manifest_passwords,
    read_pdf,
)

MANIFEST = load_pdf_manifest()
MAX_PAGES = 5000
GARBLED_EXPECTATIONS = {"mojibake", "mojibake_cjk"}

# Article 1 of the Universal Declaration of Human Rights (Article 1 of the
# constitution for Korean), as published in each language.
REAL_TEXT = {
    "korean": "대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고, "
    "모든 권력은 국민으로부터 나온다.",
    "russian": "Все люди рождаются свободными и равными в своём достоинстве и "
    "правах. Они наделены разумом и совестью.",
    "czech": "Všichni lidé rodí se svobodní a sobě rovní co do důstojnosti a "
    "práv. Jsou nadáni rozumem a svědomím.",
    "arabic": "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق. "
    "وقد وهبوا عقلاً وضميرًا.",
    "japanese": "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利と"
    "について平等である。",
    "chinese": "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，"
    "并应以兄弟关系的精神相对待。",
    "traditional_chinese": "人人生而自由，在尊嚴和權利上一律平等。他們賦有理性和良心，"
    "並應以兄弟關係的精神相對待。",
    "hindi": "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता और समानता प्राप्त है।",
    "thai": "มนุษย์ทั้งหลายเกิดมามีอิสระและเสมอกันในเกียรติศักดิ์และสิทธิ",
    "vietnamese": "Tất cả mọi người sinh ra đều được tự do và bình đẳng về "
    "nhân phẩm và quyền.",
    "greek": "Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην "
    "αξιοπρέπεια και τα δικαιώματα.",
    "icelandic": "Hver maður er borinn frjáls og jafn öðrum að virðingu og "
    "réttindum. Menn eru gæddir vitsmunum og samvisku.",
    "hebrew": "כל בני אדם נולדו בני חורין ושווים בערכם ובזכויותיהם.",
}
CHINESE = REAL_TEXT["chinese"]


def _pipeline_outcome(row: dict[str, str]) -> str:
    """Run extraction and assessment as the parse stage does, and name the outcome."""
    password = manifest_passwords(row).get("user")
    try:
        extracted = extract_text(
            read_pdf(row["file"]), password=password, max_pages=MAX_PAGES
        )
    except PdfError as exc:
        return f"failed:{exc.reason}"

    quality = assess_text(extracted.pages)
    return "indexed" if quality.usable else "no_text"


def _assess_row(row: dict[str, str]) -> tuple[str | None, str | None]:
    password = manifest_passwords(row).get("user")
    extracted = extract_text(
        read_pdf(row["file"]), password=password, max_pages=MAX_PAGES
    )
    quality = assess_text(extracted.pages)
    return quality.reason, quality.detail


@pytest.mark.parametrize("row", manifest_params(MANIFEST))
def test_pipeline_outcome_matches_manifest(row: dict[str, str]) -> None:
    assert _pipeline_outcome(row) in expected_outcomes(row)


@pytest.mark.parametrize(
    "row",
    manifest_params(
        [row for row in MANIFEST if row["expected"] in GARBLED_EXPECTATIONS]
    ),
)
def test_assess_text_flags_mojibake_as_garbled(row: dict[str, str]) -> None:
    reason, detail = _assess_row(row)

    assert reason == "garbled_text"
    assert detail is not None
    assert "%" in detail


@pytest.mark.parametrize(
    "row",
    manifest_params(
        [
            row
            for row in MANIFEST
            if expected_outcomes(row) == {"no_text"}
            and row["expected"] not in GARBLED_EXPECTATIONS
        ]
    ),
)
def test_assess_text_flags_missing_text_layer(row: dict[str, str]) -> None:
    reason, _ = _assess_row(row)

    assert reason == "no_text_layer"


@pytest.mark.parametrize("language", sorted(REAL_TEXT))
def test_assess_text_accepts_real_language(language: str) -> None:
    quality = assess_text([normalize_text(REAL_TEXT[language])])

    assert quality.usable, quality.detail
    assert quality.reason is None
    assert quality.detail is None


def test_assess_text_accepts_few_replacement_characters() -> None:
    text = CHINESE + "\ufffd\ufffd" + CHINESE

    quality = assess_text([text])

    assert quality.usable, quality.detail


def test_assess_text_rejects_empty_pages() -> None:
    quality = assess_text(["", " \n "])

    assert quality.reason == "no_text_layer"
    assert quality.stats["visible_chars"] == 0


def test_assess_text_rejects_document_without_pages() -> None:
    quality = assess_text([])

    assert quality.reason == "no_text_layer"


def test_assess_text_rejects_page_numbers_only() -> None:
    pages = [str(number) for number in range(1, 41)]

    quality = assess_text(pages)

    assert quality.reason == "no_text_layer"
    assert quality.detail is not None
    assert "page numbers" in quality.detail


def test_assess_text_accepts_short_single_page() -> None:
    quality = assess_text(["あいうえお"])

    assert quality.usable, quality.detail


def test_assess_text_rejects_private_use_text() -> None:
    quality = assess_text(["\ue021\ue04f\ue06c \ue06c\ue04f\ue021 " * 20])

    assert quality.reason == "garbled_text"
    assert quality.detail is not None
    assert "private-use" in quality.detail


def test_assess_text_rejects_control_characters_as_spaces() -> None:
    # Glyph 3 is the space of TrueType's standard glyph order, so fonts that
    # map glyph numbers instead of Unicode turn spaces into U+0003.
    quality = assess_text(["\x03".join(["3HQ", "SURVWĜHGN", "QD", "Wh", "WHFK"])])

    assert quality.reason == "garbled_text"
    assert quality.detail is not None
    assert "control" in quality.detail


def test_assess_text_rejects_gbk_decoded_as_latin1() -> None:
    mojibake = CHINESE.encode("gbk").decode("latin-1")

    quality = assess_text([normalize_text(mojibake)])

    assert quality.reason == "garbled_text"
    assert quality.detail is not None
    assert "Latin-1" in quality.detail


def test_assess_text_rejects_gbk_codes_as_hangul() -> None:
    codes = CHINESE.encode("gbk")
    code_points = "".join(
        chr(int.from_bytes(codes[index : index + 2], "big"))
        for index in range(0, len(codes) - 1, 2)
    )

    quality = assess_text([normalize_text(code_points)])

    assert quality.reason == "garbled_text"
    assert quality.detail is not None
    assert "Hangul" in quality.detail


def test_assess_text_rejects_scattered_scripts() -> None:
    # Glyph numbers 0x370-0x10FF read as code points: Greek, Cyrillic, Arabic,
    # Indic and other letters, in the order a font happens to store them.
    letters = [chr(code) for code in range(0x370, 0x1100) if chr(code).isalpha()]
    text = "".join(letters[index * 37 % len(letters)] for index in range(400))

    quality = assess_text([text])

    assert quality.reason == "garbled_text"
    assert quality.detail is not None
    assert "writing system" in quality.detail


def test_assess_text_accepts_mixed_english_and_chinese() -> None:
    text = "蒙牛冠益乳原味450g 2700593 340010005 Pure milk 250ml 雨润白条猪肉 " * 10

    quality = assess_text([text])

    assert quality.usable, quality.detail


def test_assess_text_reports_stats() -> None:
    quality = assess_text(["abc \ufffd", "def"])

    assert quality.stats["pages"] == 2
    assert quality.stats["visible_chars"] == 7
    assert quality.stats["replacement_share"] == pytest.approx(1 / 7)
