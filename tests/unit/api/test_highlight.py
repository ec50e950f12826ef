"""Highlighted titles and snippets."""

from api.highlight import highlight, snippet


def test_highlight_marks_term() -> None:
    assert highlight("Chaz Kangeroo Hoodie", ["hoodie"]) == (
        "Chaz Kangeroo <mark>Hoodie</mark>"
    )


def test_highlight_marks_plural_of_term() -> None:
    assert highlight("Warm hoodies", ["hoodie"]) == "Warm <mark>hoodies</mark>"


def test_highlight_escapes_html() -> None:
    assert highlight("<b>Mug</b>", ["mug"]) == "&lt;b&gt;<mark>Mug</mark>&lt;/b&gt;"


def test_highlight_traditional_text_keeps_original() -> None:
    assert highlight("無線藍牙耳機", ["蓝牙"]) == "無線<mark>藍牙</mark>耳機"


def test_highlight_full_width_text() -> None:
    assert highlight("ＵＳＢ充电器", ["usb"]) == "<mark>ＵＳＢ</mark>充电器"


def test_highlight_without_terms() -> None:
    assert highlight("Mug", []) == "Mug"


def test_snippet_centres_on_term() -> None:
    text = "filler " * 60 + "waterproof shell" + " filler" * 60
    result = snippet(text, ["waterproof"], width=80)

    assert result.startswith("…")
    assert result.endswith("…")
    assert "<mark>waterproof</mark>" in result


def test_snippet_without_match_starts_at_beginning() -> None:
    assert snippet("A short text", ["absent"]) == "A short text"
