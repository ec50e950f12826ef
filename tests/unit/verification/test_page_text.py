"""Visible text and contact links of HTML pages."""

from connectors.verification.page_text import parse_page, phone_digits

PAGE = """
<html><head><title>Acme Ltd | 深圳示例科技</title>
<style>.x { content: "hidden fraud" }</style>
<script>var note = "invisible@example.test";</script></head>
<body><h1>Acme&nbsp;Ltd</h1>
<p>Call +86 755 1234 5678 or write to sales@acme.test.</p>
<a href="mailto:Info@Acme.test?subject=hi">mail</a>
<a href="tel:0755-87654321">phone</a>
</body></html>
"""


def test_title_extracted() -> None:
    assert parse_page(PAGE).title == "Acme Ltd | 深圳示例科技"


def test_hidden_text_skipped() -> None:
    text = parse_page(PAGE).text

    assert "hidden fraud" not in text
    assert "invisible@example.test" not in text


def test_entities_decoded() -> None:
    # &nbsp; becomes U+00A0, which the text treats as a space.
    assert "Acme Ltd Call" in parse_page(PAGE).text


def test_emails_from_text_and_links() -> None:
    assert parse_page(PAGE).emails == {"sales@acme.test", "info@acme.test"}


def test_phones_from_text_and_links() -> None:
    phones = {phone_digits(phone) for phone in parse_page(PAGE).phones}

    assert phones == {"8675512345678", "075587654321"}
