"""Chunking of page text: page boundaries, sizes, overlap and CJK text."""

import random

import pytest

from streams.chunking import Chunk, chunk_pages, split_page
from tidings.fulltext import normalize


def numbered_words(count: int, seed: int = 7) -> str:
    """Return English-like text whose words are unique, so every chunk is
    found at exactly one place in it."""
    rng = random.Random(seed)
    words = []
    for number in range(count):
        stem = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 10)))
        words.append(f"{stem}{number}")
    return " ".join(words)


def sentences(count: int) -> str:
    return " ".join(f"Sentence number {n} says something short." for n in range(count))


def chinese(count: int) -> str:
    base = "北京是中国的首都也是一座历史悠久的城市人口众多交通发达"
    return (base * (count // len(base) + 1))[:count]


def spans(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Return the (start, end) of each piece in the text, searching forward."""
    found = []
    position = 0
    for piece in pieces:
        start = text.find(piece, position)
        assert start >= 0, f"chunk {piece[:30]!r} is not in the page text"
        found.append((start, start + len(piece)))
        position = start + 1
    return found


# Pages


def test_chunks_stay_in_page() -> None:
    pages = [numbered_words(300, seed=1), numbered_words(300, seed=2)]
    for chunk in chunk_pages(pages, size=120, overlap=20):
        assert chunk.text in normalize(pages[chunk.page - 1])


def test_no_chunk_spans_pages() -> None:
    pages = ["alpha " * 30 + "ENDONE", "STARTTWO " + "beta " * 30]
    for chunk in chunk_pages(pages, size=100, overlap=10):
        if chunk.page == 1:
            assert "STARTTWO" not in chunk.text
        else:
            assert "ENDONE" not in chunk.text


def test_page_numbers_one_based() -> None:
    pages = ["first page text", "second page text", "third page text"]
    assert [chunk.page for chunk in chunk_pages(pages, 100, 10)] == [1, 2, 3]


def test_indexes_sequential_across_pages() -> None:
    pages = [numbered_words(100, seed=1), numbered_words(100, seed=2)]
    chunks = chunk_pages(pages, size=150, overlap=30)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        (["", "text on two"], [Chunk(0, 2, "text on two")]),
        (["  \n\t ", "x"], [Chunk(0, 2, "x")]),
        (["a", "", "", "d"], [Chunk(0, 1, "a"), Chunk(1, 4, "d")]),
        (["", "\u3000"], []),
        ([], []),
    ],
)
def test_empty_pages_skipped(pages: list[str], expected: list[Chunk]) -> None:
    assert chunk_pages(pages, size=100, overlap=10) == expected


def test_short_page_one_chunk() -> None:
    assert split_page("  A short   page.\n", 100, 10) == ["A short page."]


# Size


@pytest.mark.parametrize(
    ("text", "size", "overlap"),
    [
        (numbered_words(500), 100, 0),
        (numbered_words(500), 100, 30),
        (numbered_words(500), 100, 99),
        (numbered_words(2000), 800, 120),
        (sentences(100), 150, 40),
        (chinese(3000), 100, 20),
        (chinese(3000), 800, 120),
        ("x" * 5000, 100, 10),
        (numbered_words(200) + chinese(500) + numbered_words(200), 200, 50),
    ],
)
def test_chunk_not_longer_than_size(text: str, size: int, overlap: int) -> None:
    for piece in split_page(text, size, overlap):
        assert len(piece) <= size


@pytest.mark.parametrize(("size", "overlap"), [(100, 100), (100, 101), (800, 900)])
def test_overlap_not_below_size_raises(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="TIDINGS_CHUNK_OVERLAP") as error:
        chunk_pages(["some text"], size=size, overlap=overlap)
    assert str(size) in str(error.value)


def test_overlap_check_without_pages() -> None:
    with pytest.raises(ValueError, match="TIDINGS_CHUNK_OVERLAP"):
        chunk_pages([], size=100, overlap=100)


# Overlap


def test_zero_overlap_rebuilds_text() -> None:
    text = numbered_words(800)
    assert " ".join(split_page(text, 100, 0)) == text


def test_zero_overlap_shares_nothing() -> None:
    text = numbered_words(800)
    found = spans(text, split_page(text, 100, 0))
    for (_, end), (next_start, _) in zip(found, found[1:], strict=False):
        assert next_start > end - 1


@pytest.mark.parametrize(("size", "overlap"), [(100, 20), (100, 60), (800, 120)])
def test_neighbours_share_overlap(size: int, overlap: int) -> None:
    text = numbered_words(3000)
    found = spans(text, split_page(text, size, overlap))
    for (_, end), (next_start, _) in zip(found, found[1:], strict=False):
        shared = end - next_start
        # The next chunk starts `overlap` characters back, moved forward to
        # the next word start when that is close.
        assert shared <= overlap
        assert shared >= overlap // 3


@pytest.mark.parametrize(("size", "overlap"), [(100, 0), (100, 30), (800, 120)])
def test_chunks_cover_whole_page(size: int, overlap: int) -> None:
    text = numbered_words(1500)
    found = spans(text, split_page(text, size, overlap))
    assert found[0][0] == 0
    assert found[-1][1] == len(text)
    for (_, end), (next_start, _) in zip(found, found[1:], strict=False):
        # At most the one space between two words is left out.
        assert next_start <= end + 1


def test_chunk_starts_at_word() -> None:
    text = numbered_words(1500)
    words = set(text.split())
    for piece in split_page(text, 200, 40):
        assert piece.split()[0] in words


# Where chunks end


def test_chunk_ends_at_sentence() -> None:
    pieces = split_page(sentences(60), 150, 30)
    for piece in pieces[:-1]:
        assert piece.endswith(".")


def test_chinese_without_spaces_split() -> None:
    text = chinese(1000)
    pieces = split_page(text, 100, 0)
    assert len(pieces) == 10
    assert "".join(pieces) == text


def test_chinese_overlap_split() -> None:
    text = chinese(1000)
    pieces = split_page(text, 100, 20)
    assert len(pieces) > 10
    for piece in pieces:
        assert piece in text


def test_chinese_ends_at_full_stop() -> None:
    text = "甲" * 80 + "。" + "乙" * 100
    assert split_page(text, 100, 10)[0] == "甲" * 80 + "。"


@pytest.mark.parametrize("mark", ["！", "？", "；"])
def test_chinese_ends_at_fullwidth_mark(mark: str) -> None:
    text = "甲" * 80 + mark + "乙" * 100
    first = split_page(text, 100, 10)[0]
    assert first == "甲" * 80 + normalize(mark)


def test_chunk_text_normalized() -> None:
    pieces = split_page("Ｔｉｄｉｎｇｓ\u00a0 search\n\n１２３", 100, 10)
    assert pieces == ["Tidings search 123"]
