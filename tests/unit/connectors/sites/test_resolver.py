"""The DNS resolver that checks the address Twisted connects to."""

import pytest
from twisted.internet.error import DNSLookupError

from connectors.sites.resolver import GuardedResolver


def resolver(*allow: str) -> GuardedResolver:
    # check_address uses no reactor, so none is needed here.
    return GuardedResolver(None, 0, 1.0, list(allow))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "192.168.1.1"]
)
def test_internal_answer_rejected(address: str) -> None:
    with pytest.raises(DNSLookupError, match=address):
        resolver().check_address(address, "rebind.example")


def test_public_answer_passes() -> None:
    assert resolver().check_address("93.184.216.34", "site.example") == "93.184.216.34"


def test_allow_listed_answer_passes() -> None:
    allowed = resolver("127.0.0.0/8")

    assert allowed.check_address("127.0.0.1", "localhost") == "127.0.0.1"
