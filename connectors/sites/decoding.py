"""Decode a fetched page's bytes to Unicode.

The order follows browsers (WHATWG Encoding) with one addition. A byte
order mark wins. Then bytes that are valid UTF-8 and contain non-ASCII
characters are read as UTF-8 whatever the page declares, because text in a
legacy encoding such as GBK or Big5 is almost never valid UTF-8 by chance,
while pages that declare gb2312 and serve UTF-8 are common. Then come the
HTTP header's charset, the meta or XML declaration, and statistical
detection (charset-normalizer) for pages that declare nothing.
Legacy labels map to their supersets as browsers do (gb2312 and GBK to
GB18030, Big5 to Big5-HKSCS, Shift_JIS to cp932, latin-1 to cp1252).
"""

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

# The encoding WHATWG assigns to undeclared pages in Western locales.
FALLBACK_ENCODING = "cp1252"


@dataclass(frozen=True)
class DecodedPage:
    text: str
    encoding: str  # Python codec name actually used
    source: str  # bom, utf8, header, meta, detected or fallback
    declared: str | None  # the header's charset, else the page's own


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    resolved = resolve_encoding(label)
    if resolved is None:
        return None
    try:
        return codecs.lookup(resolved).name
    except LookupError:
        return None


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_page(body: bytes, content_type: str | None) -> DecodedPage:
    """Decode `body`, served with the Content-Type header `content_type`."""
    header_label = http_content_type_encoding(content_type) if content_type else None
    meta_label = html_body_declared_encoding(body)
    declared = header_label or meta_label

    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None:
        text = body[len(bom) :].decode(bom_encoding, errors="replace")
        return DecodedPage(text, codecs.lookup(bom_encoding).name, "bom", declared)

    if not body.isascii():
        text = _strict(body, "utf-8")
        if text is not None:
            return DecodedPage(text, "utf-8", "utf8", declared)

    for label, source in ((header_label, "header"), (meta_label, "meta")):
        encoding = _codec(label)
        if encoding is None:
            continue
        text = _strict(body, encoding)
        if text is not None:
            return DecodedPage(text, encoding, source, declared)

    if body.isascii():
        return DecodedPage(body.decode("ascii"), "ascii", "detected", declared)

    best = from_bytes(body).best()
    encoding = _codec(best.encoding) if best is not None else None
    if encoding is not None:
        text = _strict(body, encoding)
        if text is not None:
            return DecodedPage(text, encoding, "detected", declared)

    # Nothing decodes cleanly: keep the declared (or fallback) reading and
    # replace the bytes that do not fit, so the page still gets indexed.
    encoding = _codec(declared) or FALLBACK_ENCODING
    return DecodedPage(
        body.decode(encoding, errors="replace"), encoding, "fallback", declared
    )
