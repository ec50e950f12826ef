"""Name normalisation (width, script, suffixes) and comparison."""

import pytest
from rapidfuzz import fuzz

from connectors.verification.errors import NameMatchError, NameNormalizationError
from connectors.verification.names import (
    ChineseConverter,
    compare_names,
    fold_text,
    guarded_fuzz,
    normalize_name,
    normalize_query,
    transliterate,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Huawei Technologies Co., Ltd.", "huawei technologies"),
        ("ACME   Trading  LIMITED", "acme trading"),
        ("Acme L.L.C.", "acme"),
        ("Acme Holdings Inc", "acme holdings"),
        ("Siemens AG", "siemens"),
        ("ＡＢＣ　Ｔｒａｄｉｎｇ　Ｌｔｄ．", "abc trading"),
        ("华为技术有限公司", "华为技术"),
        ("華為技術有限公司", "华为技术"),
        ("华为 技术 有限公司", "华为技术"),
        ("深圳示例科技有限责任公司", "深圳示例科技"),
        ("台灣積體電路製造股份有限公司", "台湾积体电路制造"),
        ("阿里巴巴（中国）网络技术有限公司", "阿里巴巴中国网络技术"),
        ("Company Ltd", "company"),
        ("公司", "公司"),
    ],
)
def test_normalize_company(name: str, expected: str) -> None:
    assert normalize_name(name, "company") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dr. Zhang San", "zhang san"),
        ("  Li   Wei ", "li wei"),
        ("張三", "张三"),
        ("Mr", "mr"),
    ],
)
def test_normalize_person(name: str, expected: str) -> None:
    assert normalize_name(name, "person") == expected


def test_person_keeps_company_words() -> None:
    assert normalize_name("Co Ltd", "person") == "co ltd"


def test_query_folds_width_script_case() -> None:
    assert normalize_query("  ＡＣＭＥ   詐騙 ") == normalize_query("acme 诈骗")


def test_fold_replaces_surrogates() -> None:
    assert fold_text("\ud800臺") == "\ufffd台"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("華為技術有限公司", "华为技术有限公司"),
        ("Huawei Technologies Co., Ltd.", "HUAWEI TECHNOLOGIES CO LTD"),
        ("华为技术有限公司", "Huawei Jishu Co Ltd"),
    ],
)
def test_compare_equivalent_companies(left: str, right: str) -> None:
    assert compare_names(left, right).score == 100.0


def test_compare_exact_flag() -> None:
    assert compare_names("Acme Ltd", "ACME Limited").exact


def test_compare_word_order_ignored() -> None:
    assert compare_names("Ivanov Sergei", "Sergei Ivanov", "person").score == 100.0


def test_compare_cyrillic_transliteration() -> None:
    assert compare_names("Сергей Иванов", "Sergei Ivanov", "person").score >= 90.0


def test_compare_different_companies() -> None:
    assert compare_names("Acme Trading Ltd", "Apex Shipping Ltd").score < 70.0


def test_transliterate_splits_syllables() -> None:
    assert transliterate("华为技术") == "hua wei ji shu"


def test_opencc_bad_config_translated() -> None:
    with pytest.raises(NameNormalizationError, match="no-such-config"):
        ChineseConverter("no-such-config")


def test_opencc_convert_error_translated() -> None:
    with pytest.raises(NameNormalizationError, match="lone surrogates") as caught:
        ChineseConverter("t2s").convert("\ud800")

    assert isinstance(caught.value.__cause__, UnicodeEncodeError)


def test_rapidfuzz_error_translated() -> None:
    with pytest.raises(NameMatchError, match="both names must be str") as caught:
        guarded_fuzz(fuzz.ratio, 42, "acme")  # type: ignore[arg-type]

    assert isinstance(caught.value.__cause__, TypeError)
