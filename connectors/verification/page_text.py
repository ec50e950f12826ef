"""Visible text, title and contact links of an HTML page, with the stdlib parser."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template"})
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Runs of digits with the usual separators, at least 7 digits long.
PHONE = re.compile(r"\+?\d[\d\s().\-]{5,}\d")


@dataclass
class PageText:
    title: str = ""
    text: str = ""
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self.links: list[str] = []
        self._hidden_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS and self._hidden_depth:
            self._hidden_depth -= 1
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        if self._in_title:
            self.title_parts.append(data)
        self.parts.append(data)


def parse_page(html: str) -> PageText:
    """Return the page's title, visible text, e-mail addresses and phone numbers.

    Addresses and numbers come from the text and from mailto: and tel: links.
    """
    parser = _PageParser()
    parser.feed(html)
    parser.close()

    text = " ".join(" ".join(parser.parts).split())
    page = PageText(title=" ".join("".join(parser.title_parts).split()), text=text)
    page.emails.update(match.lower() for match in EMAIL.findall(text))
    page.phones.update(PHONE.findall(text))
    for link in parser.links:
        scheme, _, target = link.partition(":")
        if scheme.lower() == "mailto" and target:
            page.emails.add(target.split("?", 1)[0].strip().lower())
        elif scheme.lower() == "tel" and target:
            page.phones.add(target.strip())
    return page


def phone_digits(phone: str) -> str:
    return "".join(character for character in phone if character.isdigit())
