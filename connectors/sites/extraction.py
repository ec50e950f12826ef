"""Main-text extraction: boilerplate (menus, footers, cookie banners,
comments) removed with trafilatura."""

from dataclasses import dataclass

import trafilatura
from lxml import html as lxml_html
from lxml.etree import ParserError


@dataclass(frozen=True)
class ExtractedText:
    title: str
    text: str
    language: str | None


def _page_title(markup: str) -> str:
    try:
        tree = lxml_html.fromstring(markup)
    except (ParserError, ValueError):
        return ""
    titles = tree.xpath("//title")
    if titles:
        return " ".join(titles[0].text_content().split())
    headings = tree.xpath("//h1")
    return " ".join(headings[0].text_content().split()) if headings else ""


def extract_main_text(markup: str, url: str) -> ExtractedText:
    """Return the page's title and its main text, paragraphs separated by
    blank lines; the text is empty when the page has no main content."""
    # favor_recall keeps short pages (a product page, a table of contents)
    # that precision mode drops as boilerplate.
    document = trafilatura.bare_extraction(
        markup,
        url=url,
        include_comments=False,
        include_tables=True,
        favor_recall=True,
        with_metadata=True,
    )
    title = _page_title(markup)
    if document is None:
        return ExtractedText(title=title, text="", language=None)

    # Markup indentation survives inside paragraphs; keep one line per block.
    lines = (line.strip() for line in (document.text or "").splitlines())
    return ExtractedText(
        title=title or (document.title or ""),
        text="\n".join(line for line in lines if line),
        language=document.language,
    )
