"""Split page text into overlapping chunks that never cross a page boundary.

Keeping each chunk inside one page is what lets a search hit name its page.
"""

from dataclasses import dataclass

from tidings.fulltext import normalize

# Preferred places to end a chunk, strongest first. The text is NFKC-folded
# by then, so full-width ！？； arrive as ASCII, with no space after them in
# Chinese text.
_SENTENCE_ENDS = ("。", ". ", "!", "?", ";")


@dataclass(frozen=True)
class Chunk:
    index: int
    page: int  # 1-based page number
    text: str


def _cut_point(text: str, start: int, size: int) -> int:
    """Pick where the chunk starting at `start` ends: a sentence end or a space
    in the last third of the window, else the hard limit."""
    end = start + size
    if end >= len(text):
        return len(text)

    window_floor = start + (size * 2) // 3
    for mark in _SENTENCE_ENDS:
        found = text.rfind(mark, window_floor, end)
        if found != -1:
            return found + len(mark)
    space = text.rfind(" ", window_floor, end)
    return space + 1 if space != -1 else end


def split_page(text: str, size: int, overlap: int) -> list[str]:
    text = normalize(text)
    if not text:
        return []

    pieces = []
    start = 0
    while start < len(text):
        end = _cut_point(text, start, size)
        pieces.append(text[start:end].strip())
        if end >= len(text):
            break
        # Step back by the overlap, but always move forward.
        start = max(end - overlap, start + 1)
        space = text.find(" ", start, end)
        if space != -1 and space - start < overlap // 2:
            start = space + 1
    return [piece for piece in pieces if piece]


def chunk_pages(pages: list[str], size: int, overlap: int) -> list[Chunk]:
    if overlap >= size:
        raise ValueError(
            f"chunk overlap {overlap} must be smaller than chunk size {size}; "
            "lower TIDINGS_CHUNK_OVERLAP"
        )

    chunks = []
    for page_number, page_text in enumerate(pages, start=1):
        for piece in split_page(page_text, size, overlap):
            chunks.append(Chunk(index=len(chunks), page=page_number, text=piece))
    return chunks
