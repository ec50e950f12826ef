"""How the CLI's HTTP client words the API's validation errors."""

from tidings.client import describe_validation_error, shorten


def test_field_value_and_message() -> None:
    error = {
        "type": "literal_error",
        "loc": ["body", "subject", "kind"],
        "msg": "Input should be 'company', 'person' or 'merchant'",
        "input": "corp",
    }

    assert describe_validation_error(error) == (
        "subject.kind 'corp': Input should be 'company', 'person' or 'merchant'"
    )


def test_missing_field_without_value() -> None:
    error = {
        "type": "missing",
        "loc": ["query", "q"],
        "msg": "Field required",
        "input": None,
    }

    assert describe_validation_error(error) == "q: Field required"


def test_value_error_prefix_dropped() -> None:
    error = {
        "type": "value_error",
        "loc": ["body", "subject", "name"],
        "msg": "Value error, the subject's name is blank; give the name to verify",
        "input": " ",
    }

    assert describe_validation_error(error) == (
        "subject.name ' ': the subject's name is blank; give the name to verify"
    )


def test_shorten_cuts_long_values() -> None:
    text = shorten("x" * 100)

    assert len(text) == 60
    assert text.endswith("...")
    assert shorten("short") == "'short'"
